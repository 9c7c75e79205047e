"""The procedure catalog as the portal shows it, read from the public API and kept for a minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from portal.api_client import PlatformApi


class CatalogView:
    def __init__(self, api: PlatformApi, *, ttl_seconds: float = 60.0) -> None:
        self._api = api
        self._ttl = ttl_seconds
        self._summaries: tuple[float, dict[str, dict[str, Any]]] | None = None
        self._versions: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    async def summaries(self) -> dict[str, dict[str, Any]]:
        """The procedures in force by code."""
        async with self._lock:
            if self._summaries is None or time.monotonic() - self._summaries[0] > self._ttl:
                items = await self._api.procedures()
                self._summaries = (time.monotonic(), {p["procedure_code"]: p for p in items})
            return self._summaries[1]

    async def procedure(self, code: str, day: date | None = None) -> dict[str, Any]:
        """The API's answer for `code` on `day`: the version in force then and the list of versions."""
        key = (code, day.isoformat() if day else "")
        cached = self._versions.get(key)
        if cached is not None and time.monotonic() - cached[0] <= self._ttl:
            return cached[1]
        answer: dict[str, Any] = await self._api.procedure(code, on=day)
        self._versions[key] = (time.monotonic(), answer)
        if len(self._versions) > 500:
            self._versions.pop(next(iter(self._versions)))
        return answer

    async def version_on(self, code: str, day: date | None = None) -> dict[str, Any]:
        """The version of `code` in force on `day` (a dossier's own version: the one in force when it was filed)."""
        version: dict[str, Any] = (await self.procedure(code, day))["in_force"]
        return version

    async def name(self, code: str, language: str) -> str:
        summary = (await self.summaries()).get(code)
        if summary is None:
            return code
        return str(summary["name_en"] if language == "en" else summary["name_vi"])


def fee_inputs(version: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str] | None:
    """The fields a fee by investment or by choice depends on, from `values` (a form's, a draft's) as text; None when
    the procedure's fee depends on no field."""
    fee = version["fee"]
    if fee["kind"] == "by_investment":
        names: tuple[str, ...] = (fee["investment_field"], fee["column_field"])
    elif fee["kind"] == "by_choice":
        names = (fee["column_field"],)
    else:
        return None
    return {name: str(values.get(name) or "").strip() for name in names}
