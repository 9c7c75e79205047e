"""An officer's action as typed on the desk, read by the kinds of field the workflow definition gives it.

Each field of an action has a kind (text, lines, datetime, officer, money, choice, short_text); the form's inputs
are named `<action>.<field>`, so the forms of several actions on one page never mix. What cannot be an answer
(nothing typed where the action needs it, a date that is not a date, an amount that is not a number, no
confirmation of an irreversible action) is named beside its field before anything is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from portal.i18n import Translator
from portal.presenters import action_field_label
from portal.web import FormErrors

MAX_TEXT = 4000


@dataclass
class ActionInput:
    name: str
    body: dict[str, Any] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)


def input_name(action: str, field_name: str) -> str:
    return f"{action}.{field_name}"


def read_action(spec: dict[str, Any], form: FormData, t: Translator, zone: ZoneInfo) -> ActionInput:
    """The API body of the action `spec` describes, from the form; or what is wrong, beside each field."""
    name = str(spec["name"])
    given = ActionInput(name=name, body={"action": name})
    version = str(form.get("expected_version") or "")
    if version.isdigit():
        given.body["expected_version"] = int(version)
    for item in spec["fields"]:
        key = input_name(name, item["name"])
        required = t("desk.required", field=action_field_label(spec, item["name"], t))
        if item["kind"] == "council":
            _read_council(given, key, item, form, t, required)
            continue
        raw = str(form.get(key) or "").strip()
        if not raw:
            if item["required"]:
                given.errors.add(key, required)
            continue
        value, problem = _parse(item, raw, t, zone)
        if problem:
            given.errors.add(key, problem)
        elif value is not None:
            given.body[item["name"]] = value
    if spec.get("confirm") and form.get(input_name(name, "confirm")) != "yes":
        given.errors.add(input_name(name, "confirm"), t("desk.confirm_needed"))
    return given


COUNCIL_ROWS = 50


def _read_council(
    given: ActionInput, key: str, item: dict[str, Any], form: FormData, t: Translator, required: str
) -> None:
    """A council's members from the rows of its table; a row half filled is named beside it."""
    members, typed = [], False
    for n in range(COUNCIL_ROWS):
        row = {f: str(form.get(f"{key}.{n}.{f}") or "").strip() for f in ("name", "role", "affiliation", "account_id")}
        if not any(row.values()):
            continue
        typed = True
        if not row["name"] or row["role"] not in (item.get("choices") or []):
            given.errors.add(f"{key}.{n}", t("desk.council.bad_member", n=n + 1))
            continue
        members.append({k: v for k, v in row.items() if v})
    if members:
        given.body[item["name"]] = members
    elif item["required"] and not typed:
        given.errors.add(key, required)


def _parse(item: dict[str, Any], raw: str, t: Translator, zone: ZoneInfo) -> tuple[Any, str | None]:
    kind = item["kind"]
    if kind == "lines":
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(lines) > 100:
            return None, t("desk.too_many_lines")
        return lines, None
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None, t("desk.bad_datetime")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat(), None
    if kind == "money":
        digits = re.sub(r"[\s.,]", "", raw)
        if not digits.isdigit() or int(digits) <= 0:
            return None, t("desk.bad_amount")
        return int(digits), None
    if kind == "choice":
        if raw not in (item.get("choices") or []):
            return None, t("desk.bad_choice")
        return raw, None
    if len(raw) > MAX_TEXT:
        return None, t("desk.too_long", n=MAX_TEXT)
    return raw, None
