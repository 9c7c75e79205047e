"""The dossier's paths through the platform, seen from the outside only: HTTP answers through the gateway, e-mails
in the SMTP sink, the timeline, its audit and public tracking."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pypdf
import pytest
from hoso_dev.walkthrough import Walkthrough

from hoso.auth import Role
from intake.domain.payment import sign
from tests.platform import PAYMENT_SECRET, Platform

pytestmark = pytest.mark.e2e


def pdf_text(content: bytes) -> str:
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages).split())


def received(walk: Walkthrough) -> tuple[str, str]:
    walk.register_preferences()
    code = walk.submit_eia()
    walk.wait_review(code, "awaiting_reception")
    answer = walk.act(walk.reception, code, "receive")
    return code, str(answer["tracking_pin"])


def test_the_demo_path_from_submission_to_the_returned_result(walk: Walkthrough) -> None:
    code, pin = walk.eia_to_result()
    applicant = walk.applicant.email
    subjects = sorted(str(m["Subject"]) for m in walk.mail(code, to=applicant))
    assert subjects == sorted(
        [
            f"Hồ sơ {code} đã được nộp trực tuyến",
            f"Giấy tiếp nhận hồ sơ {code} và hẹn trả kết quả",
            f"Yêu cầu bổ sung, hoàn thiện hồ sơ {code}",
            f"Thông báo kết quả thẩm định của hội đồng, hồ sơ {code}",  # the council's conclusion, not its other steps
            f"Chỉnh sửa, bổ sung báo cáo theo kết luận của hội đồng thẩm định, hồ sơ {code}",
            f"Hồ sơ {code} đã được phê duyệt",
            f"Trả kết quả hồ sơ {code}",
        ]
    )
    receipt = next(m for m in walk.mail(code, to=applicant) if "Giấy tiếp nhận" in str(m["Subject"]))
    form = next(receipt.iter_attachments())
    text = pdf_text(form.get_payload(decode=True))
    assert code in text
    assert pin in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    # Signed by the reception officer by name and position (their account's), the components by their names.
    assert f"{walk.reception.name} Chuyên viên Bộ phận Một cửa" in text
    assert "Báo cáo đánh giá tác động môi trường" in text
    assert "eia_report" not in text
    assert walk.reception.subject not in text
    # The specialist heard of the assignment, the leaders of the proposal.
    assert walk.mail(code, to=walk.specialist.email)
    assert any("Trình ký" in str(m["Subject"]) for m in walk.mail(code, to=walk.leader.email))

    steps = [e["event_type"].removeprefix("vn.gov.hoso.").removesuffix(".v1") for e in walk.timeline(code)]
    lifecycle = [s for s in steps if s.startswith("dossier.")]
    assert lifecycle[:15] == [
        "dossier.submitted", "dossier.supplement_requested", "dossier.supplemented", "dossier.processing_resumed",
        "dossier.received", "dossier.assigned", "dossier.appraisal_recorded", "dossier.appraisal_recorded",
        "dossier.appraisal_recorded", "dossier.supplement_requested", "dossier.supplemented",
        "dossier.processing_resumed", "dossier.decision_proposed", "dossier.approved", "dossier.result_returned",
    ]  # fmt: skip
    details = [e["detail"] for e in walk.timeline(code) if e["event_type"].endswith(".appraisal_recorded.v1")]
    assert details == ["council_established", "review_submitted", "meeting_held"]
    # The revision notice is the agency's own, not Form 02: one Form 02, for the missing document at reception.
    revision = walk.wait_mail(code, "Chỉnh sửa, bổ sung báo cáo", to=applicant)
    assert list(revision.iter_attachments()) == []
    assert "Thời gian chỉnh sửa không tính vào thời hạn thẩm định" in str(revision.get_body(("plain",)).get_content())
    control = pdf_text(walk.call("GET", f"/api/v1/records/dossiers/{code}/forms/05.pdf", walk.leader).content)
    for said in ("Thành lập hội đồng thẩm định", "Họp hội đồng thẩm định", "Thông báo chỉnh sửa, bổ sung báo cáo"):
        assert said in control
    assert "notification.delivered" in steps
    assert walk.audit(code)["valid"] is True
    tracked = walk.tracking(code, pin)
    assert tracked["status_code"] == 10
    assert walk.applicant.name not in str(tracked)
    walk.wait_timeline(code, "dossier.archived")
    archive = walk.call("GET", f"/api/v1/records/dossiers/{code}/archive", walk.leader)
    assert archive.headers["content-type"] == "application/zip"


def test_refusal_at_reception_sends_form_03_and_ends_the_dossier(walk: Walkthrough) -> None:
    walk.register_preferences()
    code = walk.submit_eia()
    walk.wait_review(code, "awaiting_reception")
    walk.act(walk.reception, code, "refuse", reason="Hồ sơ không thuộc thẩm quyền của Bộ")
    seen = walk.wait_status(code, 3)
    assert seen["allowed_actions"] == []
    refusal = walk.wait_mail(code, "Từ chối", to=walk.applicant.email)
    form = next(refusal.iter_attachments())
    assert form.get_filename() == f"Mau-03-{code}.pdf"
    assert "Hồ sơ không thuộc thẩm quyền của Bộ" in pdf_text(form.get_payload(decode=True))
    walk.wait_timeline(code, "dossier.archived")
    assert walk.audit(code)["valid"] is True
    forms = walk.call("GET", f"/api/v1/records/dossiers/{code}/forms/03.pdf", walk.leader)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ" in pdf_text(forms.content)


def test_withdrawal_waits_for_an_officer_to_stop_processing(walk: Walkthrough) -> None:
    code, pin = received(walk)
    walk.wait_status(code, 2)
    walk.withdraw(code)
    walk.wait_review(code, "withdrawal_requested")
    assert walk.applicant_view(code)["status"]["code"] == 7
    walk.act(walk.reception, code, "stop", reason="Theo đề nghị rút hồ sơ của chủ dự án")
    walk.wait_status(code, 8)
    walk.wait_mail(code, "Dừng xử lý", to=walk.applicant.email)
    assert walk.tracking(code, pin)["status_code"] == 8
    assert walk.audit(code)["valid"] is True


def test_a_fee_requested_and_paid_resumes_processing(walk: Walkthrough) -> None:
    code, _ = received(walk)
    walk.act(walk.leader, code, "assign", assignee_id=walk.specialist.subject)
    walk.act(walk.specialist, code, "request_fee", amount_vnd=24_000_000)
    # The appraisal goes on while the fee is awaited: status 4, the clock running, the fee payable.
    asked = walk.wait("the fee for the applicant", lambda: (v := walk.applicant_view(code)).get("fee") and v)
    assert asked["status"]["code"] == 4
    assert asked["clock_paused"] is False
    assert "pay_fee" in asked["allowed_actions"]
    walk.wait_mail(code, "nộp phí", to=walk.applicant.email)
    link = walk.call("GET", f"/api/v1/dossiers/{code}/payment", walk.applicant)
    query = dict(parse_qsl(urlsplit(link["payment_url"]).query))
    assert query["vnp_Amount"] == "2400000000"
    params = {
        "vnp_Amount": "2400000000", "vnp_TxnRef": link["reference"], "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00", "vnp_TransactionNo": "14123456", "vnp_TmnCode": query["vnp_TmnCode"],
    }  # fmt: skip
    forged = walk.http.get("/api/v1/payments/callbacks/vnpay", params={**params, "vnp_SecureHash": "0" * 128})
    assert forged.status_code == 400
    signed = {**params, "vnp_SecureHash": sign(params, PAYMENT_SECRET)}
    paid = walk.call("GET", "/api/v1/payments/callbacks/vnpay", params=signed)
    assert paid["RspCode"] == "00"
    walk.wait("the fee paid for review", lambda: (walk.review_view(code) or {}).get("fee_paid_at"))
    assert walk.wait_status(code, 4)["fee"]["paid_at"] is not None
    walk.wait_timeline(code, "dossier.processing_resumed")
    # The council meets now that it is paid.
    walk.through_council(code, conclusion="approve")
    assert walk.wait_review(code, "council_concluded")["council"]["conclusion"] == "approve"


def test_an_eia_appraisal_extended_by_the_prime_ministers_decision_tells_the_owner_without_an_apology(
    walk: Walkthrough,
) -> None:
    # Law 72/2020 Art. 34(6)(d): only the Prime Minister's decision extends it; the leader records it.
    code, pin = received(walk)
    before = walk.wait_status(code, 2)["due_at"]
    assert before is not None
    new_due = (datetime.fromisoformat(before) + timedelta(days=15)).astimezone(UTC).isoformat()
    reason = "Dự án cần khảo sát thực địa bổ sung"
    walk.act(walk.leader, code, "extend_deadline", reason=reason, new_due_at=new_due, decision_number="1520/QĐ-TTg")
    told = walk.wait_mail(code, "Gia hạn thời hạn giải quyết", to=walk.applicant.email)
    body = told.get_body(preferencelist=("plain",))
    assert body is not None
    text = " ".join(str(body.get_content()).split())
    assert "theo Quyết định số 1520/QĐ-TTg của Thủ tướng Chính phủ" in text
    assert reason in text
    assert list(told.iter_attachments()) == []  # no apology slip (Form 04)
    assert not [m for m in walk.mail(code, to=walk.applicant.email) if "xin lỗi" in str(m["Subject"]).lower()]
    seen = walk.wait(
        "the new date for the applicant",
        lambda: (view := walk.applicant_view(code))["due_at"] != before and view,
    )
    assert (seen["extension"]["granted_by"], seen["extension"]["decision_number"]) == (
        "Thủ tướng Chính phủ",
        "1520/QĐ-TTg",
    )
    tracked = walk.tracking(code, pin)
    assert datetime.fromisoformat(tracked["appointment_at"]) > datetime.fromisoformat(before)


def test_one_trace_follows_a_submission_from_the_http_request_into_every_consumer(
    walk: Walkthrough, platform: Platform
) -> None:
    walk.register_preferences()
    code = walk.submit_eia("Dự án theo dõi vết")
    walk.wait_review(code, "awaiting_reception")
    walk.wait_mail(code, "nộp trực tuyến", to=walk.applicant.email)
    walk.wait_timeline(code, "dossier.submitted")

    def consumers_of_submission() -> dict[str, str] | None:
        found = {
            span["resource"]["attributes"]["service.name"]: span["context"]["trace_id"]
            for span in platform.spans()
            if span["name"] == "dossier.submitted process" and span["attributes"].get("hoso.dossier_code") == code
        }
        return found if len(found) == 3 else None

    consumers = walk.wait("the submission's spans in review, notify and records", consumers_of_submission)
    assert set(consumers) == {"hoso-review", "hoso-notify", "hoso-records"}
    trace_ids = set(consumers.values())
    assert len(trace_ids) == 1
    (trace_id,) = trace_ids
    requests = [
        s for s in platform.spans()
        if s["context"]["trace_id"] == trace_id and s["resource"]["attributes"]["service.name"] == "hoso-intake"
    ]  # fmt: skip
    assert [s["name"] for s in requests if s["kind"] == "SpanKind.SERVER"] == ["POST /api/v1/dossiers"]


def test_an_erasure_of_the_applicants_personal_data_reaches_every_service_that_kept_a_copy(walk: Walkthrough) -> None:
    code, _ = received(walk)
    walk.wait_mail(code, "Giấy tiếp nhận", to=walk.applicant.email)
    admin = walk._person(f"admin-{walk.agency.lower()}", Role.ADMIN, "Đỗ Minh Quân", walk.agency)
    ops = walk._person("ops-e2e", Role.OPS, "Vũ Thành Long", None)
    reason = "Đề nghị xoá dữ liệu cá nhân của chủ thể dữ liệu, số 07/ĐN"
    walk.call("POST", f"/api/v1/records/dossiers/{code}/personal-data/erasure", admin, json={"reason": reason})

    def erased_everywhere() -> bool:
        mine = walk.applicant_view(code)
        items = walk.call("GET", f"/api/v1/notify/deliveries?dossier_code={code}", ops)["items"]
        mails = [d for d in items if d["recipient_role"] == "applicant" and d["channel"] == "email"]
        return not mine["applicant"].get("email") and len(mails) == 2 and all(d["address"] == "***" for d in mails)

    walk.wait("the applicant's e-mail erased by intake and notify", erased_everywhere)
    walk.wait_timeline(code, "dossier.personal_data_erased")
    assert walk.audit(code)["valid"] is True
    # The dossier goes on; its applicant hears of it in the app only.
    walk.act(walk.leader, code, "assign", assignee_id=walk.specialist.subject)
    walk.wait_review(code, "in_appraisal")
    walk.act(walk.specialist, code, "request_fee", amount_vnd=24_000_000)
    walk.wait("the fee request in the applicant's inbox", lambda: [
        d for d in walk.call("GET", f"/api/v1/notify/deliveries?dossier_code={code}", ops)["items"]
        if d["event_type"] == "dossier.fee_requested" and d["recipient_role"] == "applicant"
    ])  # fmt: skip
    told = [
        d["channel"]
        for d in walk.call("GET", f"/api/v1/notify/deliveries?dossier_code={code}", ops)["items"]
        if d["event_type"] == "dossier.fee_requested" and d["recipient_role"] == "applicant"
    ]
    assert told == ["in_app"]
