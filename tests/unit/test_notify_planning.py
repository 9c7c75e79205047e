"""Who gets what, on which channel (`notify.planning`, pure): the deliveries the rules call for on an event."""

from __future__ import annotations

from datetime import UTC, datetime

from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import DossierAppraisalRecorded, DossierReceived, DossierSupplemented
from hoso.events.envelope import Envelope
from hoso.pins import hash_pin
from notify.domain.catalog import Channel, RecipientRole, load_catalog
from notify.domain.messages import SAMPLE_DOSSIER, SAMPLE_RECIPIENT, render
from notify.planning import Recipient, facts, plan, recipient_of, roles_of

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CATALOG = load_catalog()
DOSSIER = {
    "code": "BNNMT-261201-0001",
    "agency_code": "BNNMT",
    "procedure_name_vi": "Thẩm định báo cáo đánh giá tác động môi trường",
    "procedure_name_en": "Appraisal of an environmental impact assessment report",
    "applicant": {"id": "citizen-1", "name": "Trần Thị Mai"},
}


def received() -> tuple[Envelope, DossierReceived]:
    data = DossierReceived(
        dossier_id="d-1", dossier_code=DOSSIER["code"], procedure_code="MT-DTM-BO", agency_code="BNNMT",
        status_code=PublicStatus.RECEIVED, actor_id="officer-1", receipt_number="BNNMT-261201-0001/TN",
        received_at=AT, appointment_at=AT, due_at=AT, tracking_pin_hash=hash_pin("12345678"),
    )  # fmt: skip
    return new_event(EventType.DOSSIER_RECEIVED, data, service="review", time=AT), data


def applicant(**fields: object) -> Recipient:
    found = recipient_of(None, RecipientRole.APPLICANT, id="citizen-1", name="Trần Thị Mai", **fields)
    assert found is not None
    return found


def test_each_channel_the_rule_names_and_the_recipient_can_be_reached_on_gets_one_delivery() -> None:
    event, data = received()
    assert roles_of(CATALOG, event) == [RecipientRole.APPLICANT]
    people = {RecipientRole.APPLICANT: [applicant(email="mai@example.vn", phone="+84901234567")]}
    planned = dict(plan(CATALOG, event, data, DOSSIER, people, sms=True))
    assert sorted(f["channel"] for f in planned.values()) == ["email", "in_app", "sms"]
    by_channel = {f["channel"]: f for f in planned.values()}
    assert by_channel["email"]["address"] == "mai@example.vn"
    assert by_channel["sms"]["address"] == "+84901234567"
    assert by_channel["in_app"]["address"] == "citizen-1"
    assert by_channel["email"]["form"] == "01"  # the receipt travels with the e-mail
    assert by_channel["sms"]["form"] is None
    assert len(set(planned)) == 3
    assert dict(plan(CATALOG, event, data, DOSSIER, people, sms=True)) == planned  # the same ids again


def test_no_sms_without_a_provider_no_channel_without_an_address_none_turned_off() -> None:
    event, data = received()
    reachable = {RecipientRole.APPLICANT: [applicant(email="mai@example.vn", phone="+84901234567")]}
    no_provider = plan(CATALOG, event, data, DOSSIER, reachable, sms=False)
    assert sorted(f["channel"] for _, f in no_provider) == ["email", "in_app"]
    no_email = {RecipientRole.APPLICANT: [applicant(phone="+84901234567")]}
    assert sorted(f["channel"] for _, f in plan(CATALOG, event, data, DOSSIER, no_email, sms=True)) == ["in_app", "sms"]
    off = recipient_of(
        {"_id": "citizen-1", "channels": {"email": False}}, RecipientRole.APPLICANT, email="mai@example.vn"
    )
    assert off is not None
    turned_off = plan(CATALOG, event, data, DOSSIER, {RecipientRole.APPLICANT: [off]}, sms=True)
    assert [f["channel"] for _, f in turned_off] == ["in_app"]
    assert plan(CATALOG, event, data, DOSSIER, {}, sms=True) == []


def test_a_message_names_the_dossier_in_the_recipient_s_language() -> None:
    assert facts(DOSSIER, "en").procedure_name == "Appraisal of an environmental impact assessment report"
    assert facts(DOSSIER, "vi").applicant_name == "Trần Thị Mai"
    assert facts(DOSSIER, "vi").agency_name != "BNNMT"  # the agency by its name, not its code


def test_the_owner_hears_of_the_councils_conclusion_and_of_none_of_its_other_steps() -> None:
    people = {RecipientRole.APPLICANT: [applicant(email="mai@example.vn")]}
    base = {"dossier_id": "d-1", "dossier_code": DOSSIER["code"], "procedure_code": "MT-DTM-BO",
            "agency_code": "BNNMT", "status_code": PublicStatus.PROCESSING, "actor_id": "cv-1"}  # fmt: skip
    for step, heard in [("council_established", False), ("review_submitted", False), ("site_surveyed", False),
                        ("consulted", False), ("meeting_held", True)]:  # fmt: skip
        data = DossierAppraisalRecorded(**base, step=step, conclusion="approve_with_revisions", summary="7/7 có mặt")
        event = new_event(EventType.DOSSIER_APPRAISAL_RECORDED, data, service="review", time=AT)
        planned = plan(CATALOG, event, data, DOSSIER, people, sms=True)
        assert sorted(f["channel"] for _, f in planned) == (["email", "in_app"] if heard else []), step
    catalog = load_catalog()
    template = catalog.template("dossier.appraisal_recorded", RecipientRole.APPLICANT, Channel.EMAIL)
    told = render(template, "vi", data, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert "kết luận: thông qua với điều kiện chỉnh sửa, bổ sung" in told.body
    assert "Tóm tắt biên bản: 7/7 có mặt" in told.body


def test_the_officer_hears_a_revised_report_as_one_and_a_supplement_as_a_supplement() -> None:
    catalog = load_catalog()
    template = catalog.template("dossier.supplemented", RecipientRole.ASSIGNEE, Channel.IN_APP)
    base = {"dossier_id": "d-1", "dossier_code": DOSSIER["code"], "procedure_code": "MT-DTM-BO",
            "agency_code": "BNNMT", "status_code": PublicStatus.PROCESSING, "supplement_id": "s-1"}  # fmt: skip
    revised = render(template, "vi", DossierSupplemented(**base, purpose="revision"), SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert "đã nộp báo cáo đã chỉnh sửa, bổ sung" in revised.subject
    assert "theo kết luận của hội đồng thẩm định" in revised.body
    supplement = render(template, "vi", DossierSupplemented(**base), SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert supplement.subject.endswith("đã được bổ sung")
    assert "đã bổ sung hồ sơ" in supplement.body
    assert "báo cáo" not in supplement.body
