"""The procedure catalog: seed data, validation naming the field, version selection by date, fees."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hoso_forms import AGENCY_NAMES

import portal
from intake.catalog.seed import CatalogDataError, load_seed, parse_versions
from intake.domain.catalog import (
    FeeUndetermined,
    NoVersionInForce,
    ProcedureVersion,
    UnknownProcedure,
    version_in_force,
)

SEED = load_seed()


def entry(**overrides: Any) -> dict[str, Any]:
    base = SEED[0].model_dump(mode="json")
    base["fee"]["applies_from"] = None  # the entry's dates are the test's
    base.update(overrides)
    return base


def test_the_seed_holds_the_five_environment_procedures_with_legal_basis() -> None:
    codes = {v.procedure_code for v in SEED}
    assert codes == {"MT-DTM-BO", "MT-DTM-TINH", "MT-DMC", "MT-GPMT-BO", "MT-GPMT-TINH", "MT-XNHT"}
    assert all(v.legal_basis for v in SEED)


ENGLISH = re.compile(r"\b(Law|Decree|Circular|Decision|Art\.|Appendix|effective|within|from|the)\b")


@pytest.mark.parametrize("version", SEED, ids=lambda v: f"{v.procedure_code}-{v.version}")
def test_a_vietnamese_reader_reads_each_legal_basis_and_note_in_vietnamese(version: ProcedureVersion) -> None:
    assert len(version.legal_basis_vi) == len(version.legal_basis)
    assert len(version.notes_vi) == len(version.notes)
    texts = [*version.legal_basis_vi, *version.notes_vi]
    if version.fee.legal_basis:
        texts.append(version.fee.legal_basis_vi)
    for text in texts:
        assert text
        assert not ENGLISH.search(text), text
    assert not any(basis.startswith("Art.") for basis in version.legal_basis)  # an article belongs to its law


def test_vietnamese_texts_come_one_for_each_english_one() -> None:
    eia = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2025-03").model_dump(mode="json")
    with pytest.raises(CatalogDataError, match="legal_basis_vi has 1 entries for 4"):
        parse_versions([{**eia, "legal_basis_vi": ["Luật Bảo vệ môi trường"]}], "test")


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
        (date(2023, 7, 31), "2022"),
        (date(2023, 8, 1), "2023-08"),  # Circular 38/2023/TT-BTC's fee schedule
        (date(2025, 1, 6), "2025-01"),
        (date(2025, 3, 1), "2025-03"),
        (date(2026, 11, 27), "2025-03"),
    ],
)
def test_a_dossier_is_judged_by_the_version_in_force_on_its_day(day: date, version: str) -> None:
    assert version_in_force(SEED, "MT-DTM-BO", day).version == version


@pytest.mark.parametrize(
    ("code", "day", "fields", "limit"),
    [
        # Law 55/2014: working days, by the appraising agency
        ("MT-DTM-BO", date(2018, 1, 5), {}, (45, "working_days")),
        # Law 72/2020 Art. 34: by the project group, whoever appraises
        ("MT-DTM-BO", date(2022, 3, 1), {"project_group": "I"}, (45, "calendar_days")),
        ("MT-DTM-BO", date(2022, 3, 1), {"project_group": "II"}, (30, "calendar_days")),
        ("MT-DTM-BO", date(2026, 1, 5), {"project_group": "I"}, (45, "calendar_days")),
        ("MT-DTM-BO", date(2026, 1, 5), {"project_group": "II"}, (30, "calendar_days")),
        # before Decree 05/2025 a province appraised group II projects only
        ("MT-DTM-TINH", date(2024, 6, 3), {"province": "HN"}, (30, "calendar_days")),
        # from 2025-01-06 it also appraises group I projects moved from the ministry: their 45 days go with them
        ("MT-DTM-TINH", date(2025, 1, 6), {"project_group": "I"}, (45, "calendar_days")),
        ("MT-DTM-TINH", date(2026, 1, 5), {"project_group": "I"}, (45, "calendar_days")),
        ("MT-DTM-TINH", date(2026, 1, 5), {"project_group": "II"}, (30, "calendar_days")),
    ],
)
def test_eia_time_limits_follow_the_law_of_each_era(
    code: str, day: date, fields: dict[str, str], limit: tuple[int, str]
) -> None:
    deadline = version_in_force(SEED, code, day).deadline.for_fields(fields)
    assert (deadline.amount, deadline.unit) == limit
    assert deadline.by is None


def test_a_time_limit_by_project_group_names_its_article_and_asks_the_group() -> None:
    version = version_in_force(SEED, "MT-DTM-TINH", date(2026, 1, 5))
    assert version.deadline.by is not None
    assert "Art. 34" in version.deadline.by.article
    group = next(f for f in version.fields if f.name == version.deadline.by.field)
    assert group.required
    assert group.choice_labels_vi["I"].startswith("Dự án nhóm I")


def test_a_time_limit_by_a_field_the_version_lacks_or_by_a_value_it_lacks_is_refused() -> None:
    base = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2025-03").model_dump(mode="json")
    by_unknown = {**base, "deadline": {**base["deadline"], "by": {**base["deadline"]["by"], "field": "nhom"}}}
    with pytest.raises(CatalogDataError, match="nhom"):
        parse_versions([by_unknown], "test")
    amounts = {"I": 45, "III": 20}
    by_value = {**base, "deadline": {**base["deadline"], "by": {**base["deadline"]["by"], "amounts": amounts}}}
    with pytest.raises(CatalogDataError, match="III"):
        parse_versions([by_value], "test")
    by_text = {**base, "deadline": {**base["deadline"], "by": {**base["deadline"]["by"], "field": "project_name"}}}
    with pytest.raises(CatalogDataError, match="not a choice field"):
        parse_versions([by_text], "test")
    for wrong in (0, 3651):
        by_zero = {**base, "deadline": {**base["deadline"], "by": {**base["deadline"]["by"], "amounts": {"I": wrong}}}}
        with pytest.raises(CatalogDataError, match=r"deadline\.by\.amounts\.I"):
            parse_versions([by_zero], "test")


@pytest.mark.parametrize("code", ["MT-DTM-TINH", "MT-GPMT-TINH"])
def test_from_july_2025_a_provincial_procedure_lists_the_34_provinces_of_the_merger(code: str) -> None:
    before = version_in_force(SEED, code, date(2025, 6, 30))
    after = version_in_force(SEED, code, date(2025, 7, 1))
    province = next(f for f in after.fields if f.name == "province")
    assert len(province.choices) == 34  # 28 provinces and 6 centrally-run cities (Resolution 202/2025/QH15)
    assert sum(label.startswith("Thành phố") for label in province.choice_labels_vi.values()) == 6
    assert province.choice_labels_vi["HUE"] == "Thành phố Huế"
    assert "Resolution 202/2025/QH15" in after.competence.note
    assert {after.competent_agency({"province": p}) for p in province.choices} == {
        f"UBND.{p}" for p in province.choices
    }
    assert before.competent_agency({"province": "QNI"}) is None  # not configured before the merger
    assert after.competent_agency({"province": "QNI"}) == "UBND.QNI"
    assert after.competent_agency({"province": "HN"}) == "UBND.HN"  # the cities keep their agencies


def test_every_agency_the_catalog_routes_to_has_its_name_on_forms_and_pages() -> None:
    agencies = {v.competence.default_agency for v in SEED} | {r.agency for v in SEED for r in v.competence.rules}
    agencies.discard(None)
    pages = {
        lang: json.loads((Path(portal.__file__).parent / "i18n" / f"{lang}.json").read_text()) for lang in ("vi", "en")
    }
    for agency in agencies:
        assert agency in AGENCY_NAMES, agency
        assert AGENCY_NAMES[agency].startswith(("Bộ ", "Ủy ban nhân dân ")), agency
        for lang, texts in pages.items():
            assert f"agency.{agency}" in texts, (lang, agency)


def test_of_two_overlapping_versions_the_later_start_is_in_force_from_its_day() -> None:
    split = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2022")
    stale = split.model_copy(update={"effective_to": date(2025, 1, 5)})  # as seeded before 2023-08 existed
    versions = [stale, *(v for v in SEED if v is not split)]
    assert version_in_force(versions, "MT-DTM-BO", date(2023, 7, 31)).version == "2022"
    assert version_in_force(versions, "MT-DTM-BO", date(2023, 8, 1)).version == "2023-08"


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


BILLION = 1_000_000_000
# Circular 38/2023/TT-BTC's schedule, million VND by project group 1-6 (civil works, technical infrastructure,
# agriculture, transport, industry, waste treatment and other), for a total investment up to each bound.
SCHEDULE_2023 = [
    (10, (8.0, 8.6, 8.8, 9.2, 9.6, 6.0)),
    (20, (12.5, 13.0, 13.5, 14.0, 15.0, 9.0)),
    (50, (21.0, 22.0, 22.5, 23.0, 24.0, 15.0)),
    (100, (37.5, 38.0, 39.0, 41.0, 43.0, 27.0)),
    (200, (41.5, 42.0, 43.0, 45.0, 47.0, 30.0)),
    (500, (54.0, 55.0, 56.0, 59.0, 62.0, 39.0)),
    (1_000, (61.0, 62.0, 63.5, 66.0, 69.0, 44.0)),
    (1_500, (65.0, 67.0, 68.5, 72.0, 75.0, 48.0)),
    (2_000, (67.0, 68.0, 70.0, 73.5, 76.5, 49.0)),
    (3_000, (70.0, 71.0, 73.0, 76.0, 79.0, 51.0)),
    (5_000, (72.5, 74.0, 76.0, 79.0, 82.0, 53.0)),
    (7_000, (77.0, 78.0, 80.0, 84.0, 87.0, 56.0)),
    (None, (84.0, 86.0, 88.0, 92.0, 96.0, 61.0)),
]


def _boundary_cases() -> list[tuple[int, str, int]]:
    """At every bound, one đồng above it (the next tier) and inside each tier, for every group."""
    cases = []
    for n, (bound, amounts) in enumerate(SCHEDULE_2023):
        lower = SCHEDULE_2023[n - 1][0] if n else 0
        assert lower is not None
        points = [lower * BILLION + 1] + ([bound * BILLION] if bound else [10**16])
        for investment in points:
            cases += [(investment, str(g + 1), round(amount * 1_000_000)) for g, amount in enumerate(amounts)]
    return cases


@pytest.mark.parametrize(("investment", "project_type", "fee"), _boundary_cases())
@pytest.mark.parametrize("day", [date(2026, 11, 27), date(2019, 3, 4)], ids=["38-2023", "56-2018"])
def test_the_eia_fee_follows_its_circular_at_and_around_every_bound(
    investment: int, project_type: str, fee: int, day: date
) -> None:
    """Circular 56/2018 (from 2018-08-10) and Circular 38/2023 (from 2023-08-01) draw the same 13 tiers."""
    eia = version_in_force(SEED, "MT-DTM-BO", day)
    assert eia.fee.amount_for({"total_investment_vnd": investment, "project_type": project_type}) == fee


def test_a_150_billion_project_pays_its_own_tier_under_either_circular() -> None:
    fields = {"total_investment_vnd": 150 * BILLION, "project_type": "5"}
    since_2023 = version_in_force(SEED, "MT-DTM-BO", date(2024, 5, 1)).fee
    before = version_in_force(SEED, "MT-DTM-BO", date(2022, 5, 1)).fee
    assert since_2023.amount_for(fields) == before.amount_for(fields) == 47_000_000
    assert "Circular 38/2023/TT-BTC" in since_2023.legal_basis
    assert "Circular 56/2018/TT-BTC" in before.legal_basis
    # Both schedules are read in secondary sources that give every tier: the schedule as a whole says so, no tier does.
    assert [t.up_to_vnd for t in before.tiers if t.uncertain] == []
    assert before.uncertain
    assert since_2023.uncertain


def test_before_circular_56_2018_took_effect_the_catalog_gives_no_fee_and_says_the_agency_states_it() -> None:
    fields = {"total_investment_vnd": 150 * BILLION, "project_type": "5"}
    fee = version_in_force(SEED, "MT-DTM-BO", date(2016, 5, 2)).fee  # version 2015, from 2015-07-15
    assert fee.applies_from == date(2018, 8, 10)
    for day in (date(2015, 7, 15), date(2018, 8, 9)):
        with pytest.raises(FeeUndetermined, match="applies from 2018-08-10") as caught:
            fee.amount_for(fields, day)
        assert caught.value.field == "on"
    assert fee.amount_for(fields, date(2018, 8, 10)) == fee.amount_for(fields, date(2019, 6, 30)) == 47_000_000
    assert "2015-07-15 to 2018-08-09 is not read" in fee.note
    later = version_in_force(SEED, "MT-DTM-BO", date(2019, 7, 1)).fee  # Circular 56/2018 for the whole version
    assert later.applies_from is None


@pytest.mark.parametrize("starts", ["2015-07-15", "2019-07-01", "2014-01-01"])
def test_a_fee_schedule_that_starts_within_a_version_starts_after_its_first_day_and_before_its_end(starts: str) -> None:
    eia = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2015").model_dump(mode="json")
    with pytest.raises(CatalogDataError, match="applies_from is a day after the version's first one"):
        parse_versions([{**eia, "fee": {**eia["fee"], "applies_from": starts}}], "test.yaml")


PERMIT_FEES = [
    ("group_i", 50_000_000),
    ("group_ii", 45_000_000),
    ("hw_4_project", 60_000_000),
    ("hw_4_facility", 40_000_000),
    ("hw_10_project", 65_000_000),
    ("hw_10_facility", 50_000_000),
    ("hw_11_project", 70_000_000),
    ("hw_11_facility", 60_000_000),
]


@pytest.mark.parametrize("day", [date(2022, 6, 1), date(2026, 11, 27)], ids=["2022", "2025"])
@pytest.mark.parametrize(("case", "fee"), PERMIT_FEES)
def test_the_ministrys_permit_fee_follows_circular_02_2022_by_the_case_of_the_project(
    case: str, fee: int, day: date
) -> None:
    permit = version_in_force(SEED, "MT-GPMT-BO", day)
    assert permit.fee.kind == "by_choice"
    assert permit.fee.amount_for({"facility_name": "Nhà máy", "permit_category": case}) == fee
    assert "Circular 02/2022/TT-BTC" in permit.fee.legal_basis


def test_a_permit_case_without_an_amount_in_the_schedule_read_is_left_to_the_agency() -> None:
    permit = version_in_force(SEED, "MT-GPMT-BO", date(2026, 11, 27))
    field = next(f for f in permit.fields if f.name == "permit_category")
    assert field.required
    assert set(field.choices) == {case for case, _ in PERMIT_FEES} | {"scrap_import"}
    assert all(field.choice_labels_vi[c] and field.choice_labels_en[c] for c in field.choices)
    with pytest.raises(FeeUndetermined) as caught:
        permit.fee.amount_for({"permit_category": "scrap_import"})
    assert caught.value.field == "permit_category"
    assert permit.fee.uncertain
    # Provinces set their own fees: the provincial permit still says so.
    provincial = version_in_force(SEED, "MT-GPMT-TINH", date(2026, 11, 27))
    assert provincial.fee.kind == "none"
    assert "People's Council" in provincial.fee.note


@pytest.mark.parametrize(
    ("fee", "named"),
    [
        ({"kind": "by_choice", "column_field": "project_type"}, "needs column_field and amounts_vnd"),
        (
            {"kind": "by_choice", "column_field": "project_name", "amounts_vnd": {"1": 5}},
            "the fee depends on 'project_name', which is not a choice field",
        ),
        (
            {"kind": "by_choice", "column_field": "project_type", "amounts_vnd": {"9": 5}},
            "fee amounts for choices of 'project_type' that do not exist: ['9']",
        ),
    ],
)
def test_a_fee_by_choice_names_a_choice_field_and_only_its_choices(fee: dict[str, Any], named: str) -> None:
    eia = next(v for v in SEED if v.procedure_code == "MT-DTM-BO" and v.version == "2022").model_dump(mode="json")
    with pytest.raises(CatalogDataError) as caught:
        parse_versions([{**eia, "fee": fee}], "test.yaml")
    assert named in str(caught.value)


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
