"""Rules and templates as data, checked at start-up, rendered in a sandbox.

A rule says which event notifies whom on which channels (and which form goes with the e-mail). A template is keyed by
(event, recipient, channel, language) and versioned per event file. Loading refuses, naming the problem: a rule whose
template is missing, a template without the default language, a template that reads a field the event's schema
lacks, or a name the renderer does not provide.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo

import yaml
from hoso_forms import FormCode
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS, EventData

HERE = Path(__file__).resolve().parent.parent
RULES_FILE = HERE / "rules.yaml"
TEMPLATES_DIR = HERE / "templates"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


class RecipientRole(StrEnum):
    APPLICANT = "applicant"
    ASSIGNEE = "assignee"
    AGENCY_LEADERS = "agency_leaders"


class CatalogError(ValueError):
    """The rules or templates cannot be used; the message names every problem found."""


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    recipient: RecipientRole
    channels: list[Channel] = Field(min_length=1)
    form: FormCode | None = None
    when: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Only events whose field has one of these values (a council's step: {step: [meeting_held]})",
    )

    def applies(self, payload: EventData) -> bool:
        """Whether the event is one this target hears of (every `when` field has one of its values)."""
        return all(str(getattr(payload, name, None)) in values for name, values in self.when.items())


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str
    notify: list[Target] = Field(min_length=1)


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = ""
    body: str = Field(min_length=1)


class TemplateKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    event: str
    recipient: RecipientRole
    channel: Channel

    def __str__(self) -> str:
        return f"{self.event}/{self.recipient.value}/{self.channel.value}"


@dataclass(frozen=True)
class Template:
    key: TemplateKey
    version: int
    texts: Mapping[str, Text]

    def text(self, language: str) -> tuple[str, Text]:
        """The text in `language`, or in the default language when there is none."""
        chosen = language if language in self.texts else DEFAULT_LANGUAGE
        return chosen, self.texts[chosen]


# --- the sandboxed renderer -------------------------------------------------------------------------------------

# What a template may read besides `event`: the dossier as notify knows it, and the recipient.
DOSSIER_FIELDS = frozenset({"code", "procedure_name", "agency_name", "applicant_name", "tracking_pin"})
RECIPIENT_FIELDS = frozenset({"name"})
ALLOWED_NAMES = frozenset({"event", "dossier", "recipient"})


def _when(value: Any, language: str) -> str:
    if not isinstance(value, datetime):
        return str(value)
    local = value.astimezone(LOCAL)
    if language == "vi":
        return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"
    return f"{local:%H:%M} on {local:%d/%m/%Y} (Vietnam time)"


def _day(value: Any) -> str:
    return f"{value.astimezone(LOCAL):%d/%m/%Y}" if isinstance(value, datetime) else str(value)


def _vnd(value: Any) -> str:
    amount = Decimal(str(value))
    return f"{amount:,.0f}".replace(",", ".") + " đồng"


def environment(language: str) -> ImmutableSandboxedEnvironment:
    """A sandbox: templates cannot reach Python internals, change their inputs or read an undefined name."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["when"] = lambda value: _when(value, language)
    env.filters["day"] = _day
    env.filters["vnd"] = _vnd
    return env


# --- checking templates against the event schema ----------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The model inside `X | None` or `list[X]`, or the annotation itself."""
    if get_origin(annotation) in (list, tuple):
        return _unwrap(get_args(annotation)[0])
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and get_origin(annotation) is not Literal:
        return _unwrap(args[0])
    return annotation


def _attribute_chain(node: nodes.Node) -> list[str] | None:
    """`event.applicant.name` -> ["event", "applicant", "name"]; None when the chain does not start at a name."""
    chain: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            chain.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            chain.append(node.arg.value)
        else:
            return None
        node = node.node
    if isinstance(node, nodes.Name):
        return [node.name, *reversed(chain)]
    return None


def _check_chain(chain: list[str], model: type[EventData]) -> str | None:
    root, *path = chain
    if root == "dossier":
        return None if not path or path[0] in DOSSIER_FIELDS else f"dossier has no field {path[0]!r}"
    if root == "recipient":
        return None if not path or path[0] in RECIPIENT_FIELDS else f"recipient has no field {path[0]!r}"
    if root != "event":
        return None
    current: Any = model
    for depth, name in enumerate(path):
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return None  # a method or item of a plain value (a list, a string): not a schema question
        if name not in fields:
            return f"the {model.__name__} schema has no field {'.'.join(path[: depth + 1])!r}"
        current = _unwrap(fields[name].annotation)
    return None


def template_problems(source: str, model: type[EventData]) -> list[str]:
    """What is wrong with a template for events of `model` (empty when nothing is)."""
    env = environment(DEFAULT_LANGUAGE)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"syntax error at line {exc.lineno}: {exc.message}"]
    problems: list[str] = []
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in ALLOWED_NAMES | assigned | {"loop"}:
            problems.append(f"unknown name {name.name!r} (templates read event, dossier and recipient)")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        chain = _attribute_chain(node)
        if chain is not None and (problem := _check_chain(chain, model)) is not None:
            problems.append(problem)
    return sorted(set(problems))


