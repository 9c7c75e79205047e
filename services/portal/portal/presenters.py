"""Template filters: what a person reads instead of an internal code (a choice's label, a component's name, a file
type, a finding of intake's checks)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from portal.i18n import Translator
from portal.problems import FILE_KINDS, readable
from portal.public.routes import folded


def file_kind(content_type: str, t: Translator) -> str:
    return FILE_KINDS.get(content_type, content_type)


def choice_options(spec: dict[str, Any], t: Translator) -> list[tuple[str, str]]:
    labels = spec.get("choice_labels_en" if t.language == "en" else "choice_labels_vi") or {}
    fallback = spec.get("choice_labels_vi") or {}
    return [(c, labels.get(c) or fallback.get(c) or c) for c in spec.get("choices", [])]


def component_options(components: list[dict[str, Any]], t: Translator) -> list[tuple[str, str]]:
    return [(c["code"], t.pick(c["name_vi"], c["name_en"])) for c in components]


def component_name(component: Any, t: Translator, code: str) -> str:
    if isinstance(component, dict):
        return t.pick(component["name_vi"], component["name_en"])
    return code


def best_component(item: str, components: list[dict[str, Any]]) -> str:
    """The component a requested supplement plainly belongs to (it shares at least three words with its name, as
    "Báo cáo đánh giá tác động môi trường đã chỉnh sửa" does with the EIA report); else none, and the person
    chooses."""
    words = set(folded(item).split())

    def shared(component: dict[str, Any]) -> int:
        return len(words & set(folded(component["name_vi"]).split()))

    ranked = sorted(components, key=shared, reverse=True)
    if not ranked or shared(ranked[0]) < 3 or (len(ranked) > 1 and shared(ranked[1]) == shared(ranked[0])):
        return ""
    return str(ranked[0]["code"])


def grouped(value: Any, t: Translator) -> str:
    text = str(value if value is not None else "")
    if text.isdigit() and len(text) > 3:
        return t.number(int(text))
    return text


def field_value(value: Any, spec: dict[str, Any], t: Translator) -> str:
    if value is None or value == "":
        return "—"
    if spec["type"] == "choice":
        return dict(choice_options(spec, t)).get(str(value), str(value))
    if spec["type"] == "integer":
        return grouped(value, t)
    if spec["type"] == "boolean":
        return t("form.yes") if value else t("form.no")
    return str(value)


def finding(item: dict[str, Any], version: dict[str, Any], t: Translator) -> str:
    """One of intake's findings ("components.eia_report", "required: …") as a sentence with the names people know."""
    where, message = str(item["field"]), str(item["message"])
    if where.startswith("components."):
        code = where.split(".")[1]
        component = next((c for c in version["components"] if c["code"] == code), None)
        name = component_name(component, t, code)
        if message.startswith("required"):
            return t("check.missing_component", name=name)
        return f"{name}: {readable(message, t)}"
    if where.startswith("fields."):
        name = where.removeprefix("fields.")
        spec = next((s for s in version["fields"] if s["name"] == name), None)
        label = t.pick(spec["label_vi"], spec["label_en"]) if spec else name
        if message.startswith("required"):
            return t("check.missing_field", label=label)
        return f"{label}: {readable(message, t)}"
    return readable(message, t)


def action_choices(item: dict[str, Any], t: Translator) -> list[tuple[str, str]]:
    """The choices of an action's field (a proposal: approve or reject) by the names officers read."""
    options = []
    for choice in item.get("choices") or []:
        key = f"desk.choice.{item['name']}.{choice}"
        options.append((choice, t(key) if t.has(key) else choice))
    return options


def action_field_label(spec: dict[str, Any], field_name: str, t: Translator) -> str:
    """The label of an action's field as officers read it: the words of the action's variant (an extension the law
    grants), of the action, or of the field wherever it appears."""
    action = str(spec["name"])
    variant = "granted" if spec.get("granted_by") else ""
    keys = [
        f"desk.field.{action}.{variant}.{field_name}",
        f"desk.field.{action}.{field_name}",
        f"desk.field.{field_name}",
    ]
    return next((t(key) for key in keys if t.has(key)), field_name)


def install(env: Environment) -> None:
    env.filters.update(
        action_field_label=action_field_label,
        file_kind=file_kind,
        choice_options=choice_options,
        component_options=component_options,
        component_name=component_name,
        best_component=best_component,
        grouped=grouped,
        field_value=field_value,
        finding=finding,
        action_choices=action_choices,
    )
