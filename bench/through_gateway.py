"""The platform benchmark: dossiers submitted through intake's HTTP API (via the gateway) until records holds each.

Phase "top": K dossiers with concurrency C, as fast as the platform takes them: dossiers per second (submitted and
recorded), p50/p95/p99 submit latency, p50/p95/p99 submit-to-recorded lag. Phase "half": the same at half the
recorded rate of the first phase, paced: the lag percentiles a steady load sees.

The platform runs as processes (deploy/local/platform.sh) on its own ports against the benchmark's Kafka and FerretDB;
the recorded time of each dossier is its records summary's `recorded_at` (when records first held it), and the
platform's event throughput counts every entry records' timeline took in during the phase (the dossiers' own events
and their notification outcomes).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from hoso_dev.keys import mint_token
from hoso_dev.walkthrough import DOCX, PDF, docx_bytes, pdf_bytes
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from bench.replay import Counters, counters, lifecycles, replay
from hoso.auth import Role
from hoso.mongo import Document
from hoso.store import Store

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_PORT = 28080
SERVICES = ("intake", "review", "notify", "records")


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"p50": round(cuts[49], 4), "p95": round(cuts[94], 4), "p99": round(cuts[98], 4)}


@dataclass
class BenchPlatform:
    state: Path
    env: dict[str, str]
    run_id: str

    def run(self, command: str) -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "deploy/local/platform.sh"), command],
            env=self.env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"platform {command} failed:\n{done.stderr[-3000:]}")


def start_platform() -> BenchPlatform:
    state = ROOT / ".local" / "bench-platform"
    subprocess.run(["rm", "-rf", str(state)], check=True)
    state.mkdir(parents=True)
    run_id = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update(
        HOSO_STATE=str(state), HOSO_STATE_DIR=str(state), HOSO_KEEP_INFRA="1", HOSO_LOCAL_MODE="1",
        HOSO_GATEWAY_PORT=str(GATEWAY_PORT), HOSO_SMTP_PORT="21025", KAFKA_TOPIC_PREFIX=f"bench-{run_id}.",
        HOSO_LOG_LEVEL="WARNING",
        # One applicant files every dossier here: no per-recipient throttling of their e-mails.
        NOTIFY_RECIPIENT_PER_MINUTE="60000", NOTIFY_RECIPIENT_BURST="10000",
        PORTAL_HTTP_PORT="28005", PORTAL_MONGODB_DATABASE=f"bench_{run_id}_portal",
    )  # fmt: skip
    for n, service in enumerate(SERVICES, start=1):
        env[f"{service.upper()}_HTTP_PORT"] = str(28000 + n)
        env[f"{service.upper()}_WORKER_HTTP_PORT"] = str(28100 + n)
        env[f"{service.upper()}_MONGODB_DATABASE"] = f"bench_{run_id}_{service}"
    platform = BenchPlatform(state, env, run_id)
    platform.run("up")
    return platform


async def prepare(http: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    """The submission bodies, their files uploaded beforehand (uploads are not what is measured)."""

    async def upload(name: str, content: bytes, content_type: str) -> str:
        answer = await http.post("/api/v1/files", files={"file": (name, content, content_type)}, headers=headers)
        answer.raise_for_status()
        return str(answer.json()["id"])

    letter, report, study = pdf_bytes("Văn bản đề nghị"), docx_bytes(), pdf_bytes("Nghiên cứu khả thi")
    bodies = []
    for n in range(count):
        files = await asyncio.gather(
            upload("de-nghi.pdf", letter, PDF), upload("dtm.docx", report, DOCX), upload("nckt.pdf", study, PDF)
        )
        bodies.append(
            {
                "procedure_code": "MT-DTM-BO",
                "components": [
                    {"code": "request_letter", "file_ids": [files[0]]},
                    {"code": "eia_report", "file_ids": [files[1]]},
                    {"code": "feasibility_study", "file_ids": [files[2]]},
                ],
                "fields": {"project_name": f"Dự án {n}", "project_location": "Ninh Thuận", "project_group": "I",
                           "total_investment_vnd": 50_000_000_000, "project_type": "5"},
            }
        )  # fmt: skip
    return bodies


async def submit_all(
    http: httpx.AsyncClient, headers: dict[str, str], bodies: list[dict[str, Any]], concurrency: int, rate: float | None
) -> tuple[dict[str, float], list[float], float, float]:
    """Submit every body; returns (dossier id -> time submitted, latencies, start, end)."""
    submitted: dict[str, float] = {}
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    start = time.time()

    async def one(n: int, body: dict[str, Any]) -> None:
        if rate is not None:
            await asyncio.sleep(max(0.0, start + n / rate - time.time()))
        async with gate:
            began = time.time()
            key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
            answer = await http.post("/api/v1/dossiers", json=body, headers={**headers, **key})
            answer.raise_for_status()
            latencies.append(time.time() - began)
            submitted[answer.json()["id"]] = time.time()

    await asyncio.gather(*(one(n, b) for n, b in enumerate(bodies)))
    return submitted, latencies, start, time.time()


async def recorded_times(records: AsyncDatabase[Document], ids: set[str], wait_seconds: float) -> dict[str, float]:
    """When records first held each dossier (its summary's `recorded_at`), looked up by `_id`."""
    found: dict[str, float] = {}
    deadline = time.time() + wait_seconds
    while len(found) < len(ids) and time.time() < deadline:
        summaries = await Store(records).table("dossiers").get_many(ids - set(found), projection={"recorded_at": 1})
        found.update({i: d["recorded_at"].timestamp() for i, d in summaries.items()})
        await asyncio.sleep(0.2)
    return found


async def recorded_events(
    records: AsyncDatabase[Document], since: datetime, quiet_seconds: float = 10.0
) -> list[float]:
    """The recorded times of every timeline entry since `since`, once no new one came for `quiet_seconds` (so the
    next phase starts on an idle platform)."""
    count, settled = -1, time.time()
    while True:
        now = await records["timeline"].count_documents({})
        if now != count:
            count, settled = now, time.time()
        elif time.time() - settled >= quiet_seconds:
            break
        await asyncio.sleep(0.5)
    cursor = records["timeline"].find({"recorded_at": {"$gte": since}}, projection={"recorded_at": 1})
    return [entry["recorded_at"].timestamp() async for entry in cursor]


async def phase(
    records: AsyncDatabase[Document], http: httpx.AsyncClient, headers: dict[str, str], count: int, concurrency: int,
    rate: float | None, measured: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One phase's figures; with `measured`, also what the servers counted during it and each dossier's events."""
    bodies = await prepare(http, headers, count)
    began = datetime.now(UTC)
    before = await server_counters() if measured is not None else None
    submitted, latencies, start, end = await submit_all(http, headers, bodies, concurrency, rate)
    recorded = await recorded_times(records, set(submitted), wait_seconds=900)
    events = await recorded_events(records, began)
    if measured is not None and before is not None:
        measured["counted"] = (await server_counters()).since(before)
        measured["stories"] = await lifecycles(records, sorted(submitted))
        # Every event of every dossier recorded (the quiet wait after the last one is not counted).
        measured["dossiers_per_s"] = round(count / (max(events, default=end) - start), 2)
    lags = [recorded[d] - submitted[d] for d in recorded]
    last = max(recorded.values()) if recorded else end
    return {
        "dossiers": count,
        "recorded": len(recorded),
        "concurrency": concurrency,
        "target_rate_per_s": None if rate is None else round(rate, 2),
        "submitted_per_s": round(count / (end - start), 2),
        "recorded_per_s": round(len(recorded) / (last - start), 2),
        # Every event records took in: the dossiers' own and their notification outcomes.
        "events_recorded": len(events),
        "events_per_s": round(len(events) / (max(events, default=end) - start), 1),
        "submit_latency_s": percentiles(latencies),
        "submit_to_recorded_lag_s": percentiles(lags),
    }


async def run(count: int, concurrency: int) -> dict[str, Any]:
    platform = start_platform()
    try:
        token = mint_token(
            platform.state, subject="bench-applicant", roles=[Role.APPLICANT], agency=None,
            issuer="hoso-local", audience="hoso", email="bench@example.vn",
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        client: AsyncMongoClient[Document] = AsyncMongoClient(platform.env["MONGODB_URL"], tz_aware=True)
        records = client[f"bench_{platform.run_id}_records"]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{GATEWAY_PORT}", timeout=120) as http:
                measured: dict[str, Any] = {}
                top = await phase(records, http, headers, count, concurrency, rate=None, measured=measured)
                half_rate = max(top["recorded_per_s"] / 2, 0.5)
                half = await phase(records, http, headers, max(count // 2, 10), concurrency, half_rate)
        finally:
            await client.close()
    finally:
        platform.run("down")
    # The yardstick, on the same servers once the platform has stopped: the minimal operations of what it ran.
    before = await server_counters()
    minimal = await replay(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.env["MONGODB_URL"], measured["stories"],
                           concurrency)  # fmt: skip
    replayed = (await server_counters()).since(before)
    per_dossier = {
        "platform": per(measured["counted"], count),
        "replay": per(replayed, count),
    }
    return {
        "top": top,
        "half_rate": half,
        "replay": minimal,
        "per_dossier": per_dossier,
        "platform_dossiers_per_s": measured["dossiers_per_s"],
        "platform_to_replay": round(measured["dossiers_per_s"] / minimal["dossiers_per_s"], 3),
    }


def per(counted: dict[str, Any], dossiers: int) -> dict[str, Any]:
    """What the servers counted, per dossier."""
    return {
        "database_commands": round(counted["database_commands"] / dossiers, 1),
        "kafka_messages": round(counted["kafka_messages"] / dossiers, 2),
        "by_command": {c: round(n / dossiers, 1) for c, n in counted["by_command"].items()},
    }


async def server_counters() -> Counters:
    return await counters(os.environ.get("HOSO_FERRETDB_DEBUG_ADDR", "127.0.0.1:27099"),
                          os.environ["KAFKA_BOOTSTRAP_SERVERS"])  # fmt: skip
