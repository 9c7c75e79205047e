"""The portal's words in Vietnamese (first) and English, from the catalogs in `i18n/`; dates in Vietnam's time."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "hoso_lang"
_CATALOGS = Path(__file__).parent / "i18n"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class MissingText(KeyError):
    pass


@cache
def catalog(language: str) -> dict[str, str]:
    words: dict[str, str] = json.loads((_CATALOGS / f"{language}.json").read_text(encoding="utf-8"))
    return words


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


class Translator:
    """`t("key", name=...)`: the text of `key` in this language, with `{name}` filled in."""

    def __init__(self, language: str) -> None:
        self.language = language_of(language)
        self._words = catalog(self.language)

    def __call__(self, key: str, **values: Any) -> str:
        try:
            text = self._words[key]
        except KeyError as exc:
            raise MissingText(f"no {self.language} text for {key!r}") from exc
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._words

    def pick(self, vi: str, en: str) -> str:
        """The Vietnamese or English one of two texts the API gave (a procedure's name, a status label)."""
        return en if self.language == "en" and en else vi

    def when(self, value: datetime | str | None, *, with_time: bool = True) -> str:
        if value is None or value == "":
            return "—"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = moment.astimezone(VIETNAM)
        return local.strftime("%H:%M %d/%m/%Y" if with_time else "%d/%m/%Y")

    def day(self, value: date | str | None) -> str:
        if value is None or value == "":
            return "—"
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return day.strftime("%d/%m/%Y")

    def money(self, amount: int | None) -> str:
        if amount is None:
            return "—"
        grouped = self.number(amount)
        return f"{grouped} đồng" if self.language == "vi" else f"VND {grouped}"

    def number(self, value: float | int | None) -> str:
        """12000000 -> "12.000.000" in Vietnamese, "12,000,000" in English; 3.5 -> "3,5" / "3.5"."""
        if value is None:
            return "—"
        whole = float(value).is_integer()
        text = f"{int(value):,}" if whole else f"{value:,.1f}"
        if self.language == "vi":
            text = text.replace(",", "#").replace(".", ",").replace("#", ".")
        return text

    def agency(self, code: str | None) -> str:
        """An agency's name (the catalog of agencies in the words files), else its code."""
        if not code:
            return "—"
        key = f"agency.{code}"
        return self(key) if key in self._words else code

    def event(self, event_type: str, detail: str | None = None) -> str:
        """A step of a dossier's timeline, from its event type (`vn.gov.hoso.dossier.received.v1`) and, for a general
        type, what kind of step it is (a council's step, a revision)."""
        name = event_type.removeprefix("vn.gov.hoso.").rsplit(".v", 1)[0]
        for key in (f"event.{name}.{detail}", f"event.{name}"):
            if key in self._words:
                return self(key)
        return name

    def size(self, n: int) -> str:
        if n < 1024:
            return f"{n} B"
        mb = n / (1024 * 1024)
        return f"{mb:.0f} MB" if mb >= 1 else f"{n / 1024:.0f} KB"