# --- loading ----------------------------------------------------------------------------------------------------


def event_type_named(name: str) -> EventType | None:
    return next((t for t in EventType if t.short_name == name), None)


@dataclass(frozen=True)
class NotifyCatalog:
    rules: Mapping[EventType, tuple[Target, ...]]
    templates: Mapping[TemplateKey, Template]

    def template(self, event: str, recipient: RecipientRole, channel: Channel) -> Template:
        return self.templates[TemplateKey(event=event, recipient=recipient, channel=channel)]

    def __iter__(self) -> Iterator[Template]:
        return iter(sorted(self.templates.values(), key=lambda t: str(t.key)))


def _load_templates(folder: Path, problems: list[str]) -> dict[TemplateKey, Template]:
    templates: dict[TemplateKey, Template] = {}
    for path in sorted(folder.glob("*.yaml")):
        event = path.stem
        event_type = event_type_named(event)
        if event_type is None:
            problems.append(f"{path.name}: no event type {event!r} in the catalog")
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        version = raw.pop("version", None)
        if not isinstance(version, int) or version < 1:
            problems.append(f"{path.name}: `version` must be a positive integer")
            continue
        for recipient, channels in raw.items():
            for channel, texts in (channels or {}).items():
                where = f"{path.name}: {recipient}/{channel}"
                try:
                    key = TemplateKey(event=event, recipient=recipient, channel=channel)
                    parsed = {language: Text.model_validate(text) for language, text in (texts or {}).items()}
                except ValidationError as exc:
                    problems.append(f"{where}: {exc.errors()[0]['msg']}")
                    continue
                if DEFAULT_LANGUAGE not in parsed:
                    problems.append(f"{where}: no {DEFAULT_LANGUAGE!r} text (the default language)")
                problems.extend(f"{where}: unknown language {lang!r}" for lang in parsed if lang not in LANGUAGES)
                if key.channel is Channel.EMAIL or key.channel is Channel.IN_APP:
                    problems.extend(
                        f"{where}/{lang}: a subject is required" for lang, t in parsed.items() if not t.subject
                    )
                model = EVENT_MODELS[event_type]
                for language, text in parsed.items():
                    for part in ("subject", "body"):
                        problems.extend(
                            f"{where}/{language} {part}: {p}" for p in template_problems(getattr(text, part), model)
                        )
                templates[key] = Template(key=key, version=version, texts=parsed)
    return templates


def _choices(annotation: Any) -> set[str]:
    """The values a Literal field (or an optional one) can take; empty for any other type."""
    if get_origin(annotation) is Literal:
        return {str(a) for a in get_args(annotation)}
    return {c for arg in get_args(annotation) for c in _choices(arg)}


def load_catalog(rules_file: Path = RULES_FILE, templates_dir: Path = TEMPLATES_DIR) -> NotifyCatalog:
    """Load and check the rules and templates; CatalogError naming every problem."""
    problems: list[str] = []
    try:
        rules_data = RulesFile.model_validate(yaml.safe_load(rules_file.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise CatalogError(f"{rules_file.name}: {exc}") from exc
    templates = _load_templates(templates_dir, problems)
    rules: dict[EventType, tuple[Target, ...]] = {}
    for rule in rules_data.rules:
        event_type = event_type_named(rule.event)
        if event_type is None:
            problems.append(f"{rules_file.name}: no event type {rule.event!r} in the catalog")
            continue
        if event_type in rules:
            problems.append(f"{rules_file.name}: {rule.event} has two rules; give it one with several targets")
        for target in rule.notify:
            for channel in target.channels:
                key = TemplateKey(event=rule.event, recipient=target.recipient, channel=channel)
                if key not in templates:
                    problems.append(
                        f"{rules_file.name}: {key} has no template in {templates_dir.name}/{rule.event}.yaml"
                    )
            if target.form is not None and Channel.EMAIL not in target.channels:
                problems.append(f"{rules_file.name}: {rule.event} attaches form {target.form} without an e-mail")
            fields = EVENT_MODELS[event_type].model_fields
            for name, values in target.when.items():
                if name not in fields:
                    problems.append(f"{rules_file.name}: {rule.event} has no field {name!r} for its rule's 'when'")
                elif choices := _choices(fields[name].annotation):
                    problems.extend(
                        f"{rules_file.name}: {rule.event}'s {name} is never {value!r}"
                        for value in values
                        if value not in choices
                    )
        rules[event_type] = tuple(rule.notify)
    if problems:
        raise CatalogError("notification catalog refused:\n  " + "\n  ".join(problems))
    return NotifyCatalog(rules=rules, templates=templates)
