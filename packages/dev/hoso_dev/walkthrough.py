"""Driving the platform from the outside, through the gateway, as applicants and officers do: `hoso-dev demo` walks one
EIA dossier from submission to the returned result, and the end-to-end tests walk the other paths with the same
client. Local mode only: the tokens are signed with the development key.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import jwt
from fpdf import FPDF
from hoso_forms.render import FAMILY, FONTS

from hoso.auth import Role
from hoso_dev.keys import DEMO_PASSWORD, mint_token, password_token

T = TypeVar("T")
# The local realm's demo officers of each agency, by the suffix of their usernames (deploy/keycloak/hoso-realm.json).
DEMO_DESKS = {"BNNMT": "bnnmt", "UBND.HN": "hn"}
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf_bytes(text: str = "Hoso") -> bytes:
    """A one-page PDF document saying `text`."""
    document = FPDF()
    document.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    document.set_font(FAMILY, size=12)
    document.set_creation_date(datetime(2026, 1, 1))
    document.add_page()
    document.multi_cell(0, 8, text)
    return bytes(document.output())


def docx_bytes() -> bytes:
    """A minimal Office Open XML word-processing document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buffer.getvalue()


class WalkthroughFailed(AssertionError):
    """The platform did not answer as an applicant or officer would expect."""


@dataclass
class Person:
    subject: str
    role: Role
    name: str
    agency: str | None = None
    email: str | None = None
    token: str = ""
    renew: Callable[[], str] | None = None
    """Signs in again for a fresh token (people of the identity provider, whose tokens live minutes)."""
    renew_every: float = 0.0
    renewed_at: float = field(default_factory=time.monotonic)
    # One sign-in at a time when threads share the person: Keycloak's brute-force detector can take concurrent
    # sign-ins of one account for an attack and lock it for a while.
    _renewing: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def headers(self) -> dict[str, str]:
        if self.renew is not None and time.monotonic() - self.renewed_at >= self.renew_every:
            with self._renewing:
                if time.monotonic() - self.renewed_at >= self.renew_every:
                    self.token, self.renewed_at = self.renew(), time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}


def identity_person(issuer: str, username: str, password: str = DEMO_PASSWORD) -> Person:
    """A local account signed in at the identity provider; who they are is read from the token it gave. The token
    is renewed (signing in again) when two thirds of its life have passed."""
    token = password_token(issuer, username, password)
    claims = jwt.decode(token, options={"verify_signature": False})  # the services verify it; this only reads it
    roles = [r for r in claims.get("roles", []) if r in {x.value for x in Role}]
    life = max(float(claims["exp"]) - float(claims.get("iat", claims["exp"] - 60)), 30.0)
    return Person(
        subject=str(claims["sub"]),
        role=Role(roles[0]),
        name=str(claims.get("name", username)),
        agency=claims.get("agency"),
        email=claims.get("email"),
        token=token,
        renew=lambda: password_token(issuer, username, password),
        renew_every=life * 2 / 3,
    )


