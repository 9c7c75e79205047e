"""Poison on the wire, produced by a Kafka client that is not ours (kcat): each message lands in the right dead-letter
topics with its reason, later events of other dossiers still flow, and a replay after the fix applies once."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hoso_dev.walkthrough import Walkthrough

from hoso.events import EventType
from hoso.topics import DOSSIER_EVENTS, SERVICES
from tests.platform import ROOT, Platform

pytestmark = pytest.mark.reliability


def kcat(platform: Platform, key: str, value: bytes, headers: dict[str, str]) -> None:
    """Produce one record with kcat (Debian's package), as any other client of the cluster could."""
    assert b"\n" not in value
    args = ["kcat", "-P", "-b", platform.env["KAFKA_BOOTSTRAP_SERVERS"], "-t", platform.topic_prefix + DOSSIER_EVENTS]
    args += ["-k", key]
    for name, header in headers.items():
        args += ["-H", f"{name}={header}"]
    subprocess.run(args, input=value, check=True, timeout=30, capture_output=True)


def ce_headers(event_id: str, event_type: str, subject: str, source: str = "/hoso/intake") -> dict[str, str]:
    return {
        "content-type": "application/json",
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_type": event_type,
        "ce_source": source,
        "ce_subject": subject,
        "ce_time": datetime.now(UTC).isoformat(),
    }


def hoso(platform: Platform, *args: str) -> str:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/hoso"), *args], env=platform.env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dead_letters(platform: Platform, service: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in hoso(platform, "dlq", "list", "--service", service).splitlines() if line]


def test_poison_is_dead_lettered_with_its_reason_others_flow_and_a_replay_after_the_fix_applies_once(
    platform: Platform, walk: Walkthrough
) -> None:
    walk.register_preferences()
    victim = walk.submit_eia("Dự án bị gửi thông điệp hỏng")
    walk.wait_review(victim, "awaiting_reception")
    victim_id = walk.applicant_view(victim)["id"]
    run = uuid.uuid4().hex[:8]

    # 1. bytes that are not JSON; 2. JSON that breaks the schema; 3. a type nobody knows; 4. a valid event that the
    # dossier's state does not allow (a supplement nobody asked for).
    kcat(
        platform,
        victim_id,
        b"\xff\xfe\x00 not json {",
        ce_headers(f"bytes-{run}", EventType.DOSSIER_SUBMITTED.value, victim),
    )
    kcat(
        platform,
        victim_id,
        json.dumps({"dossier_id": victim_id}).encode(),
        ce_headers(f"schema-{run}", EventType.DOSSIER_SUBMITTED.value, victim),
    )
    kcat(
        platform,
        victim_id,
        b'{"dossier_id": "x"}',
        ce_headers(f"type-{run}", "vn.gov.hoso.dossier.teleported.v1", victim),
    )
    supplemented = {
        "dossier_id": victim_id,
        "dossier_code": victim,
        "procedure_code": "MT-DTM-BO",
        "agency_code": walk.agency,
        "status_code": 4,
        "supplement_id": f"s-{run}",
        "components": [],
        "note": "Bổ sung trước khi được yêu cầu",
    }
    kcat(platform, victim_id, json.dumps(supplemented, ensure_ascii=False).encode(),
         ce_headers(f"early-{run}", EventType.DOSSIER_SUPPLEMENTED.value, victim))  # fmt: skip

    # Later events of another dossier are processed by every service.
    other = walk.submit_eia("Dự án nộp sau thông điệp hỏng")
    walk.wait_review(other, "awaiting_reception")
    walk.wait_timeline(other, "dossier.submitted")
    walk.wait_mail(other, "nộp trực tuyến", to=walk.applicant.email)

    expected = {f"bytes-{run}": "unparseable", f"schema-{run}": "schema-invalid", f"type-{run}": "unknown-type"}
    for service in SERVICES:
        letters = walk.wait(
            f"three dead letters in {service}'s DLQ",
            lambda s=service: (
                (found := {d["event_id"]: d for d in dead_letters(platform, s)})
                and set(expected) <= set(found)
                and found
            ),
        )
        assert {i: letters[i]["reason"] for i in expected} == expected, service
        assert letters[f"bytes-{run}"]["original_topic"] == platform.topic_prefix + DOSSIER_EVENTS
        assert all(letters[i]["error"] for i in expected)
    review_letters = {d["event_id"]: d for d in dead_letters(platform, "review")}
    assert review_letters[f"early-{run}"]["reason"] == "impossible-transition"
    for service in ("intake", "notify", "records"):
        assert f"early-{run}" not in {d["event_id"] for d in dead_letters(platform, service)}, service
    assert walk.review_view(victim)["state"] == "awaiting_reception"  # type: ignore[index]

    # The fix: the officers do ask for the supplement. Replayed, the supplement now applies, and only once.
    walk.act(walk.reception, victim, "request_supplement", items=["Bản đồ"], reason="Thiếu bản đồ")
    walk.wait_review(victim, "awaiting_completion")
    assert "replayed" in hoso(platform, "dlq", "replay", "--service", "review")
    walk.wait_review(victim, "awaiting_reception")
    hoso(platform, "dlq", "replay", "--service", "review")
    resumed = walk.wait_timeline(victim, "dossier.processing_resumed")
    walk.wait(
        "the replay marked as done",
        lambda: next(d for d in dead_letters(platform, "review") if d["event_id"] == f"early-{run}")["replayed"],
    )
    assert sum(e["event_type"] == EventType.DOSSIER_PROCESSING_RESUMED.value for e in walk.timeline(victim)) == 1
    assert len(resumed) >= 1
    assert walk.audit(victim)["valid"] is True
