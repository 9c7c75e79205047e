"""The dossier's documents from its summary and timeline: the forms 01-06 and the archive package (pure).

The same inputs give the same bytes: forms carry the time of the event they come from, and the ZIP's entries carry
the dossier's end time, so a package rebuilt after a crash is identical to the first.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hoso_forms import (
    FORM_OF_EVENT,
    ControlStep,
    FormCode,
    FormData,
    FormDossier,
    ProcessControlForm,
    TrackingBookForm,
    TrackingRow,
    form_for_event,
    render_form,
)

from hoso.documents import Document
from hoso.events import Envelope, EventType, PublicStatus
from hoso.events.catalog import SYSTEM_ACTOR
from hoso.events.status import status_label

PACKAGE_FORMAT = "hoso-archive/1"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")

STEP_LABELS: dict[str, str] = {
    "dossier.submitted": "Nộp hồ sơ trực tuyến",
    "dossier.received": "Tiếp nhận hồ sơ",
    "dossier.refused": "Từ chối tiếp nhận, giải quyết",
    "dossier.assigned": "Phân công xử lý",
    "dossier.supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "dossier.supplemented": "Bổ sung hồ sơ",
    "dossier.supplement_requested.revision": "Thông báo chỉnh sửa, bổ sung báo cáo",
    "dossier.supplemented.revision": "Nộp báo cáo đã chỉnh sửa, bổ sung",
    "dossier.fee_requested": "Thông báo nộp phí",
    "dossier.appraisal_recorded.council_established": "Thành lập hội đồng thẩm định",
    "dossier.appraisal_recorded.review_submitted": "Bản nhận xét của thành viên hội đồng",
    "dossier.appraisal_recorded.site_surveyed": "Khảo sát thực tế",
    "dossier.appraisal_recorded.consulted": "Lấy ý kiến cơ quan, tổ chức, chuyên gia",
    "dossier.appraisal_recorded.meeting_held": "Họp hội đồng thẩm định",
    "dossier.fee_paid": "Nộp phí",
    "dossier.processing_resumed": "Tiếp tục xử lý",
    "dossier.processing_resumed.fee_paid": "Ghi nhận đã nộp phí",
    "dossier.processing_resumed.revised": "Tiếp nhận báo cáo đã chỉnh sửa, bổ sung",
    "dossier.withdrawal_requested": "Đề nghị rút hồ sơ",
    "dossier.withdrawal_accepted": "Tiếp nhận đề nghị rút hồ sơ",
    "dossier.decision_proposed": "Trình kết quả giải quyết",
    "dossier.approved": "Phê duyệt",
    "dossier.rejected": "Không phê duyệt",
    "dossier.deadline_extended": "Gia hạn, xin lỗi và hẹn lại",
    "dossier.deadline_extended.granted": "Gia hạn thời hạn theo quyết định của cơ quan có thẩm quyền",
    "dossier.result_returned": "Trả kết quả",
    "dossier.stopped": "Dừng xử lý",
    "dossier.due_soon": "Sắp đến hạn",
    "dossier.overdue": "Quá hạn",
    "dossier.archived": "Lưu trữ hồ sơ",
    "dossier.personal_data_erased": "Xoá dữ liệu cá nhân",
}


def _event(entry: Document) -> Envelope:
    return Envelope.model_validate_json(entry["event"])


def _dossier_entries(timeline: Sequence[Document]) -> list[Document]:
    """The entries of the dossier's processing: its events with a status (not messages, deliveries or erasures)."""
    return [e for e in timeline if e.get("status_code") is not None]


def _procedure_name(summary: Document) -> str:
    return str(summary.get("procedure_name_vi") or summary.get("procedure_code", ""))


