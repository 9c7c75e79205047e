"""Dossiers through their whole lifecycle while api and worker processes are killed with SIGKILL and restarted, and
the Kafka broker and FerretDB are each restarted once. Afterwards every timeline is complete, in order and audits,
every file downloads for an officer of the dossier's agency, no code is taken twice, each expected e-mail is in the
SMTP sink once, nothing was dead-lettered and every outbox is empty. HOSO_CHAOS_DOSSIERS sets how many dossiers (a
larger run: HOSO_CHAOS_DOSSIERS=500 make test ...)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hoso_dev.walkthrough import Walkthrough, WalkthroughFailed
from pymongo import MongoClient

from hoso.topics import SERVICES
from tests.platform import ROOT, Platform
from tests.reliability.test_poison import dead_letters

pytestmark = pytest.mark.reliability

DOSSIERS = int(os.environ.get("HOSO_CHAOS_DOSSIERS", "200"))
# How many dossiers go through their lifecycle at once.
CONCURRENCY = int(os.environ.get("HOSO_CHAOS_CONCURRENCY", "16"))
STATES = [
    "awaiting_reception", "received", "in_appraisal", "council_review", "council_concluded", "awaiting_revision",
    "revised", "awaiting_decision", "decided", "returned",
]  # fmt: skip
LIFECYCLE = [
    "dossier.submitted", "dossier.received", "dossier.assigned", "dossier.appraisal_recorded",
    "dossier.appraisal_recorded", "dossier.supplement_requested", "dossier.supplemented", "dossier.processing_resumed",
    "dossier.decision_proposed", "dossier.approved", "dossier.result_returned", "dossier.archived",
]  # fmt: skip


class Flaky(Exception):
    """The platform did not answer this time (a process was down): try again."""


def patiently(what: str, action: Callable[[], Any], seconds: float = 240.0) -> Any:
    """Repeat `action` through connection errors, 5xx answers and timeouts while processes come and go."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except (httpx.HTTPError, Flaky, WalkthroughFailed) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: {exc}") from exc
            time.sleep(1.0)


def infra(command: str, part: str) -> None:
    """Restart the test run's own Kafka or FerretDB (the environment `make test` set, not the platform's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL")}
    done = subprocess.run(
        ["bash", str(ROOT / "deploy/local/infra.sh"), command, part], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


class Chaos:
    """Kills a random api or worker every few seconds and brings it back; restarts Kafka and FerretDB once each."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.stop = threading.Event()
        self.kills: Counter[str] = Counter()
        self.restarted: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        rounds = 0
        while not self.stop.wait(random.uniform(2.0, 4.0)):
            rounds += 1
            victims = {n: p for n, p in self.platform.pids().items() if n != "mailsink"}
            name = random.choice(sorted(victims))
            try:
                os.kill(victims[name], signal.SIGKILL)
                self.kills[name] += 1
            except ProcessLookupError:
                pass
            if rounds == 2:
                infra("down", "kafka")
                infra("up", "kafka")
                self.restarted.append("kafka")
            if rounds == 4:
                infra("down", "ferretdb")
                infra("up", "ferretdb")
                self.restarted.append("ferretdb")
            self.platform.run("up")  # starts what is not running, waits until it is ready

    def __enter__(self) -> Chaos:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=600)
        self.platform.run("up")


def state_of(walk: Walkthrough, code: str) -> str:
    view = walk.review_view(code)
    if view is None:
        raise Flaky(f"review does not show {code} yet")
    return str(view["state"])


def advance(walk: Walkthrough, code: str, before: str, after: str, act: Callable[[], Any]) -> None:
    """Take the dossier from `before` to `after`, whatever answers get lost on the way."""

    def step() -> None:
        state = state_of(walk, code)
        if STATES.index(state) >= STATES.index(after):
            return
        if state != before:
            raise Flaky(f"{code} is {state}, waiting for {before}")
        try:
            act()
        except WalkthroughFailed as exc:
            if " 409 " not in str(exc) and " 5" not in str(exc)[:60]:
                raise AssertionError(str(exc)) from exc
        raise Flaky(f"{code}: {before} -> {after} sent, checking")

    patiently(f"{code} to {after}", step)


