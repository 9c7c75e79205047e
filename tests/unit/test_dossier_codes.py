from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.domain.codes import SequenceExhausted, format_dossier_code, parse_dossier_code, service_day


def test_code_is_agency_day_and_four_digit_sequence() -> None:
    assert format_dossier_code("G01.32.01.M02", date(2026, 11, 27), 7) == "G01.32.01.M02-261127-0007"


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