def _actor(data: dict[str, Any]) -> str:
    """Who acted, by name and position; the system's own steps say so; an account without a name, by its id."""
    if data.get("actor_id") == SYSTEM_ACTOR:
        return "Hệ thống"
    name = str(data.get("actor_name") or data.get("actor_id") or "")
    return f"{name}, {data['actor_title']}" if name and data.get("actor_title") else name


CONCLUSIONS = {
    "approve": "Thông qua",
    "approve_with_revisions": "Thông qua với điều kiện chỉnh sửa, bổ sung",
    "not_approve": "Không thông qua",
}


def step_detail(data: Mapping[str, Any]) -> str | None:
    """What kind of step an event of a general type is: a council's step, a supplement that is a revision, an
    extension the law grants (an authority's decision, not the agency's apology), what a resumption took (the fee
    paid, the revised report)."""
    if data.get("step"):
        return str(data["step"])
    if data.get("granted_by"):
        return "granted"
    if data.get("purpose") == "revision":
        return "revision"
    return str(data["after"]) if data.get("after") in ("fee_paid", "revised") else None


def step_label(name: str, data: dict[str, Any]) -> str:
    """The step as Form 05 names it: a council's steps and a report's revision by what they are."""
    return STEP_LABELS.get(f"{name}.{step_detail(data)}") or STEP_LABELS.get(name, name)


def _note(data: dict[str, Any]) -> str:
    if data.get("conclusion"):
        said = f"Kết luận: {CONCLUSIONS[data['conclusion']]}"
        if data.get("member_name"):
            said = f"{data['member_name']}: {CONCLUSIONS[data['conclusion']]}"
        return f"{said}. {data['summary']}" if data.get("summary") else said
    if data.get("members"):
        return f"Quyết định số {data.get('decision_number')}; {len(data['members'])} thành viên"
    if data.get("granted_by"):
        return f"Quyết định số {data.get('decision_number')} của {data['granted_by']}: {data.get('reason', '')}"
    for key in ("reason", "summary", "note", "decision_number"):
        if data.get(key):
            return str(data[key])
    if data.get("items"):
        return "; ".join(str(i) for i in data["items"])
    if data.get("assignee_id"):
        return f"Chuyên viên: {data.get('assignee_name') or data['assignee_id']}"
    return ""


def form_dossier(summary: Document, contact: Mapping[str, str | None]) -> FormDossier:
    """What the forms say of the dossier, from its summary and the applicant's contact where it is still kept."""
    return FormDossier.of(
        procedure_name=_procedure_name(summary),
        applicant_name=summary.get("applicant_name", ""),
        contact=contact,
        channel=summary.get("channel"),
        components=summary.get("components", []),
    )


def event_forms(
    summary: Document, timeline: Sequence[Document], contact: Mapping[str, str | None]
) -> dict[FormCode, FormData]:
    """Forms 01-04 the dossier's events gave (the latest of each), without the PIN: records only has its hash."""
    dossier = form_dossier(summary, contact)
    found: dict[FormCode, FormData] = {}
    for entry in _dossier_entries(timeline):
        event = _event(entry)
        payload = event.payload()
        if type(payload) not in FORM_OF_EVENT:
            continue
        form = form_for_event(payload, issued_at=event.time, dossier=dossier)
        if form is not None:
            found[form.form] = form
    return found


def process_control_form(summary: Document, timeline: Sequence[Document]) -> ProcessControlForm:
    entries = _dossier_entries(timeline)
    steps = []
    for entry in entries:
        data = _event(entry).data
        name = EventType(entry["event_type"]).short_name
        steps.append(
            ControlStep(
                at=entry["event_time"],
                step=step_label(name, data),
                actor=_actor(data),
                note=_note(data),
            )
        )
    return ProcessControlForm(
        agency_code=summary["agency_code"],
        dossier_code=summary["code"],
        procedure_name=_procedure_name(summary),
        applicant_name=summary.get("applicant_name", ""),
        channel=summary.get("channel"),
        issued_at=entries[-1]["event_time"] if entries else summary["updated_at"],
        received_at=summary.get("received_at"),
        due_at=summary.get("due_at"),
        steps=steps,
    )


