from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from hoso_forms import AGENCY_NAMES
from pydantic import ValidationError

from intake.catalog.seed import AGENCIES_FILE, CatalogDataError, load_identifiers
from intake.domain.codes import DossierCodes, SequenceExhausted, format_dossier_code, parse_dossier_code, service_day
from intake.settings import IntakeSettings


def test_code_is_agency_day_and_four_digit_sequence() -> None:
    assert format_dossier_code("000.00.01.H22", date(2026, 11, 27), 7) == "000.00.01.H22-261127-0007"


def test_the_day_is_the_agency_day_in_ho_chi_minh_city() -> None:
    # 18:30 UTC on the 27th is 01:30 on the 28th in Asia/Ho_Chi_Minh.
    assert service_day(datetime(2026, 11, 27, 18, 30, tzinfo=UTC)) == date(2026, 11, 28)
    assert service_day(datetime(2026, 11, 27, 16, 59, tzinfo=UTC)) == date(2026, 11, 27)


@pytest.mark.parametrize("sequence", [0, 10_000])
def test_sequence_outside_four_digits_is_refused(sequence: int) -> None:
    with pytest.raises(SequenceExhausted):
        format_dossier_code("BNNMT", date(2026, 11, 27), sequence)


def test_a_code_parses_back() -> None:
    assert parse_dossier_code("BNNMT-261127-0042") == ("BNNMT", "261127", 42)
    assert parse_dossier_code("BNNMT-26112-0042") is None


def test_an_agency_with_an_identifier_is_numbered_under_it_and_its_codes_lead_back_to_it() -> None:
    codes = DossierCodes({"UBND.QNI": "000.00.00.H49"})
    assert codes.format("UBND.QNI", date(2026, 12, 4), 12) == "000.00.00.H49-261204-0012"
    assert codes.numbered_by("000.00.00.H49-261204-0012") == ("UBND.QNI", date(2026, 12, 4), 12)
    # An agency without one keeps its routing code, and its older codes still lead back to it.
    assert codes.format("BNNMT", date(2026, 12, 4), 1) == "BNNMT-261204-0001"
    assert codes.numbered_by("UBND.QNI-261204-0003") == ("UBND.QNI", date(2026, 12, 4), 3)
    assert codes.identifier("BNNMT") is None
    assert codes.numbered_by("000.00.00.H49-261304-0001") is None  # no 13th month
    assert codes.numbered_by("000.00.00.H49-2612040001") is None


def test_one_identifier_for_two_agencies_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"000\.00\.00\.H49 is configured for both BNNMT and UBND\.QNI"):
        DossierCodes({"UBND.QNI": "000.00.00.H49", "BNNMT": "000.00.00.H49"})


def test_the_identifiers_intake_ships_are_in_the_national_format_and_name_their_source() -> None:
    data = yaml.safe_load(AGENCIES_FILE.read_text(encoding="utf-8"))
    shipped = load_identifiers()
    assert shipped == {"UBND.QNI": "000.00.00.H49"}
    assert all(re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}", identifier) for identifier in shipped.values())
    assert all(entry["source"] for entry in data["identifiers"])
    assert set(shipped) <= set(AGENCY_NAMES)  # only agencies the catalog routes to


def test_a_shipped_file_with_a_wrong_identifier_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "agencies.yaml"
    bad.write_text('identifiers:\n  - {agency: BNNMT, identifier: "G01.00", source: "a text"}\n', encoding="utf-8")
    with pytest.raises(CatalogDataError, match=r"identifiers\[0\]: identifier: String should match pattern"):
        load_identifiers(bad)


def test_the_operator_sets_identifiers_as_json_over_the_shipped_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_AGENCY_IDENTIFIERS", '{"BNNMT": "000.00.01.G99"}')
    codes = IntakeSettings().dossier_codes()
    assert codes.prefix("BNNMT") == "000.00.01.G99"
    assert codes.prefix("UBND.QNI") == "000.00.00.H49"
    monkeypatch.setenv("INTAKE_AGENCY_IDENTIFIERS", '{"BNNMT": "000.00.00.H49"}')
    with pytest.raises(ValidationError, match="configured for both"):
        IntakeSettings()
    monkeypatch.setenv("INTAKE_AGENCY_IDENTIFIERS", '{"BNNMT": "H49"}')
    with pytest.raises(ValidationError, match=r"agency_identifiers\.BNNMT"):
        IntakeSettings()
