"""Workflow definitions are data, checked at load: every broken definition is refused with its problem named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from review.domain.definition import (
    DEFINITIONS_DIR,
    ActionName,
    DefinitionError,
    definition_for,
    load_definitions,
    parse_definition,
)


def appraisal() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEFINITIONS_DIR / "appraisal.yaml").read_text(encoding="utf-8"))
    return data


def test_the_definitions_in_the_repository_load_and_cover_every_seed_procedure() -> None:
    definitions = load_definitions()
    for code in ("MT-DTM-BO", "MT-DTM-TINH", "MT-DMC", "MT-GPMT-BO", "MT-GPMT-TINH", "MT-XNHT"):
        assert definition_for(definitions, code, "2022") is not None, code
    assert definition_for(definitions, "MT-UNKNOWN", "1") is None


def test_a_definition_naming_the_version_wins_over_one_for_every_version() -> None:
    general = parse_definition(appraisal(), source="general")
    specific_data = appraisal() | {
        "id": "appraisal-2015",
        "applies_to": [{"procedure_code": "MT-DTM-BO", "versions": ["2015"]}],
    }
    specific = parse_definition(specific_data, source="specific")
    assert definition_for([general, specific], "MT-DTM-BO", "2015") is specific
    assert definition_for([general, specific], "MT-DTM-BO", "2022") is general


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(appraisal())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["states"].update(limbo={"status": 4}), "state 'limbo' is unreachable"),
        (lambda d: d["states"]["received"].update(status=11), "state 'received' has status code 11, outside 1-10"),
        (lambda d: d["states"]["received"].update(status=0), "outside 1-10"),
        (lambda d: d["actions"]["approve"].update(roles=["mayor"]), "action 'approve' names unknown role 'mayor'"),
        (lambda d: d["actions"]["approve"].update(to="nowhere"), "action 'approve' leads to unknown state 'nowhere'"),
        (
            lambda d: d["actions"].update(sign={"from": ["decided"], "to": "returned", "roles": ["leader"]}),
            "unknown action 'sign'",
        ),
        (lambda d: d["actions"].pop("return_result"), "state 'decided' is a dead end but not terminal"),
        (lambda d: d["actions"]["refuse"].update(requires=["items"]), "requires 'items', which it does not take"),
        (lambda d: d.update(initial="start"), "initial state 'start' is not a state"),
        (
            lambda d: d["events"].update({"dossier.teleported": {"from": ["received"], "to": "decided"}}),
            "unknown event 'dossier.teleported'",
        ),
        (
            lambda d: d["actions"].update(stop={"from": ["returned"], "to": "stopped", "roles": ["leader"]}),
            "terminal state 'returned' has transitions out of it",
        ),
        (lambda d: d["states"]["received"].update(colour="red"), "states.received.colour"),
    ],
)
def test_a_broken_definition_is_refused_naming_the_problem(change: Any, named: str) -> None:
    with pytest.raises(DefinitionError, match=named.replace("(", r"\(").replace(")", r"\)")):
        parse_definition(broken(change), source="test.yaml")


def test_loading_a_folder_with_a_broken_definition_fails(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(yaml.safe_dump(appraisal(), allow_unicode=True), encoding="utf-8")
    bad = broken(lambda d: d.update(id="bad") or d["states"]["received"].update(status=12))
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"workflow 'bad' \(bad\.yaml\): state 'received' has status code 12"):
        load_definitions(tmp_path)


def test_two_definitions_with_one_id_are_refused(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(appraisal(), allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="used twice: appraisal"):
        load_definitions(tmp_path)


def test_an_action_without_labels_is_named_by_its_code_and_labels_come_from_the_yaml() -> None:
    data = appraisal()
    del data["actions"]["stop"]["label_vi"]
    definition = parse_definition(data, source="test")
    assert definition.action_form(ActionName.STOP)["label_vi"] == "stop"
    assert definition.action_form(ActionName.RECEIVE)["label_en"] == "Receive the dossier"
