"""Dossier codes `<agency identifier>-<YYMMDD>-<NNNN>` (Circular 01/2018/TT-VPCP Art. 19): the receiving agency's
electronic identifier, the day of receipt and the number of the day. Unique and in order per agency per day; a number
given back when its dossier could not be stored is taken again, one claimed by a process that died before storing its
dossier stays unused (its slot names the dossier id and the time).

The identifier is the one assigned in the national format (QCVN 102:2016/BTTTT, issued by Circular 10/2016/TT-BTTTT:
`V1V2V3.Z1Z2.Y1Y2.A1A2A3`, levels 4 to 1, e.g. `000.00.00.H49` for a province's People's Committee). It is
configuration: an agency without one configured is numbered under its routing code (`BNNMT`, `UBND.HN`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import StringConstraints

AGENCY_CODE_PATTERN = r"^[A-Z0-9]{1,12}(\.[A-Z0-9]{1,12}){0,5}$"
AGENCY_IDENTIFIER_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
DOSSIER_CODE_PATTERN = r"^[A-Z0-9.]+-\d{6}-\d{4}$"
MAX_SEQUENCE = 9999
_CODE = re.compile(r"^(?P<agency>[A-Z0-9.]+)-(?P<day>\d{6})-(?P<seq>\d{4})$")

AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE_PATTERN)]
AgencyIdentifier = Annotated[str, StringConstraints(pattern=AGENCY_IDENTIFIER_PATTERN)]


class SequenceExhausted(Exception):
    """The agency has used all 9999 numbers of the day."""


def service_day(moment: datetime, timezone: str = "Asia/Ho_Chi_Minh") -> date:
    """The calendar day of `moment` at the agency (codes follow the local day, not UTC)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def format_dossier_code(prefix: str, day: date, sequence: int) -> str:
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise SequenceExhausted(f"sequence {sequence} is outside 1..{MAX_SEQUENCE} for {prefix} on {day}")
    return f"{prefix}-{day:%y%m%d}-{sequence:04d}"


def parse_dossier_code(code: str) -> tuple[str, str, int] | None:
    match = _CODE.match(code)
    if match is None:
        return None
    return match["agency"], match["day"], int(match["seq"])


class DossierCodes:
    """The codes of the agencies as configured: each agency's identifier leads its dossiers' codes.

    The numbers stay per agency and day whatever leads the code, so an identifier configured during the day goes on
    from the day's last number rather than starting again at 0001."""

    def __init__(self, identifiers: Mapping[str, str] | None = None) -> None:
        self._identifiers = dict(identifiers or {})
        self._agencies: dict[str, str] = {}
        for agency, identifier in sorted(self._identifiers.items()):
            if identifier in self._agencies:
                raise ValueError(
                    f"agency identifier {identifier} is configured for both {self._agencies[identifier]} and {agency}"
                )
            self._agencies[identifier] = agency

    def prefix(self, agency: str) -> str:
        """What leads the agency's dossier codes: its identifier, else its routing code."""
        return self._identifiers.get(agency, agency)

    def identifier(self, agency: str) -> str | None:
        return self._identifiers.get(agency)

    def format(self, agency: str, day: date, sequence: int) -> str:
        return format_dossier_code(self.prefix(agency), day, sequence)

    def numbered_by(self, code: str) -> tuple[str, date, int] | None:
        """The agency, the day and the number of a dossier code (None for a code no agency could have issued)."""
        parsed = parse_dossier_code(code)
        if parsed is None:
            return None
        prefix, day, sequence = parsed
        try:
            issued = datetime.strptime(day, "%y%m%d").date()
        except ValueError:
            return None
        return self._agencies.get(prefix, prefix), issued, sequence
