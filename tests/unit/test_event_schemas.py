"""The committed JSON Schemas are the contract with consumers; a breaking change must fail here."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from hoso.apidocs import asyncapi_document, wired
from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS, topic_of
from hoso.events.schemas import breaking_changes, committed_schemas, current_schemas, schema_file_name
from hoso.topics import SERVICES


def test_every_event_type_has_a_committed_schema() -> None:
    committed = committed_schemas()
    assert sorted(committed) == sorted(schema_file_name(t) for t in EVENT_MODELS)


@pytest.mark.parametrize("name", sorted(committed_schemas()))
def test_current_model_is_compatible_with_the_committed_schema(name: str) -> None:
    assert breaking_changes(committed_schemas()[name], current_schemas()[name]) == []


@pytest.fixture
def submitted() -> dict[str, Any]:
    return committed_schemas()["dossier.submitted.v1.json"]


def test_dropping_a_required_field_is_breaking(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["required"].remove("dossier_code")
    del new["properties"]["dossier_code"]
    assert breaking_changes(submitted, new) == [
        "$.dossier_code: required by the committed schema but no longer required"
    ]


def test_changing_a_field_type_is_breaking(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["properties"]["dossier_code"] = {"type": "integer"}
    assert any("dossier_code: type integer" in p for p in breaking_changes(submitted, new))


def test_adding_a_status_code_value_is_breaking(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["$defs"]["PublicStatus"]["enum"].append(11)
    assert breaking_changes(submitted, new) == ["$.status_code: values [11] are not accepted by the committed schema"]


def test_loosening_a_constraint_is_breaking(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    del new["properties"]["dossier_id"]["minLength"]
    assert breaking_changes(submitted, new) == ["$.dossier_id: minLength loosened from 1 to None"]


def test_a_nested_change_is_found(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["$defs"]["Applicant"]["required"].remove("id")
    assert breaking_changes(submitted, new) == [
        "$.applicant.id: required by the committed schema but no longer required"
    ]


def test_adding_an_optional_field_is_compatible(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["properties"]["archive_note"] = {"type": "string"}
    assert breaking_changes(submitted, new) == []


def test_making_an_optional_field_required_is_compatible(submitted: dict[str, Any]) -> None:
    new = copy.deepcopy(submitted)
    new["required"].append("fields")
    assert breaking_changes(submitted, new) == []


def _made_in_code() -> set[tuple[EventType, str]]:
    """(event type, service) of every event a service's code makes."""
    root = Path(__file__).resolve().parents[2] / "services"
    made = re.compile(r"(?:(?:new_event|_event|_simple)\(\s*|event_type = )EventType\.([A-Z_]+)")
    return {
        (EventType[name], source.parts[len(root.parts)])
        for source in root.glob("*/*/**/*.py")
        for name in made.findall(source.read_text())
    }


def test_each_service_declares_exactly_the_event_types_its_code_makes() -> None:
    declared = {(t, service) for service in SERVICES for t in wired(service).emits}
    made = _made_in_code()
    assert len(made) >= 20
    assert sorted((t.value, s) for t, s in made - declared) == []  # made but not declared: the relay would refuse it
    assert sorted((t.value, s) for t, s in declared - made) == []  # declared but never made: a stale publisher


def test_each_event_type_has_one_producer_and_the_asyncapi_document_names_it() -> None:
    producers: dict[EventType, list[str]] = {}
    for service in SERVICES:
        for event_type in wired(service).emits:
            producers.setdefault(event_type, []).append(service)
    assert {t: len(s) for t, s in producers.items() if len(s) != 1} == {}
    assert set(producers) == set(EventType)
    document = asyncapi_document()
    for event_type, (service,) in producers.items():
        channel = document["channels"][f"{topic_of(event_type)}.{event_type.short_name}"]
        assert f"emitted by {service} through the outbox" in channel["description"]


def test_the_asyncapi_document_names_each_consumer_group_with_the_types_it_applies() -> None:
    document = asyncapi_document()
    for service in SERVICES:
        consumer = wired(service).consumer
        assert consumer is not None
        for topic in consumer.topics:
            description = document["channels"][f"{service}.lifecycle:{topic}"]["description"]
            assert f"Consumer group `{service}`" in description
            assert all(f"`{t.value}`" in description for t in consumer.applied_types)
