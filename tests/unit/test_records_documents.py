"""Records' pure parts: statistics columns, forms from a timeline, the archive package, the drop-folder exporter."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pypdf
import pytest
from hoso_forms import FormCode, render_form
from openpyxl import load_workbook

from hoso.deadlines import WorkCalendar
from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import (
    AppraisalStepName,
    DossierAssigned,
    DossierDeadlineExtended,
    DossierEventData,
    DossierReceived,
    DossierRefused,
)
from portal.i18n import Translator
from records.archive import DropFolderExporter
from records.domain.documents import STEP_LABELS, build_package, dossier_forms, step_detail, step_label
from records.domain.stats import (
    COLUMNS,
    INDICES,
    StatsRow,
    classify,
    performance,
    statistics,
    status_at,
    to_csv,
    to_xlsx,
)
from records.handlers import _summary_fields

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
START, END = datetime(2026, 11, 1, tzinfo=LOCAL), datetime(2026, 12, 1, tzinfo=LOCAL)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LOCAL)


def summary(**fields: Any) -> dict[str, Any]:
    return {"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "channel": "online", **fields}


def decided(month: int, day: int, hour: int = 9) -> list[dict[str, Any]]:
    """A status history in which the dossier was processed (status 9) at that time."""
    return [{"at": at(month, day, hour), "status": 9}]


IN = ["received", "received_online", "to_process"]
CARRIED = ["carried_over", "to_process"]


@pytest.mark.parametrize(
    ("fields", "columns"),
    [
        # Resolved when processed (9), against the promised date: early is a day before it, on time by its time.
        ({"received_at": at(11, 3), "promised_at": at(11, 20), "status_history": decided(11, 19, 16),
          "finished_at": at(11, 25), "outcome": "returned"}, [*IN, "resolved_early"]),
        ({"received_at": at(11, 3), "promised_at": at(11, 20, 10), "status_history": decided(11, 20, 10)},
         [*IN, "resolved_on_time"]),
        ({"received_at": at(11, 3), "promised_at": at(11, 20, 10), "status_history": decided(11, 20, 11)},
         [*IN, "resolved_late"]),
        # An extension (Form 04) moved the due date, not the promise: decided after the promise is late.
        ({"received_at": at(11, 3), "promised_at": at(11, 20, 10), "due_at": at(11, 27),
          "status_history": decided(11, 25)}, [*IN, "resolved_late"]),
        # Decided in the period, the result handed back after it: resolved, not in progress.
        ({"received_at": at(11, 3), "promised_at": at(11, 30), "status_history": decided(11, 28),
          "finished_at": at(12, 3), "outcome": "returned"}, [*IN, "resolved_early"]),
        # Carried over from October and decided late in November.
        ({"received_at": at(10, 3), "promised_at": at(10, 30), "status_history": decided(11, 5)},
         [*CARRIED, "resolved_late"]),
        # Decided in October, handed back in November: nothing of it belongs to November.
        ({"received_at": at(10, 3), "promised_at": at(10, 30), "status_history": decided(10, 20),
          "finished_at": at(11, 2), "outcome": "returned"}, []),
        # Decided exactly when the period ends: still in progress (and overdue) in it.
        ({"received_at": at(10, 3), "promised_at": at(11, 20), "status_history": decided(12, 1, 0)},
         [*CARRIED, "in_progress_overdue"]),
        ({"received_at": at(11, 30, 23), "promised_at": at(11, 30, 22)}, [*IN, "in_progress_overdue"]),
        ({"received_at": at(12, 1, 0)}, []),
        ({"received_at": at(11, 2), "promised_at": at(12, 5), "channel": "post"},
         ["received", "received_post", "to_process", "in_progress_not_yet_due"]),
        ({"received_at": at(11, 2), "promised_at": at(12, 5), "channel": "in_person"},
         ["received", "received_in_person", "to_process", "in_progress_not_yet_due"]),
        ({"received_at": at(11, 2), "finished_at": at(11, 4), "outcome": "refused"}, [*IN, "rejected"]),
        # Refused at reception: never received, still a refusal of the period.
        ({"finished_at": at(11, 4), "outcome": "refused"}, ["rejected"]),
        ({"received_at": at(11, 2), "finished_at": at(11, 4), "outcome": "stopped"}, [*IN, "withdrawn"]),
        ({"received_at": at(11, 2), "promised_at": at(11, 5),
          "status_history": [{"at": at(11, 2), "status": 2}, {"at": at(11, 3), "status": 5}]},
         [*IN, "awaiting_supplement"]),
        # Waiting for the revised report after the council is not waiting for missing documents.
        ({"received_at": at(11, 2), "promised_at": at(12, 20),
          "status_history": [{"at": at(11, 2), "status": 2},
                             {"at": at(11, 20), "status": 5, "awaiting": "revision"}]},
         [*IN, "awaiting_revision"]),
        # The revised report came back before the period ended: in progress again, judged by its promise.
        ({"received_at": at(11, 2), "promised_at": at(11, 28),
          "status_history": [{"at": at(11, 20), "status": 5, "awaiting": "revision"}, {"at": at(11, 25), "status": 4}]},
         [*IN, "in_progress_overdue"]),
        ({"received_at": at(11, 2), "promised_at": at(12, 5),
          "status_history": [{"at": at(11, 3), "status": 6}, {"at": at(12, 1, 0), "status": 4}]},
         [*IN, "awaiting_fee"]),
        # Decision 766's counts: filed with every component as files; a fee paid online in the period; a decision
        # signed and attached.
        ({"received_at": at(11, 2), "promised_at": at(12, 5), "digitised": True},
         [*IN, "received_digitised", "in_progress_not_yet_due"]),
        ({"received_at": at(10, 2), "promised_at": at(12, 5), "fee_paid_at": at(11, 4), "fee_paid_online": True},
         [*CARRIED, "fee_paid", "fee_paid_online", "in_progress_not_yet_due"]),
        ({"received_at": at(10, 2), "promised_at": at(12, 5), "fee_paid_at": at(10, 4), "fee_paid_online": True},
         [*CARRIED, "in_progress_not_yet_due"]),  # paid in October: not this period's payment
        ({"received_at": at(11, 3), "promised_at": at(11, 20), "status_history": decided(11, 10),
          "result_electronic": True}, [*IN, "resolved_early", "resolved_electronic"]),
        # A summary from before the promise was kept is judged against its due date.
        ({"received_at": at(11, 3), "due_at": at(11, 20, 10), "status_history": decided(11, 20, 11)},
         [*IN, "resolved_late"]),
    ],
)  # fmt: skip
def test_each_dossier_counts_in_the_columns_its_dates_give(fields: dict[str, Any], columns: list[str]) -> None:
    assert classify(summary(**fields), START, END) == columns


def test_status_at_reads_the_history_before_the_moment() -> None:
    history = {"status_history": [{"at": at(11, 5), "status": 5}, {"at": at(11, 2), "status": 2}]}
    assert status_at(history, at(11, 1)) is None
    assert status_at(history, at(11, 3)) == 2
    assert status_at(history, at(11, 6)) == 5


def test_rows_totals_rate_and_csv() -> None:
    rows, total = statistics(
        [
            summary(received_at=at(11, 3), promised_at=at(11, 20), status_history=decided(11, 10)),
            summary(received_at=at(11, 3), promised_at=at(11, 5), status_history=decided(11, 10)),
            summary(received_at=at(11, 3), promised_at=at(11, 20)),  # still in progress, overdue at the end
            summary(agency_code="UBND.HN", received_at=at(11, 3), promised_at=at(12, 5)),
            summary(received_at=at(12, 3)),
        ],
        START,
        END,
    )
    # On time 1 of 3: one early, one late and one overdue still in progress (the national method counts it).
    assert [(r.agency_code, r.received, r.on_time_rate) for r in rows] == [("BNNMT", 3, 0.3333), ("UBND.HN", 1, None)]
    assert (total.received, total.to_process, total.resolved_early, total.resolved_late) == (4, 4, 1, 1)
    assert (total.in_progress_overdue, total.on_time_rate) == (1, 0.3333)
    lines = to_csv(rows, total).splitlines()
    assert lines[0].startswith(
        "agency_code,procedure_code,carried_over,received,received_online,received_in_person,received_post,to_process,"
    )
    assert lines[2].endswith(",")  # no rate where nothing was resolved or overdue
    assert lines[3].startswith("*,*,0,4,4,0,0,4,1,0,1")


def test_the_indices_of_decision_766_are_shares_of_the_columns() -> None:
    row = StatsRow(
        agency_code="BNNMT", procedure_code="MT-DTM-BO", received=8, received_online=6, received_digitised=7,
        fee_paid=4, fee_paid_online=3, resolved_early=2, resolved_on_time=1, resolved_late=1, resolved_electronic=3,
        in_progress_overdue=1, ratings=5, ratings_satisfied=4,
    ).finish()  # fmt: skip
    assert (row.online_rate, row.digitised_rate, row.online_payment_rate) == (0.75, 0.875, 0.75)
    assert (row.on_time_rate, row.electronic_result_rate, row.satisfaction_rate) == (0.6, 0.75, 0.8)
    empty = StatsRow(agency_code="BNNMT", procedure_code="MT-DTM-BO").finish()
    assert (empty.online_rate, empty.online_payment_rate, empty.electronic_result_rate) == (None, None, None)


def test_each_index_names_its_group_formula_and_source_and_is_a_rate_of_the_rows() -> None:
    rates = set(StatsRow.model_fields) - set(COLUMNS)
    for index in INDICES:
        assert index.group_vi
        assert index.name_vi
        assert index.source.startswith("Quyết định số 766/QĐ-TTg")
        if not index.computed:
            assert index.note  # says why Hoso cannot compute it
            continue
        assert index.code in rates, index.code
        assert index.formula_vi
        for name in re.findall(r"[a-z_]+", index.formula.split("(a rating")[0]):
            assert name in COLUMNS, (index.code, name)
    assert {i.group_vi for i in INDICES} == {
        "Tiến độ giải quyết", "Cung cấp dịch vụ trực tuyến", "Số hóa hồ sơ", "Mức độ hài lòng", "Công khai, minh bạch"
    }  # fmt: skip


def entries() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    base = {"dossier_id": "d-1", "dossier_code": "BNNMT-261103-0001", "procedure_code": "MT-DTM-BO",
            "agency_code": "BNNMT", "actor_id": "officer-1", "actor_name": "Trần Thị Bình",
            "actor_title": "Chuyên viên Bộ phận Một cửa"}  # fmt: skip
    received = new_event(
        EventType.DOSSIER_RECEIVED,
        DossierReceived(
            **base,
            status_code=PublicStatus.RECEIVED,
            receipt_number="R/TN",
            received_at=at(11, 3),
            appointment_at=at(11, 20),
            due_at=at(11, 20),
        ),
        service="review",
        time=at(11, 3),
    )
    assigned = new_event(
        EventType.DOSSIER_ASSIGNED,
        DossierAssigned(**base, status_code=PublicStatus.RECEIVED, assignee_id="u-7", assignee_name="Lê Văn Cường"),
        service="review",
        time=at(11, 3, 10),
    )
    refused = new_event(
        EventType.DOSSIER_REFUSED,
        DossierRefused(**base, status_code=PublicStatus.NOT_RECEIVED, reason="Không đủ điều kiện"),
        service="review",
        time=at(11, 4),
    )
    timeline = [
        {"_id": e.id, "sequence": n, "event_type": e.type.value, "event_time": e.time, "status_code": int(s),
         "event": e.model_dump_json(), "event_hash": "a" * 64, "previous_hash": "b" * 64, "hash": f"{n:064x}"}
        for n, (e, s) in enumerate([(received, PublicStatus.RECEIVED), (assigned, PublicStatus.RECEIVED),
                                    (refused, PublicStatus.NOT_RECEIVED)], 1)
    ]  # fmt: skip
    dossier = {"_id": "d-1", "code": "BNNMT-261103-0001", "agency_code": "BNNMT", "procedure_code": "MT-DTM-BO",
               "status_code": 3, "updated_at": at(11, 4), "finished_at": at(11, 4), "outcome": "refused",
               "applicant_name": "Lê Thị Hồng", "received_at": at(11, 3), "due_at": at(11, 20), "channel": "online",
               "procedure_name_vi": "Thẩm định báo cáo đánh giá tác động môi trường",
               "components": [{"code": "eia_report", "name": "Báo cáo đánh giá tác động môi trường", "paper_copies": 7,
                               "file_ids": ["f-1", "f-2"]},
                              {"code": "request_letter", "file_ids": ["f-3"]}]}  # fmt: skip
    return dossier, timeline


def test_forms_are_those_the_events_gave_plus_the_control_slip_and_the_book() -> None:
    dossier, timeline = entries()
    assert list(dossier_forms(dossier, timeline, {})) == [
        FormCode.RECEIPT, FormCode.REFUSAL, FormCode.PROCESS_CONTROL, FormCode.TRACKING_BOOK
    ]  # fmt: skip


def test_each_form_names_components_officers_and_the_applicants_contact_in_vietnamese() -> None:
    dossier, timeline = entries()
    contact = {"email": "hong.le@example.vn", "phone": "+84 912 345 678"}
    texts = {code: text_of(render_form(form)) for code, form in dossier_forms(dossier, timeline, contact).items()}
    receipt = texts[FormCode.RECEIPT]
    for phrase in ["Báo cáo đánh giá tác động môi trường", "7 bản giấy, 2 tệp điện tử", "Trần Thị Bình",
                   "Chuyên viên Bộ phận Một cửa", "hong.le@example.vn", "+84 912 345 678",
                   "Nơi nhận kết quả: Trực tuyến, trên Cổng dịch vụ công"]:  # fmt: skip
        assert phrase in receipt, phrase
    # A component the version did not name is listed by its code rather than dropped.
    assert "request_letter" in receipt
    control = texts[FormCode.PROCESS_CONTROL]
    assert "Trần Thị Bình, Chuyên viên Bộ phận Một cửa" in control
    assert "Chuyên viên: Lê Văn Cường" in control  # the assignee by name
    assert "u-7" not in control
    for code, text in texts.items():
        assert "officer-1" not in text, code  # an officer by name, never by account id
        assert not ENGLISH.search(text), (code, ENGLISH.findall(text))
    # Once erased, the contact is no longer printed.
    erased = dossier_forms(dossier, timeline, {"email": None, "phone": None})
    assert "hong.le@example.vn" not in text_of(render_form(erased[FormCode.RECEIPT]))


# Words a form of ours would print only by mistake (the English of an internal note or label).
ENGLISH = re.compile(r"\b(?:received|supplement|fee|paid|officer|dossier|the|and|of)\b", re.IGNORECASE)


def text_of(pdf: bytes) -> str:
    return " ".join("".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_archive_package_is_deterministic_and_its_manifest_hashes_its_files() -> None:
    dossier, timeline = entries()
    first, manifest = build_package(dossier, timeline)
    again, _ = build_package(dossier, timeline)
    assert first == again
    package = zipfile.ZipFile(io.BytesIO(first))
    assert package.namelist()[0] == "manifest.json"
    assert json.loads(package.read("manifest.json")) == manifest
    for entry in manifest["files"]:
        assert hashlib.sha256(package.read(entry["path"])).hexdigest() == entry["sha256"]
    assert manifest["timeline"]["chain_head"] == timeline[-1]["hash"]


def test_the_drop_folder_exporter_writes_the_whole_package_under_its_name(tmp_path: Path) -> None:
    exporter = DropFolderExporter(tmp_path / "out")
    where = asyncio.run(exporter.export("d-1", "BNNMT-261103-0001.zip", b"PK..."))
    assert Path(where) == tmp_path / "out" / "BNNMT-261103-0001.zip"
    assert Path(where).read_bytes() == b"PK..."
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["BNNMT-261103-0001.zip"]


def test_ratings_given_in_the_period_count_with_their_average_and_satisfied_share() -> None:
    ratings = [
        {"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "score": 5, "at": at(11, 5)},
        {"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "score": 3, "at": at(11, 6)},
        {"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "score": 4, "at": at(11, 7)},
        {"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "score": 1, "at": at(12, 1, 0)},  # the next period
    ]
    [row], total = statistics([], START, END, ratings)
    assert (row.ratings, row.ratings_satisfied, row.rating_score_sum) == (3, 2, 12)
    assert row.rating_average == 4.0
    assert row.satisfaction_rate == 0.6667
    assert total.rating_average == 4.0
    assert statistics([], START, END)[1].rating_average is None


def test_public_performance_takes_the_median_working_days_from_reception_to_result() -> None:
    calendar = WorkCalendar()
    summaries = [
        # Monday 2 Nov before office hours -> Wednesday 4 Nov 17:00: three working days; on time.
        summary(received_at=at(11, 2, 7), finished_at=at(11, 4, 17), due_at=at(11, 20), outcome="returned"),
        # Monday 2 Nov before office hours -> Monday 9 Nov 17:00: six working days; late.
        summary(received_at=at(11, 2, 7), finished_at=at(11, 9, 17), due_at=at(11, 5), outcome="returned"),
        summary(received_at=at(11, 2, 8), finished_at=at(11, 3), outcome="refused"),
        summary(procedure_code="MT-GPMT-BO", received_at=at(11, 2, 8)),
    ]
    ratings = [{"agency_code": "BNNMT", "procedure_code": "MT-DTM-BO", "score": 4, "at": at(11, 10)}]
    [eia] = performance(summaries, ratings, calendar, START)
    assert (eia.procedure_code, eia.resolved, eia.resolved_on_time, eia.on_time_rate) == ("MT-DTM-BO", 2, 1, 0.5)
    assert eia.median_working_days == 4.5
    assert (eia.ratings, eia.rating_average, eia.satisfaction_rate) == (1, 4.0, 1.0)


def test_the_workbook_has_the_vietnamese_headings_the_column_codes_and_every_row() -> None:
    rows, total = statistics([summary(received_at=at(11, 3), due_at=at(12, 5))], START, END)
    book = load_workbook(io.BytesIO(to_xlsx(rows, total, START.date(), END.date())))
    sheet = book.active
    assert sheet is not None
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert "01/11/2026" in str(values[0][0])
    assert values[1][:4] == ["Cơ quan", "Thủ tục", "Kỳ trước chuyển qua", "Tiếp nhận"]
    assert values[2][:4] == ["agency_code", "procedure_code", "carried_over", "received"]
    assert values[3][:5] == ["BNNMT", "MT-DTM-BO", 0, 1, 1]
    assert values[4][:4] == ["*", "*", 0, 1]


def extension(**granted: Any) -> Any:
    base = {"dossier_id": "d-1", "dossier_code": "BNNMT-261103-0001", "procedure_code": "MT-DTM-BO",
            "agency_code": "BNNMT", "actor_id": "leader-1", "actor_name": "Phạm Thu Dung",
            "actor_title": "Phó Cục trưởng", "status_code": PublicStatus.PROCESSING}  # fmt: skip
    return new_event(
        EventType.DOSSIER_DEADLINE_EXTENDED,
        DossierDeadlineExtended(
            **base,
            reason="Dự án phức tạp",
            previous_due_at=at(11, 20),
            new_due_at=at(12, 18),
            promised_at=at(12, 18) if granted else at(11, 20),
            **granted,
        ),
        service="review",
        time=at(11, 18),
    )


def test_an_extension_the_law_grants_moves_the_promise_and_gives_no_apology() -> None:
    granted = extension(granted_by="Thủ tướng Chính phủ", decision_number="1520/QĐ-TTg", article="Law 72/2020 Art. 34")
    apology = extension()
    payload = granted.payload()
    assert isinstance(payload, DossierEventData)
    assert _summary_fields(granted, payload)["promised_at"] == at(12, 18)
    payload = apology.payload()
    assert isinstance(payload, DossierEventData)
    assert _summary_fields(apology, payload)["promised_at"] == at(11, 20)  # an apology leaves the promise

    dossier, timeline = entries()
    timeline = timeline[:2]  # received, assigned
    for n, event in enumerate([granted], 3):
        timeline.append({"_id": event.id, "sequence": n, "event_type": event.type.value, "event_time": event.time,
                         "status_code": 4, "event": event.model_dump_json(), "event_hash": "a" * 64,
                         "previous_hash": "b" * 64, "hash": f"{n:064x}"})  # fmt: skip
    forms = dossier_forms({**dossier, "status_code": 4, "outcome": None}, timeline, {})
    assert FormCode.APOLOGY not in forms
    control = text_of(render_form(forms[FormCode.PROCESS_CONTROL]))
    assert "Gia hạn thời hạn theo quyết định của cơ quan có thẩm quyền" in control
    assert "Quyết định số 1520/QĐ-TTg của Thủ tướng Chính phủ" in control
    assert "xin lỗi" not in control


@pytest.mark.parametrize("step", get_args(AppraisalStepName))
def test_every_council_step_has_its_name_on_form_05_and_on_the_portal(step: str) -> None:
    assert f"dossier.appraisal_recorded.{step}" in STEP_LABELS
    for language in ("vi", "en"):
        assert Translator(language).has(f"event.dossier.appraisal_recorded.{step}"), (language, step)


def test_a_resumption_is_named_by_what_it_took_on_form_05_and_on_the_portal() -> None:
    assert step_detail({"after": "fee_paid", "reason": "Đã nộp phí"}) == "fee_paid"
    assert step_detail({"after": "revised"}) == "revised"
    assert step_detail({"after": "supplemented"}) is None  # a resumption as any other
    assert STEP_LABELS["dossier.processing_resumed.fee_paid"] == "Ghi nhận đã nộp phí"
    assert STEP_LABELS["dossier.processing_resumed.revised"] == "Tiếp nhận báo cáo đã chỉnh sửa, bổ sung"
    for language in ("vi", "en"):
        for after in ("fee_paid", "revised"):
            assert Translator(language).has(f"event.dossier.processing_resumed.{after}"), (language, after)


def test_a_revised_report_is_named_as_one_on_form_05_and_on_the_portal_and_a_supplement_as_a_supplement() -> None:
    assert step_detail({"supplement_id": "s-1", "purpose": "revision"}) == "revision"
    assert step_detail({"supplement_id": "s-1", "purpose": "supplement"}) is None
    assert step_label("dossier.supplemented", {"purpose": "revision"}) == "Nộp báo cáo đã chỉnh sửa, bổ sung"
    assert step_label("dossier.supplemented", {"purpose": "supplement"}) == "Bổ sung hồ sơ"
    vi = Translator("vi")
    assert vi.event("vn.gov.hoso.dossier.supplemented.v1", "revision") == "Nộp báo cáo đã chỉnh sửa, bổ sung"
    assert vi.event("vn.gov.hoso.dossier.supplemented.v1", None) == "Bổ sung hồ sơ"
    assert Translator("en").has("event.dossier.supplemented.revision")