def tracking_book_form(summary: Document, timeline: Sequence[Document]) -> TrackingBookForm:
    entries = _dossier_entries(timeline)
    status = PublicStatus(entries[-1]["status_code"] if entries else summary["status_code"])
    row = TrackingRow(
        dossier_code=summary["code"],
        applicant_name=summary.get("applicant_name", ""),
        received_at=summary.get("received_at"),
        due_at=summary.get("due_at"),
        status=status_label(status, "vi"),
        finished_at=summary.get("finished_at"),
    )
    return TrackingBookForm(
        agency_code=summary["agency_code"],
        dossier_code=summary["code"],
        procedure_name=_procedure_name(summary),
        issued_at=entries[-1]["event_time"] if entries else summary["updated_at"],
        rows=[row],
    )


def dossier_forms(
    summary: Document, timeline: Sequence[Document], contact: Mapping[str, str | None]
) -> dict[FormCode, FormData]:
    """Every form the dossier has: 01-04 where its events gave them, 05 and 06 always."""
    forms = event_forms(summary, timeline, contact)
    forms[FormCode.PROCESS_CONTROL] = process_control_form(summary, timeline)
    forms[FormCode.TRACKING_BOOK] = tracking_book_form(summary, timeline)
    return dict(sorted(forms.items()))


# --- the archive package ----------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _timeline_json(timeline: Sequence[Document]) -> bytes:
    entries = [
        {
            "sequence": e["sequence"],
            "event_id": e["_id"],
            "event_type": e["event_type"],
            "event_time": e["event_time"].isoformat(),
            "status_code": e["status_code"],
            "event": json.loads(e["event"]),
            "event_hash": e["event_hash"],
            "previous_hash": e["previous_hash"],
            "hash": e["hash"],
        }
        for e in timeline
    ]
    return json.dumps({"entries": entries}, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_package(summary: Document, timeline: Sequence[Document]) -> tuple[bytes, Document]:
    """The archive ZIP of an ended dossier and its manifest: metadata, components, timeline and chain head, forms."""
    files: dict[str, bytes] = {"timeline.json": _timeline_json(timeline)}
    for code, form in dossier_forms(summary, timeline, {}).items():
        files[f"forms/mau-{code.value}.pdf"] = render_form(form)
    head = timeline[-1]["hash"] if timeline else None
    manifest: Document = {
        "format": PACKAGE_FORMAT,
        "dossier": {
            "id": summary["_id"],
            "code": summary["code"],
            "agency_code": summary["agency_code"],
            "procedure_code": summary["procedure_code"],
            "procedure_version": summary.get("procedure_version"),
            "procedure_name": _procedure_name(summary),
            "applicant": {
                "id": summary.get("applicant_id"),
                "name": summary.get("applicant_name", ""),
                "kind": summary.get("applicant_kind"),
            },
            "receipt_number": summary.get("receipt_number"),
            "submitted_at": _iso(summary.get("submitted_at")),
            "received_at": _iso(summary.get("received_at")),
            "due_at": _iso(summary.get("due_at")),
            "finished_at": _iso(summary.get("finished_at")),
            "outcome": summary.get("outcome"),
            "decision": summary.get("decision"),
            "decision_number": summary.get("decision_number"),
            "status_code": timeline[-1]["status_code"] if timeline else summary.get("status_code"),
        },
        "components": summary.get("components", []),
        "timeline": {"entries": len(timeline), "chain_head": head, "file": "timeline.json"},
        "files": [{"path": path, "sha256": sha256(data), "size": len(data)} for path, data in sorted(files.items())],
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    moment = (summary.get("finished_at") or summary["updated_at"]).astimezone(LOCAL)
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in ["manifest.json", *sorted(p for p in files if p != "manifest.json")]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue(), manifest
