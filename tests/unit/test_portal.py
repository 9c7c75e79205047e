"""The portal's pure parts: the legal clock, safe return paths, search, names for codes, messages, catalogs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hoso.deadlines import DeadlineUnit, WorkCalendar
from portal.applicant.clock import ClockState, legal_clock
from portal.applicant.dossiers import forms_given
from portal.i18n import Translator
from portal.presenters import best_component, choice_options, field_value
from portal.problems import readable
from portal.public.routes import matches
from portal.web import safe_next

CALENDAR = WorkCalendar.configured()
# A Wednesday at 10:00 in Hanoi.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "services/portal/portal/i18n"
TEMPLATES = CATALOGS.parent / "templates"


def dossier(status: int, **fields: Any) -> dict[str, Any]:
    return {"status": {"code": status}, **fields}


def test_the_clock_has_not_started_before_reception() -> None:
    assert (
        legal_clock(dossier(1), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR).state is ClockState.NOT_STARTED
    )


def test_the_clock_counts_working_days_left_skipping_the_weekend() -> None:
    due = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)  # next Wednesday 10:00: five working days
    clock = legal_clock(dossier(4, due_at=due.isoformat()), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert clock.state is ClockState.RUNNING
    assert clock.amount == 5.0


def test_the_clock_says_how_far_past_due_in_working_days() -> None:
    due = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00: two working days ago
    clock = legal_clock(dossier(2, due_at=due.isoformat()), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert clock.state is ClockState.OVERDUE
    assert clock.amount == 2.0


def test_the_clock_warns_on_the_last_working_day() -> None:
    due = NOW + timedelta(hours=4)
    clock = legal_clock(dossier(4, due_at=due.isoformat()), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert clock.state is ClockState.DUE_SOON


def test_the_clock_counts_calendar_days_for_a_calendar_day_deadline() -> None:
    due = NOW + timedelta(days=10, hours=3)
    clock = legal_clock(dossier(4, due_at=due.isoformat()), DeadlineUnit.CALENDAR_DAYS, now=NOW, calendar=CALENDAR)
    assert (clock.state, clock.amount) == (ClockState.RUNNING, 11.0)


def test_the_clock_is_paused_with_the_reason_while_the_agency_waits_for_a_supplement() -> None:
    waiting = dossier(
        5,
        status_since=NOW.isoformat(),
        due_at=(NOW - timedelta(days=3)).isoformat(),
        clock_paused=True,
        supplement_request={"reason": "Thiếu bản đồ", "items": ["x"]},
    )
    clock = legal_clock(waiting, DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert (clock.state, clock.paused_for, clock.reason) == (ClockState.PAUSED, "supplement", "Thiếu bản đồ")
    assert clock.paused_since == NOW  # past its due time, but a paused clock is not overdue


def test_the_clock_waits_for_the_revised_report_and_the_timeline_names_the_councils_steps() -> None:
    waiting = dossier(
        5,
        status_since=NOW.isoformat(),
        due_at=(NOW + timedelta(days=30)).isoformat(),
        clock_paused=True,
        supplement_request={"reason": "Theo kết luận", "items": ["Chương 3"], "purpose": "revision"},
    )
    clock = legal_clock(waiting, DeadlineUnit.CALENDAR_DAYS, now=NOW, calendar=CALENDAR)
    assert (clock.state, clock.paused_for) == (ClockState.PAUSED, "revision")
    t = Translator("vi")
    assert t("clock.paused_revision", since="x").endswith("chờ bạn chỉnh sửa, bổ sung báo cáo")
    recorded = "vn.gov.hoso.dossier.appraisal_recorded.v1"
    assert t.event(recorded, "meeting_held") == "Họp hội đồng thẩm định"
    assert t.event(recorded, None) == "Bước thẩm định qua hội đồng"
    assert t.event("vn.gov.hoso.dossier.supplement_requested.v1", "revision") == "Yêu cầu chỉnh sửa, bổ sung báo cáo"
    assert t.event("vn.gov.hoso.dossier.received.v1", None) == "Tiếp nhận hồ sơ"


def test_the_clock_is_paused_while_the_fee_is_awaited() -> None:
    waiting = dossier(6, status_since=NOW.isoformat(), due_at=NOW.isoformat(), clock_paused=True)
    clock = legal_clock(waiting, DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert (clock.state, clock.paused_for) == (ClockState.PAUSED, "fee")


def test_whether_the_clock_stands_still_is_what_review_says_not_what_the_status_suggests() -> None:
    due = (NOW + timedelta(days=7)).isoformat()
    paused = legal_clock(
        dossier(4, due_at=due, clock_paused=True), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR
    )
    assert (paused.state, paused.paused_for) == (ClockState.PAUSED, "applicant")
    running = legal_clock(
        dossier(5, due_at=due, clock_paused=False), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR
    )
    assert running.state is ClockState.RUNNING


def test_a_supplement_asked_for_at_reception_leaves_the_clock_not_started() -> None:
    clock = legal_clock(dossier(5, status_since=NOW.isoformat()), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert clock.state is ClockState.NOT_STARTED


def test_past_the_due_time_after_office_hours_is_overdue_by_no_amount_yet() -> None:
    due = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # Wednesday 17:00 in Hanoi, the close of office
    after_hours = due + timedelta(hours=1)
    clock = legal_clock(
        dossier(4, due_at=due.isoformat()), DeadlineUnit.WORKING_DAYS, now=after_hours, calendar=CALENDAR
    )
    assert (clock.state, clock.amount) == (ClockState.OVERDUE, None)
    at_due = legal_clock(dossier(4, due_at=due.isoformat()), DeadlineUnit.WORKING_DAYS, now=due, calendar=CALENDAR)
    assert at_due.state is ClockState.DUE_SOON


@pytest.mark.parametrize("status", [3, 8, 9, 10])
def test_the_clock_has_ended_once_the_dossier_is_decided_or_stopped(status: int) -> None:
    clock = legal_clock(dossier(status, due_at=NOW.isoformat()), DeadlineUnit.WORKING_DAYS, now=NOW, calendar=CALENDAR)
    assert clock.state is ClockState.ENDED


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/ho-so/BNNMT-261202-0001", "/ho-so/BNNMT-261202-0001"),
        ("/thu-tuc?q=dtm", "/thu-tuc?q=dtm"),
        ("//evil.example/path", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_paths_of_the_portal_are_returned_to_after_signing_in(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_procedures_are_found_by_words_with_or_without_diacritics() -> None:
    eia = {"procedure_code": "MT-DTM-BO", "name_vi": "Thẩm định báo cáo đánh giá tác động môi trường", "name_en": ""}
    assert matches(eia, "đánh giá tác động")
    assert matches(eia, "danh gia TAC dong")
    assert matches(eia, "mt-dtm")
    assert not matches(eia, "giấy phép")


def test_a_supplement_item_goes_to_the_component_its_words_name_and_otherwise_to_none() -> None:
    components = [
        {"code": "request_letter", "name_vi": "Văn bản đề nghị thẩm định", "name_en": "Request letter"},
        {"code": "eia_report", "name_vi": "Báo cáo đánh giá tác động môi trường", "name_en": "EIA report"},
        {"code": "feasibility_study", "name_vi": "Báo cáo nghiên cứu khả thi", "name_en": "Feasibility study"},
    ]
    assert best_component("Báo cáo đánh giá tác động môi trường đã chỉnh sửa", components) == "eia_report"
    assert best_component("Bản đồ vị trí dự án", components) == ""


def test_a_choice_is_shown_by_its_label_in_the_persons_language() -> None:
    spec = {"type": "choice", "choices": ["5", "6"], "choice_labels_vi": {"5": "Dự án công nghiệp"},
            "choice_labels_en": {"5": "Industry"}}  # fmt: skip
    assert field_value("5", spec, Translator("vi")) == "Dự án công nghiệp"
    assert field_value("5", spec, Translator("en")) == "Industry"
    assert choice_options(spec, Translator("en")) == [("5", "Industry"), ("6", "6")]


def test_integers_are_grouped_as_vietnamese_write_them() -> None:
    assert Translator("vi").money(96_000_000) == "96.000.000 đồng"
    assert Translator("en").money(96_000_000) == "VND 96,000,000"
    assert Translator("vi").number(3.5) == "3,5"


@pytest.mark.parametrize(
    ("message", "vi"),
    [
        (
            "its content is application/vnd.openxmlformats-officedocument.wordprocessingml.document; "
            "accepted: application/pdf",
            "Tệp có định dạng Word (DOCX); chỉ chấp nhận PDF",
        ),
        ("2097152 bytes exceeds the limit of 1048576 bytes", "Tệp 2 MB vượt quá dung lượng tối đa 1 MB"),
        ("at most 3 file(s)", "Tối đa 3 tệp"),
        ("the file type could not be recognised from its content", "Không nhận ra định dạng tệp"),
        ("something new", "something new"),
    ],
)
def test_the_apis_messages_read_as_vietnamese_sentences(message: str, vi: str) -> None:
    assert readable(message, Translator("vi")).startswith(vi)


def test_both_catalogs_have_the_same_words() -> None:
    vi = json.loads((CATALOGS / "vi.json").read_text(encoding="utf-8"))
    en = json.loads((CATALOGS / "en.json").read_text(encoding="utf-8"))
    assert set(vi) == set(en)
    for key in vi:
        assert set(re.findall(r"{(\w+)}", vi[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_word_the_templates_use_is_in_the_catalogs() -> None:
    vi = json.loads((CATALOGS / "vi.json").read_text(encoding="utf-8"))
    used = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.0-9]+)["']""", template.read_text(encoding="utf-8")))
    prefixes = {key for key in used if key.endswith((".", "_", ".f"))}  # t("unit." ~ clock.unit) and the like
    assert sorted(used - prefixes - set(vi)) == []
    assert [p for p in sorted(prefixes) if not any(k.startswith(p) for k in vi)] == []


def test_the_forms_a_timeline_gave_leave_out_a_councils_revision_and_an_extension_the_law_grants() -> None:
    step = "vn.gov.hoso.dossier.{}.v1".format
    timeline = [
        {"event_type": step("received")},
        {"event_type": step("supplement_requested"), "detail": "revision"},
        {"event_type": step("deadline_extended"), "detail": "granted"},
        {"event_type": step("approved")},
    ]
    assert forms_given(timeline) == ["01"]
    timeline += [{"event_type": step("supplement_requested")}, {"event_type": step("deadline_extended")}]
    assert forms_given(timeline) == ["01", "02", "04"]
