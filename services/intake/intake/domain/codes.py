"""Dossier codes `<agency>-<YYMMDD>-<NNNN>` (Circular 01/2018/TT-VPCP Art. 19): unique and in order per agency per
day; a number given back when its dossier could not be stored is taken again, one claimed by a process that died
before storing its dossier stays unused (its slot names the dossier id and the time)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

AGENCY_CODE_PATTERN = r"^[A-Z0-9]{1,12}(\.[A-Z0-9]{1,12}){0,5}$"
MAX_SEQUENCE = 9999
_CODE = re.compile(r"^(?P<agency>[A-Z0-9.]+)-(?P<day>\d{6})-(?P<seq>\d{4})$")


class SequenceExhausted(Exception):
    """The agency has used all 9999 numbers of the day."""


def service_day(moment: datetime, timezone: str = "Asia/Ho_Chi_Minh") -> date:
    """The calendar day of `moment` at the agency (codes follow the local day, not UTC)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def format_dossier_code(agency_code: str, day: date, sequence: int) -> str:
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise SequenceExhausted(f"sequence {sequence} is outside 1..{MAX_SEQUENCE} for {agency_code} on {day}")
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


def parse_dossier_code(code: str) -> tuple[str, str, int] | None:
    match = _CODE.match(code)
    if match is None:
        return None
    return match["agency"], match["day"], int(match["seq"])
