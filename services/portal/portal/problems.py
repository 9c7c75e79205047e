"""Intake's and review's messages (English, for programs) as sentences a person reads, in their language."""

from __future__ import annotations

import re
from collections.abc import Callable

from portal.i18n import Translator

FILE_KINDS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
    "application/zip": "ZIP",
}


def kinds(types: str) -> str:
    return ", ".join(FILE_KINDS.get(t.strip(), t.strip()) for t in types.split(","))


Rule = tuple[re.Pattern[str], str, Callable[[re.Match[str], Translator], dict[str, str]]]

RULES: list[Rule] = [
    (
        re.compile(r"^its content is (?P<found>\S+); accepted: (?P<accepted>.+)$"),
        "api.wrong_type",
        lambda m, t: {"found": kinds(m["found"]), "accepted": kinds(m["accepted"])},
    ),
    (
        re.compile(r"^(?P<size>\d+) bytes exceeds the limit of (?P<limit>\d+) bytes$"),
        "api.too_big",
        lambda m, t: {"size": t.size(int(m["size"])), "limit": t.size(int(m["limit"]))},
    ),
    (
        re.compile(r"^a file may have at most (?P<limit>\d+) bytes$"),
        "api.too_big_upload",
        lambda m, t: {"limit": t.size(int(m["limit"]))},
    ),
    (re.compile(r"^at most (?P<n>\d+) file\(s\)$"), "api.at_most", lambda m, t: {"n": m["n"]}),
    (re.compile(r"^at least (?P<n>\d+) file\(s\)$"), "api.at_least", lambda m, t: {"n": m["n"]}),
    (re.compile(r"^a text of at most (?P<n>\d+) characters$"), "api.text_max", lambda m, t: {"n": m["n"]}),
    (re.compile(r"^one of "), "api.one_of", lambda m, t: {}),
    (re.compile(r"^required"), "api.required", lambda m, t: {}),
    (re.compile(r"^the file belongs to another dossier$"), "api.other_dossier", lambda m, t: {}),
    (re.compile(r"^no competent agency"), "api.no_agency", lambda m, t: {}),
    (re.compile(r"^the file (type could not be recognised|is not a PDF)"), "api.unrecognised", lambda m, t: {}),
    (re.compile(r"^the fee depends on "), "api.fee_needs_investment", lambda m, t: {}),
    (re.compile(r"^no fee for "), "api.fee_needs_type", lambda m, t: {}),
    (
        re.compile(r"^a council has at least (?P<n>\d+) members .*; (?P<given>\d+) given$"),
        "api.council_size",
        lambda m, t: {"n": m["n"], "given": m["given"]},
    ),
    (
        re.compile(r"^a council has exactly one (?P<role>\w+); (?P<given>\d+) given$"),
        "api.council_exactly_one",
        lambda m, t: {"role": t(f"council_role.{m['role']}"), "given": m["given"]},
    ),
    (
        re.compile(r"^a council has at least (?P<n>\d+) (?P<role>\w+)\(s\); (?P<given>\d+) given$"),
        "api.council_at_least",
        lambda m, t: {"n": m["n"], "role": t(f"council_role.{m['role']}"), "given": m["given"]},
    ),
    (
        re.compile(r"^the appraisal fee of (?P<amount>\d+) VND is not paid yet$"),
        "api.fee_unpaid",
        lambda m, t: {"amount": f"{int(m['amount']):,}".replace(",", ".")},
    ),
]


def readable(message: str, t: Translator) -> str:
    """The person's sentence for one of the API's messages; the message itself when none is known."""
    for pattern, key, values in RULES:
        found = pattern.search(message)
        if found:
            return t(key, **values(found, t))
    key = f"api.{message}"
    return t(key) if t.has(key) else message
