"""The committed JSON Schemas are the contract with consumers; a breaking change must fail here."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from hoso.apidocs import producer_of
from hoso.events import EventType
from hoso.events.catalog import EVENT_MODELS
from hoso.events.schemas import breaking_changes, committed_schemas, current_schemas, schema_file_name


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


def test_the_asyncapi_document_names_the_service_whose_code_emits_each_event() -> None:
    root = Path(__file__).resolve().parents[2] / "services"
    emitted = re.compile(r"(?:new_event|_event)\(\s*EventType\.([A-Z_]+)")
    found = {
        (EventType[name], source.parts[len(root.parts)])
        for source in root.glob("*/*/**/*.py")
        for name in emitted.findall(source.read_text())
    }
    assert len(found) >= 10
    assert sorted((t.value, s) for t, s in found if producer_of(t) != s) == []