@dataclass
class Walkthrough:
    """One agency's desk and one applicant, talking to the gateway at `gateway`."""

    gateway: str
    state_dir: Path
    agency: str = "BNNMT"
    issuer: str = "hoso-local"
    audience: str = "hoso"
    run: str = field(default_factory=lambda: f"{int(time.time()) % 100000:05d}")
    timeout: float = 60.0
    say: Callable[[str], None] = print
    dev_key: bool = True
    """Sign the people's tokens with the development key (local mode); False: they sign in with `sign_in_at`."""

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.gateway, timeout=30)
        self._bodies: dict[str, dict[str, Any]] = {}
        self._messages: dict[Path, EmailMessage] = {}  # the sink writes each file once, atomically
        # The agency's desk is the same people in every walkthrough (as in an agency); applicants differ by run.
        suffix = self.agency.lower()
        self.applicant = self._person(
            f"applicant-{self.run}", Role.APPLICANT, "Công ty Cổ phần Năng lượng Xanh Việt", None,
            f"applicant-{self.run}@example.vn",
        )  # fmt: skip
        self.reception = self._person(f"reception-{suffix}", Role.RECEPTION_OFFICER, "Trần Thị Bình", self.agency)
        self.specialist = self._person(f"specialist-{suffix}", Role.SPECIALIST, "Lê Văn Cường", self.agency)
        self.leader = self._person(f"leader-{suffix}", Role.LEADER, "Phạm Thu Dung", self.agency)
        # An outside expert on the agency's appraisal councils, with an account of their own.
        self.council_member = self._person(
            f"council-{suffix}", Role.COUNCIL_MEMBER, "GS.TS. Trần Văn Bình", self.agency
        )

    def _person(self, subject: str, role: Role, name: str, agency: str | None, mail: str | None = None) -> Person:
        person = Person(subject, role, name, agency, mail or f"{subject}@{(agency or 'hoso').lower()}.example.vn")
        if not self.dev_key:
            return person  # signed in at the identity provider next (sign_in_at)
        person.token = mint_token(
            self.state_dir, subject=subject, roles=[role], agency=agency, issuer=self.issuer,
            audience=self.audience, name=name, email=person.email,
        )  # fmt: skip
        return person

    def sign_in_at(self, issuer: str, **accounts: str) -> None:
        """Take the people from the identity provider instead of the development key: `applicant="congty.demo",
        reception="tiepnhan.bnnmt", ...` (the local realm's demo accounts)."""
        for attribute, username in accounts.items():
            setattr(self, attribute, identity_person(issuer, username))

    def sign_in_desk(self, issuer: str) -> None:
        """The agency's reception officer, specialist and leader from the identity provider: the local realm's demo
        accounts of that agency."""
        suffix = DEMO_DESKS[self.agency]
        self.sign_in_at(
            issuer,
            reception=f"tiepnhan.{suffix}",
            specialist=f"chuyenvien.{suffix}",
            leader=f"lanhdao.{suffix}",
            council_member=f"hoidong.{suffix}",
        )

    def close(self) -> None:
        self.http.close()

    # --- plumbing -------------------------------------------------------------------------------------------------

    def call(self, method: str, path: str, who: Person | None = None, expect: int = 200, **kw: Any) -> Any:
        headers = {**(who.headers if who else {}), **kw.pop("headers", {})}
        answer = self.http.request(method, path, headers=headers, **kw)
        if answer.status_code != expect:
            raise WalkthroughFailed(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        if answer.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            return answer.json()
        return answer

    def wait(self, what: str, check: Callable[[], T | bool | None]) -> T:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            found = check()
            if found:  # None, False and empty answers mean "not yet"
                return cast(T, found)
            time.sleep(0.3)
        raise WalkthroughFailed(f"{what}: not within {self.timeout:.0f}s")

    # --- the applicant --------------------------------------------------------------------------------------------

    def register_preferences(self) -> None:
        """Officers make themselves reachable by notify (their contact comes from their token)."""
        for officer in (self.reception, self.specialist, self.leader):
            self.call("PUT", "/api/v1/notify/preferences", officer, json={"language": "vi"})

    def upload(self, name: str, content: bytes, content_type: str) -> str:
        files = {"file": (name, content, content_type)}
        answer = self.call("POST", "/api/v1/files", self.applicant, expect=201, files=files)
        return str(answer["id"])

    def submit_eia(self, project: str = "Nhà máy điện gió Bình Minh") -> str:
        """Submit an EIA dossier; a retry for the same project sends the same body with the same Idempotency-Key."""
        body = self._bodies.get(project)
        if body is None:
            letter = self.upload("de-nghi.pdf", pdf_bytes("Văn bản đề nghị thẩm định"), PDF)
            report = self.upload("bao-cao-dtm.docx", docx_bytes(), DOCX)
            study = self.upload("nckt.pdf", pdf_bytes("Báo cáo nghiên cứu khả thi"), PDF)
            body = self._bodies[project] = {
                "procedure_code": "MT-DTM-BO",
                "applicant_kind": "organisation",
                "components": [
                    {"code": "request_letter", "file_ids": [letter]},
                    {"code": "eia_report", "file_ids": [report]},
                    {"code": "feasibility_study", "file_ids": [study]},
                ],
                "fields": {"project_name": project, "project_location": "Xã Bình Minh, tỉnh Ninh Thuận",
                           "project_group": "I", "total_investment_vnd": 85_000_000_000, "project_type": "5"},
            }  # fmt: skip
        key = f"walkthrough-{self.run}-{hashlib.sha256(project.encode()).hexdigest()[:16]}"
        answer = self.http.post(
            "/api/v1/dossiers", json=body, headers={**self.applicant.headers, "Idempotency-Key": key}
        )
        if answer.status_code not in (200, 201):
            raise WalkthroughFailed(f"POST /api/v1/dossiers: {answer.status_code} {answer.text[:500]}")
        return str(answer.json()["code"])

    def applicant_view(self, code: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/api/v1/dossiers/{code}", self.applicant)
        return found

    def wait_status(self, code: str, status: int) -> dict[str, Any]:
        return self.wait(
            f"{code} in status {status} for the applicant",
            lambda: (v := self.applicant_view(code))["status"]["code"] == status and v,
        )

    def supplement(self, code: str) -> dict[str, Any]:
        file_id = self.upload("ban-do.pdf", pdf_bytes("Bản đồ vị trí dự án tỷ lệ 1:10.000"), PDF)
        body = {"components": [{"code": "eia_report", "file_ids": [file_id]}], "note": "Bổ sung bản đồ vị trí"}
        answer: dict[str, Any] = self.call("POST", f"/api/v1/dossiers/{code}/supplements", self.applicant, json=body)
        return answer

    def send_revised_report(self, code: str) -> dict[str, Any]:
        file_id = self.upload("bao-cao-dtm-chinh-sua.docx", docx_bytes(), DOCX)
        body = {"components": [{"code": "eia_report", "file_ids": [file_id]}], "note": "Báo cáo đã chỉnh sửa"}
        answer: dict[str, Any] = self.call("POST", f"/api/v1/dossiers/{code}/supplements", self.applicant, json=body)
        return answer

    def council(self) -> list[dict[str, str]]:
        """An appraisal council of seven, the agency's council member among its reviewers."""
        return [
            {"name": "Nguyễn Minh Quang", "role": "chair", "affiliation": "Cục Môi trường"},
            {"name": "Đỗ Thị Hạnh", "role": "vice_chair", "affiliation": "Cục Môi trường"},
            {"name": self.specialist.name, "role": "secretary", "affiliation": "Cục Môi trường"},
            {"name": self.council_member.name, "role": "reviewer", "affiliation": "Đại học Quốc gia Hà Nội",
             "account_id": self.council_member.subject},
            {"name": "TS. Hoàng Văn Sơn", "role": "reviewer", "affiliation": "Viện Khoa học Môi trường"},
            {"name": "Vũ Thị Lan", "role": "member", "affiliation": "Sở Nông nghiệp và Môi trường Ninh Thuận"},
            {"name": "Ngô Đức Anh", "role": "member", "affiliation": "Hội Bảo vệ thiên nhiên và môi trường"},
        ]  # fmt: skip

    def through_council(self, code: str, conclusion: str = "approve_with_revisions") -> None:
        """Establish the council, the member's written review, the meeting and its conclusion."""
        self.act(self.leader, code, "establish_council", decision_number=f"{self.run}/QĐ-HĐTĐ", members=self.council())
        self.act(self.council_member, code, "submit_review", conclusion=conclusion,
                 reason="Báo cáo cơ bản đạt yêu cầu; cần tính lại tải lượng bụi ở chương 3")  # fmt: skip
        self.act(self.specialist, code, "record_meeting", conclusion=conclusion,
                 reason="Hội đồng họp, 7/7 thành viên có mặt; thông qua với điều kiện chỉnh sửa")  # fmt: skip

    def withdraw(self, code: str) -> dict[str, Any]:
        body = {"reason": "Chủ dự án điều chỉnh quy mô dự án"}
        answer: dict[str, Any] = self.call("POST", f"/api/v1/dossiers/{code}/withdrawal", self.applicant, json=body)
        return answer

    # --- the officers ---------------------------------------------------------------------------------------------

    def review_view(self, code: str) -> dict[str, Any] | None:
        answer = self.http.get(f"/api/v1/review/dossiers/{code}", headers=self.leader.headers)
        return answer.json() if answer.status_code == 200 else None

    def wait_review(self, code: str, state: str) -> dict[str, Any]:
        return self.wait(
            f"{code} in review state {state}", lambda: (v := self.review_view(code)) and v["state"] == state and v
        )

    def act(self, who: Person, code: str, action: str, **fields: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.call(
            "POST", f"/api/v1/review/dossiers/{code}/actions", who, json={"action": action, **fields}
        )
        return answer

    # --- what the record shows ------------------------------------------------------------------------------------

    def timeline(self, code: str, *, held: bool = True) -> list[dict[str, Any]]:
        """The dossier's timeline; `held=False`: an empty one while records does not hold the dossier yet (404), as
        each service takes the events at its own pace."""
        path = f"/api/v1/records/dossiers/{code}/timeline"
        answer = self.http.get(path, headers=self.leader.headers)
        if not held and answer.status_code == 404:
            return []
        if answer.status_code != 200:
            raise WalkthroughFailed(f"GET {path}: {answer.status_code} {answer.text[:500]}")
        entries: list[dict[str, Any]] = answer.json()["entries"]
        return entries

    def wait_timeline(self, code: str, event: str) -> list[dict[str, Any]]:
        wanted = f"vn.gov.hoso.{event}.v1"
        return self.wait(
            f"{event} in the timeline of {code}",
            lambda: (t := self.timeline(code, held=False)) and any(e["event_type"] == wanted for e in t) and t,
        )

    def audit(self, code: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/api/v1/records/dossiers/{code}/audit", self.leader)
        return found

    def tracking(self, code: str, pin: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/api/v1/tracking/{code}", params={"pin": pin})
        return found

    def mail(self, code: str | None = None, to: str | None = None) -> list[EmailMessage]:
        """Messages in the local SMTP sink's folder, oldest first, about dossier `code` and to `to`."""
        found = []
        for path in sorted((self.state_dir / "mail").glob("*.eml")):
            message = self._messages.get(path)
            if message is None:
                parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                message = self._messages[path] = parsed
            if code is not None and message.get("X-Hoso-Dossier") != code:
                continue
            if to is not None and to not in str(message["To"]):
                continue
            found.append(message)
        return found

    def wait_mail(self, code: str, subject_part: str, to: str | None = None) -> EmailMessage:
        return self.wait(
            f"an e-mail about {code} saying {subject_part!r}",
            lambda: next((m for m in self.mail(code, to) if subject_part in str(m["Subject"])), None),
        )

    # --- the whole EIA path ---------------------------------------------------------------------------------------

    def eia_to_result(self) -> tuple[str, str]:
        """Submit, complete at reception, receive, appraise through a council, revise, approve, return: (code, PIN)."""
        steps = 14
        n = iter(range(1, steps + 1))

        def step(text: str) -> None:
            self.say(f"[{next(n):2d}/{steps}] {text}")

        step("Officers make themselves reachable for notifications")
        self.register_preferences()
        step(f"Applicant {self.applicant.name} uploads the three components and submits the EIA dossier")
        code = self.submit_eia()
        self.wait_review(code, "awaiting_reception")
        self.say(f"        dossier {code}, status 1 (new), in the reception queue of {self.agency}")
        step(f"Reception officer {self.reception.name} finds a document missing (Form 02 goes to the applicant)")
        self.act(self.reception, code, "request_supplement", items=["Bản đồ vị trí dự án tỷ lệ 1:10.000"],
                 reason="Hồ sơ thiếu bản đồ vị trí")  # fmt: skip
        self.wait_status(code, 5)
        step("Applicant completes the dossier; it is back in the reception queue, the clock not started yet")
        self.supplement(code)
        self.wait_review(code, "awaiting_reception")
        step(f"Reception officer {self.reception.name} receives it: receipt, appointment date and tracking PIN")
        received = self.act(self.reception, code, "receive")
        pin = str(received["tracking_pin"])
        self.say(f"        receipt {code}/TN, due {received['dossier']['due_at']}, PIN {pin} (shown once)")
        step(f"Leader {self.leader.name} assigns it to specialist {self.specialist.name}")
        self.act(self.leader, code, "assign", assignee_id=self.specialist.subject)
        step(f"The appraisal council: established, {self.council_member.name}'s review, the meeting and conclusion")
        self.through_council(code)
        step("Specialist asks for the report's revision; the clock stands still while the owner revises")
        self.act(self.specialist, code, "request_revision", items=["Chương 3: tính lại tải lượng bụi"],
                 reason="Theo kết luận của hội đồng thẩm định")  # fmt: skip
        self.wait_status(code, 5)
        step("Applicant sends the revised report; the approval's 20 days start")
        self.send_revised_report(code)
        self.wait_review(code, "revised")
        step("Specialist proposes approval to the leader")
        self.act(self.specialist, code, "propose_decision", proposal="approve", reason="Báo cáo đạt yêu cầu")
        step("Leader approves the appraisal result with the decision number")
        self.act(self.leader, code, "approve", decision_number=f"{self.run}/QĐ-{self.agency}")
        step("Reception officer returns the result")
        self.act(self.reception, code, "return_result")
        self.wait_status(code, 10)
        step("E-mails that reached the applicant (local SMTP sink)")
        self.wait_mail(code, "Trả kết quả", to=self.applicant.email)
        for message in self.mail(code, to=self.applicant.email):
            files = [a.get_filename() for a in message.iter_attachments()]
            self.say(f"        {message['Subject']}" + (f"  [{', '.join(str(f) for f in files)}]" if files else ""))
        step("The record: timeline, hash-chain audit and public tracking")
        timeline = self.wait_timeline(code, "dossier.result_returned")
        for entry in timeline:
            self.say(f"        #{entry['sequence']:>2} {entry['event_type'].removeprefix('vn.gov.hoso.')}")
        audit = self.audit(code)
        verdict = "valid" if audit["valid"] else "BROKEN"
        self.say(f"        audit: {verdict} over {audit['entries']} entries, chain head {audit['head'][:16]}…")
        if not audit["valid"]:
            raise WalkthroughFailed(f"the audit of {code} failed: {audit}")
        tracked = self.tracking(code, pin)
        self.say(f"        tracking with the PIN: status {tracked['status_code']} ({tracked['status_label_vi']})")
        return code, pin
