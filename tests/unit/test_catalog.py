"""The procedure catalog: seed data, validation naming the field, version selection by date, fees."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intake.catalog.seed import CatalogDataError, load_seed, parse_versions
from intake.domain.catalog import NoVersionInForce, UnknownProcedure, version_in_force

SEED = load_seed()


def entry(**overrides: Any) -> dict[str, Any]:
    base = SEED[0].model_dump(mode="json")
    base.update(overrides)
    return base


def test_the_seed_holds_the_five_environment_procedures_with_legal_basis() -> None:
    codes = {v.procedure_code for v in SEED}
    assert codes == {"MT-DTM-BO", "MT-DTM-TINH", "MT-DMC", "MT-GPMT-BO", "MT-GPMT-TINH", "MT-XNHT"}
    assert all(v.legal_basis for v in SEED)


def test_uncertain_figures_say_so_in_the_data() -> None:
    eia_2019 = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2019")
    assert eia_2019.deadline.uncertain
    assert eia_2019.deadline.note
    assert next(v for v in SEED if v.procedure_code == "MT-DMC").national_code_uncertain


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2015, 7, 15), "2015"),
        (date(2019, 6, 30), "2015"),
        (date(2019, 7, 1), "2019"),
        (date(2022, 1, 1), "2022"),
        (date(2025, 1, 6), "2025-01"),
        (date(2025, 3, 1), "2025-03"),
        (date(2026, 11, 27), "2025-03"),
    ],
)
def test_a_dossier_is_judged_by_the_version_in_force_on_its_day(day: date, version: str) -> None:
    assert version_in_force(SEED, "MT-DTM-BO", day).version == version


def test_eia_deadlines_follow_the_law_of_each_era() -> None:
    group_one = version_in_force(SEED, "MT-DTM-BO", date(2026, 1, 5))
    group_two = version_in_force(SEED, "MT-DTM-TINH", date(2026, 1, 5))
    before = version_in_force(SEED, "MT-DTM-BO", date(2018, 1, 5))
    assert (group_one.deadline.amount, group_one.deadline.unit) == (45, "calendar_days")
    assert (group_two.deadline.amount, group_two.deadline.unit) == (30, "calendar_days")
    assert (before.deadline.amount, before.deadline.unit) == (45, "working_days")


def test_a_procedure_without_a_version_in_force_is_named() -> None:
    with pytest.raises(NoVersionInForce, match="MT-DMC"):
        version_in_force(SEED, "MT-DMC", date(2026, 11, 27))
    with pytest.raises(NoVersionInForce):
        version_in_force(SEED, "MT-DTM-BO", date(2010, 1, 1))
    with pytest.raises(UnknownProcedure):
        version_in_force(SEED, "MT-NOPE", date(2026, 11, 27))


def test_the_competent_agency_is_chosen_by_rule() -> None:
    permit = version_in_force(SEED, "MT-GPMT-TINH", date(2026, 11, 27))
    assert permit.competent_agency({"province": "HCM"}) == "UBND.HCM"
    assert permit.competent_agency({"province": "XX"}) is None


@pytest.mark.parametrize(
    ("investment", "project_type", "fee"),
    [(10_000_000_000, "1", 8_000_000), (10_000_000_001, "5", 15_000_000), (100_000_000_000, "6", 27_000_000)],
)
def test_the_eia_fee_follows_the_schedule(investment: int, project_type: str, fee: int) -> None:
    eia = version_in_force(SEED, "MT-DTM-BO", date(2026, 11, 27))
    assert eia.fee.amount_for({"total_investment_vnd": investment, "project_type": project_type}) == fee


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"deadline": {"amount": 0, "unit": "working_days"}}, "deadline.amount"),
        ({"deadline": {"amount": 5, "unit": "fortnights"}}, "deadline.unit"),
        ({"effective_to": "2010-01-01"}, "effective_to is before effective_from"),
        ({"legal_basis": []}, "legal_basis"),
        (
            {
                "components": [
                    {"code": "x", "name_vi": "x", "name_en": "x", "accepted_types": ["text/html"], "max_size_bytes": 1}
                ]
            },
            "unknown content types",
        ),
        ({"competence": {"rules": [{"field": "nope", "values": ["1"], "agency": "A"}]}}, "unknown field 'nope'"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_catalog_data_is_refused_naming_the_entry_and_field(bad: dict[str, Any], named: str) -> None:
    with pytest.raises(CatalogDataError, match="procedures\\[0\\] \\(MT-DTM-BO 2015\\)") as caught:
        parse_versions([entry(**bad)], "test.yaml")
    assert named in str(caught.value)


def test_overlapping_versions_are_refused() -> None:
    first = entry(version="a", effective_from="2020-01-01", effective_to=None)
    second = entry(version="b", effective_from="2021-01-01", effective_to=None)
    with pytest.raises(CatalogDataError, match="version a overlaps version b"):
        parse_versions([first, second], "test.yaml")