def lifecycle(walk: Walkthrough, n: int) -> str:
    code: str = patiently("submit", lambda: walk.submit_eia(f"Dự án thử tải {n:04d}"))

    def answered(send: Callable[[str], Any]) -> Callable[[], None]:
        def answer() -> None:
            try:
                send(code)
            except WalkthroughFailed as exc:
                if " 409 " not in str(exc):
                    raise

        return answer

    advance(walk, code, "awaiting_reception", "received", lambda: walk.act(walk.reception, code, "receive"))
    assignee = walk.specialist.subject
    advance(walk, code, "received", "in_appraisal", lambda: walk.act(walk.leader, code, "assign", assignee_id=assignee))
    advance(walk, code, "in_appraisal", "council_review", lambda: walk.act(
        walk.leader, code, "establish_council", decision_number=f"{n}/QĐ-HĐ", members=walk.council()))  # fmt: skip
    advance(walk, code, "council_review", "council_concluded", lambda: walk.act(
        walk.specialist, code, "record_meeting", conclusion="approve_with_revisions", reason="Chỉnh sửa"))  # fmt: skip
    advance(walk, code, "council_concluded", "awaiting_revision", lambda: walk.act(
        walk.specialist, code, "request_revision", items=["Chương 3"], reason="Theo kết luận"))  # fmt: skip
    patiently("awaiting revision", lambda: walk.applicant_view(code)["status"]["code"] == 5 or _flaky("status"))
    advance(walk, code, "awaiting_revision", "revised", answered(walk.send_revised_report))
    advance(walk, code, "revised", "awaiting_decision", lambda: walk.act(
        walk.specialist, code, "propose_decision", proposal="approve", reason="Đạt"))  # fmt: skip
    advance(walk, code, "awaiting_decision", "decided",
            lambda: walk.act(walk.leader, code, "approve", decision_number=f"{n}/QĐ"))  # fmt: skip
    advance(walk, code, "decided", "returned", lambda: walk.act(walk.reception, code, "return_result"))
    return code


def _flaky(what: str) -> bool:
    raise Flaky(what)


@pytest.mark.timeout(3600)
def test_dossiers_survive_killed_processes_and_restarted_infrastructure(platform: Platform, walk: Walkthrough) -> None:
    patiently("preferences", walk.register_preferences)
    with Chaos(platform) as chaos, ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        codes = list(pool.map(lambda n: lifecycle(walk, n), range(DOSSIERS)))
    assert sum(chaos.kills.values()) >= 4, chaos.kills
    assert chaos.restarted == ["kafka", "ferretdb"], chaos.restarted

    # Every timeline complete, in order, auditing; every code once.
    assert len(set(codes)) == DOSSIERS
    ids = {}
    for code in codes:
        timeline = patiently(f"timeline of {code}", lambda c=code: walk.wait_timeline(c, "dossier.archived"))
        steps = [e["event_type"].removeprefix("vn.gov.hoso.").removesuffix(".v1") for e in timeline]
        lifecycle_steps = [s for s in steps if s.startswith("dossier.")]
        assert lifecycle_steps == LIFECYCLE, (code, lifecycle_steps)
        assert patiently(f"audit of {code}", lambda c=code: walk.audit(c))["valid"] is True
        ids[code] = walk.applicant_view(code)["id"]
        # Every file the dossier holds downloads for an officer of its agency (none was left unattached).
        seen = walk.call("GET", f"/api/v1/dossiers/{code}", walk.leader)
        parts = [*seen["components"], *(c for s in seen["supplements"] for c in s["components"])]
        file_ids = [f for c in parts for f in c["file_ids"]]
        assert file_ids, code
        for file_id in file_ids:
            answer = walk.http.get(f"/api/v1/files/{file_id}", headers=walk.leader.headers)
            assert answer.status_code == 200, (code, file_id, answer.status_code)
            assert answer.content[:4] in (b"%PDF", b"PK\x03\x04"), (code, file_id)
    mine = walk.call("GET", "/api/v1/dossiers", walk.applicant, params={"limit": 100})
    assert len(mine["items"]) == min(DOSSIERS, 100)

    # Each expected e-mail once in the sink (the applicant's six per dossier).
    expected = {
        "đã được nộp trực tuyến",
        "Giấy tiếp nhận",
        "Thông báo kết quả thẩm định của hội đồng",
        "Chỉnh sửa, bổ sung báo cáo",
        "đã được phê duyệt",
        "Trả kết quả",
    }
    for code in codes:
        mails = patiently(
            f"six e-mails about {code}",
            lambda c=code: walk.wait(
                f"six e-mails about {c}",
                lambda: (found := walk.mail(c, to=walk.applicant.email)) and len(found) >= 6 and found,
            ),
        )
        assert len(mails) == 6, (code, [str(m["Subject"]) for m in mails])
        assert all(any(part in str(m["Subject"]) for m in mails) for part in expected), code
    message_ids = Counter(str(m["Message-ID"]) for m in walk.mail())
    assert [mid for mid, count in message_ids.items() if count > 1] == []
    # (A re-send after a crash between the relay's acceptance and notify's record of it carries the same Message-ID;
    # the sink, like a mailbox provider, keeps one copy and notes the repeat in duplicates.log.)

    # Nothing of these dossiers was dead-lettered; every outbox has been relayed.
    for service in SERVICES:
        assert [d for d in dead_letters(platform, service) if d["key"] in set(ids.values())] == [], service
    client: MongoClient[dict[str, Any]] = MongoClient(platform.env["MONGODB_URL"])
    try:
        for service, collection in (("intake", "dossiers"), ("review", "instances"), ("records", "archives")):
            db = client[f"e2e_{platform.run_id}_{service}"]
            wanted = {"_id": {"$in": list(ids.values())}}
            sent = {p["_id"]: p["sent"] for p in db[f"{collection}_outbox_progress"].find(wanted)}
            for doc in db[collection].find(wanted, projection={"outbox_rev": 1}):
                assert doc.get("outbox_rev", 0) <= sent.get(doc["_id"], 0), (service, doc["_id"])
    finally:
        client.close()
