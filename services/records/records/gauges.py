"""Dossiers by status and overdue dossiers as Prometheus gauges, refreshed by the records worker."""

from __future__ import annotations

import asyncio

from hoso.faults import is_transient
from hoso.logs import get_logger
from hoso.metrics import DOSSIERS, DOSSIERS_OVERDUE
from hoso.mongo import bson_now
from records.repository import RecordsRepository

log = get_logger(__name__)


async def refresh_gauges(repo: RecordsRepository) -> None:
    by_status, overdue = await repo.status_counts(bson_now())
    for (agency, status), count in by_status.items():
        DOSSIERS.labels(agency, str(status)).set(count)
    for agency, count in overdue.items():
        DOSSIERS_OVERDUE.labels(agency).set(count)


async def watch_dossiers(repo: RecordsRepository, interval: float) -> None:
    while True:
        try:
            await refresh_gauges(repo)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("records.gauges_failed")
        await asyncio.sleep(interval)
