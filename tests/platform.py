"""The platform as real processes behind the gateway, started with the README's run script on test ports.

One instance per test session, shared by the e2e, reliability and security suites (fixtures in tests/conftest.py).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hoso_dev.walkthrough import Walkthrough

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "review", "notify", "records")
GATEWAY_PORT = 18080
PAYMENT_SECRET = "e2e-payment-secret"


@dataclass(frozen=True)
class Platform:
    state: Path
    env: dict[str, str]
    gateway: str
    run_id: str

    @property
    def topic_prefix(self) -> str:
        return self.env["KAFKA_TOPIC_PREFIX"]

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(ROOT / "deploy/local/platform.sh"), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in sorted((self.state / "run").glob("*.pid"))}

    def spans(self) -> list[dict[str, Any]]:
        """Every span the platform's processes have finished, from their JSON-lines trace files."""
        found = []
        for path in sorted((self.state / "traces").glob("*.jsonl")):
            found.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
        return found

    def mail(self) -> list[EmailMessage]:
        """Every message the platform's SMTP sink has kept, oldest first."""
        found = []
        for path in sorted((self.state / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


def start_platform(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, mongo_url: str
) -> Iterator[Platform]:
    state = tmp_path_factory.mktemp("platform")
    run_id = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update(
        HOSO_STATE=str(state),
        HOSO_STATE_DIR=str(state),
        HOSO_KEEP_INFRA="1",
        HOSO_LOCAL_MODE="1",
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        MONGODB_URL=mongo_url,
        HOSO_GATEWAY_PORT=str(GATEWAY_PORT),
        GATEWAY_MAX_BODY="1m",
        KAFKA_TOPIC_PREFIX=f"e2e-{run_id}.",
        HOSO_SMTP_PORT="11025",
        INTAKE_PAYMENT_SECRET=PAYMENT_SECRET,
        HOSO_TRACE_DIR=str(state / "traces"),
        # A killed worker's claim on a delivery or an archive export lapses quickly here (minutes in production).
        NOTIFY_SEND_LEASE_SECONDS="10",
        RECORDS_ARCHIVE_LEASE_SECONDS="15",
        NOTIFY_RETRY_BASE_SECONDS="1",
        NOTIFY_RETRY_MAX_SECONDS="5",
        RECORDS_ARCHIVE_RETRY_BASE_SECONDS="1",
        RECORDS_ARCHIVE_INTERVAL_SECONDS="1",
        # One applicant files every dossier of a suite: no per-recipient throttling of their e-mails here.
        NOTIFY_RECIPIENT_PER_MINUTE="6000",
        NOTIFY_RECIPIENT_BURST="1000",
        PORTAL_HTTP_PORT="18005",
        PORTAL_MONGODB_DATABASE=f"e2e_{run_id}_portal",
    )
    for n, service in enumerate(SERVICES, start=1):
        prefix = service.upper()
        env[f"{prefix}_HTTP_PORT"] = str(18000 + n)
        env[f"{prefix}_WORKER_HTTP_PORT"] = str(18100 + n)
        env[f"{prefix}_MONGODB_DATABASE"] = f"e2e_{run_id}_{service}"
        env[f"{prefix}_CONSUMER_GROUP"] = f"e2e-{run_id}-{service}"
    platform = Platform(state=state, env=env, gateway=f"http://127.0.0.1:{GATEWAY_PORT}", run_id=run_id)
    started = platform.run("up")
    if started.returncode != 0:
        platform.run("down")
        pytest.fail(f"the platform did not start:\n{started.stderr[-4000:]}", pytrace=False)
    yield platform
    platform.run("down")


def walk_on(platform: Platform) -> Iterator[Walkthrough]:
    walkthrough = Walkthrough(platform.gateway, platform.state, run=uuid.uuid4().hex[:8], say=lambda _: None)
    yield walkthrough
    walkthrough.close()
