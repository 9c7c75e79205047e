"""Personal data out of the hash chain (`records.domain.personal`): digests in the chain, values kept aside."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import Applicant, DossierReceived, DossierSubmitted
from hoso.events.envelope import Envelope
from hoso.pins import hash_pin
from records.domain.personal import PREFIX, chained_form, digest, matches, new_salt, personal_values

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "dossier_id": "d-1",
    "dossier_code": "BNNMT-261201-0001",
    "procedure_code": "MT-DTM-BO",
    "agency_code": "BNNMT",
}


def submitted(kind: str = "citizen", **applicant: Any) -> Envelope:
    person = Applicant(id="citizen-1", kind=kind, **applicant)  # type: ignore[arg-type]
    data = DossierSubmitted(
        **BASE, status_code=PublicStatus.NEW, procedure_version="2025-03", applicant=person, submitted_at=AT
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service="intake", time=AT)


def test_a_citizen_s_name_and_contact_are_digests_in_the_chain_and_nothing_else_changes() -> None:
    event = submitted(name="Trần Thị Mai", email="mai@example.vn", phone="+84901234567", address="Số 3 phố Huế, Hà Nội")
    salt = new_salt()
    chained = chained_form(event, salt)
    assert "Số 3 phố Huế".encode() not in chained
    assert b"mai@example.vn" not in chained
    assert b"+84901234567" not in chained
    assert "Trần Thị Mai".encode() not in chained
    whole, original = json.loads(chained), json.loads(event.canonical())
    applicant = whole["data"].pop("applicant")
    assert applicant == {
        "id": "citizen-1",
        "kind": "citizen",
        "name": digest("Trần Thị Mai", salt),
        "email": digest("mai@example.vn", salt),
        "phone": digest("+84901234567", salt),
        "address": digest("Số 3 phố Huế, Hà Nội", salt),
    }
    original["data"].pop("applicant")
    assert whole == original
    assert chained_form(event, salt) == chained  # the same bytes when the event comes again
    assert matches("+84901234567", applicant["phone"], salt)
    assert not matches("+84901234568", applicant["phone"], salt)


def test_the_same_value_gives_another_digest_under_another_dossier_s_salt() -> None:
    event = submitted(name="Trần Thị Mai", phone="+84901234567")
    one, other = json.loads(chained_form(event, new_salt())), json.loads(chained_form(event, new_salt()))
    assert one["data"]["applicant"]["phone"] != other["data"]["applicant"]["phone"]


def test_an_organisation_s_name_is_the_project_owner_on_record_and_stays() -> None:
    event = submitted("organisation", name="Công ty TNHH Môi trường Xanh", email="lienhe@xanh.vn")
    assert personal_values(event) == {"applicant.email": "lienhe@xanh.vn"}
    chained = json.loads(chained_form(event, new_salt()))
    assert chained["data"]["applicant"]["name"] == "Công ty TNHH Môi trường Xanh"
    assert chained["data"]["applicant"]["email"].startswith(PREFIX)


def test_after_an_erasure_nothing_personal_is_chained_again() -> None:
    event = submitted(name="Trần Thị Mai", email="mai@example.vn")
    chained = json.loads(chained_form(event, None))
    assert chained["data"]["applicant"]["name"] == PREFIX + "erased"
    assert chained["data"]["applicant"]["email"] == PREFIX + "erased"


def test_an_event_without_personal_data_is_chained_as_it_is() -> None:
    data = DossierReceived(
        **BASE, status_code=PublicStatus.RECEIVED, actor_id="officer-1", receipt_number="BNNMT-261201-0001/TN",
        received_at=AT, appointment_at=AT, due_at=AT, tracking_pin_hash=hash_pin("12345678"),
    )  # fmt: skip
    event = new_event(EventType.DOSSIER_RECEIVED, data, service="review", time=AT)
    assert personal_values(event) == {}
    assert chained_form(event, new_salt()) == event.canonical()
    anonymous = submitted()
    assert chained_form(anonymous, new_salt()) == anonymous.canonical()  # nothing given, nothing to hide
