"""The portal benchmark: server time of each page at 20 concurrent signed-in applicants, of the officers' desk at 20
concurrent officers with 5,000 dossiers in their agency, and the portal's memory while a 100 MB report is uploaded
through it.

Each virtual applicant signs in through Keycloak as a browser does (the portal's redirect, the provider's login form,
the callback) and then reads the pages an applicant reads, in turn, for `--rounds` rounds; the figure per page is
the time to the whole answer measured on loopback (p50, p95), so it is the portal's server time plus the gateway's
and the API calls the page makes. The desk phase first puts `--desk-dossiers` dossiers in the agency's
queue (written into review's database as review opens them from `dossier.submitted`, so no 5,000 submissions are
needed), then each officer reads the queue's tabs, a search, a filter and one dossier's page. The upload phase
samples the portal process's resident memory every 20 ms while one 100 MB PDF goes through the draft form to intake.

    make bench    # or: PYTHONPATH=. .venv/bin/python bench/portal.py (with the benchmark's infrastructure up)
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from hoso_dev.keys import DEMO_PASSWORD
from hoso_dev.walkthrough import Walkthrough
from pymongo import AsyncMongoClient

from bench.through_gateway import GATEWAY_PORT, BenchPlatform, percentiles, start_platform
from hoso.events.catalog import DossierSubmitted
from hoso.mongo import Document
from hoso.store import Store
from review.domain.definition import load_definitions
from review.domain.engine import open_instance
from review.repository import ReviewRepository
from tests.support import submitted_event

BASE = f"http://127.0.0.1:{GATEWAY_PORT}"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(http: httpx.AsyncClient, username: str, landing: str = "/ho-so") -> None:
    """The browser's way: the portal sends us to Keycloak, we post the login form, Keycloak sends us back."""
    answer = await http.get(f"/dang-nhap?next={landing}", follow_redirects=True)
    form = re.search(r'<form[^>]+id="kc-form-login"[^>]+action="([^"]+)"', answer.text)
    if form is None:
        raise RuntimeError(f"no login form at {answer.url}")
    action = html.unescape(form.group(1))
    # Keycloak marks its cookies Secure; a browser sends them to http://127.0.0.1 (a secure context), httpx does not.
    cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)
    login = await http.post(action, data={"username": username, "password": DEMO_PASSWORD}, headers={"Cookie": cookies})
    done = await http.get(login.headers["location"], follow_redirects=True) if login.is_redirect else login
    if done.url.path != landing or done.status_code != 200:
        raise RuntimeError(f"signing in ended at {done.url} ({done.status_code})")


def applicant_pages(code: str, draft: str) -> dict[str, str]:
    return {
        "home": "/",
        "procedures": "/thu-tuc",
        "procedure": "/thu-tuc/MT-DTM-BO",
        "search": "/thu-tuc?q=danh+gia+tac+dong",
        "my_dossiers": "/ho-so",
        "dossier": f"/ho-so/{code}",
        "draft": f"/ban-nhap/{draft}",
        "check_answers": f"/ban-nhap/{draft}/kiem-tra",
        "inbox": "/thong-bao",
        "tracking": "/tra-cuu",
    }


async def start_draft(http: httpx.AsyncClient) -> str:
    page = await http.get("/thu-tuc/MT-DTM-BO")
    token = CSRF.search(page.text)
    assert token is not None
    answer = await http.post("/nop-ho-so/MT-DTM-BO", data={"csrf_token": token.group(1)}, follow_redirects=True)
    found = re.search(r"/ban-nhap/([0-9a-f]{32})", str(answer.url))
    if found is None:
        raise RuntimeError(f"no draft started: {answer.status_code} {answer.url}")
    return found.group(1)


async def browse_all(
    clients: Sequence[httpx.AsyncClient], pages: Sequence[dict[str, str]], rounds: int, times: dict[str, list[float]]
) -> float:
    """Each client reads its pages in turn, `rounds` times, all clients at once; each page's times go to `times`.
    Returns how long it all took (seconds)."""

    async def browse(client: httpx.AsyncClient, own: dict[str, str]) -> None:
        for _ in range(rounds):
            for name, path in own.items():
                began = time.perf_counter()
                answer = await client.get(path)
                elapsed = time.perf_counter() - began
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: {answer.status_code}")
                times.setdefault(name, []).append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(browse(c, p) for c, p in zip(clients, pages, strict=True)))
    return time.perf_counter() - started


async def page_times(platform: BenchPlatform, users: int, rounds: int) -> dict[str, Any]:
    issuer = platform.env["HOSO_OIDC_ISSUER"]
    walk = Walkthrough(BASE, platform.state, say=lambda _: None)
    walk.sign_in_at(issuer, applicant="congty.demo", reception="tiepnhan.bnnmt")
    code = walk.submit_eia("Nhà máy đo tải cổng")
    walk.wait_review(code, "awaiting_reception")
    walk.act(walk.reception, code, "receive")
    walk.close()
    times: dict[str, list[float]] = {}
    clients = [httpx.AsyncClient(base_url=BASE, timeout=60) for _ in range(users)]
    try:
        for client in clients:
            await sign_in(client, "congty.demo")
        drafts = [await start_draft(client) for client in clients]

        duration = await browse_all(clients, [applicant_pages(code, d) for d in drafts], rounds, times)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    total = sum(len(v) for v in times.values())
    return {
        "users": users,
        "rounds": rounds,
        "pages_per_s": round(total / duration, 1),
        "server_time_s": {name: _p50_p95(values) for name, values in times.items()},
    }


def _p50_p95(values: Sequence[float]) -> dict[str, float]:
    cuts = percentiles(values)
    return {"p50": cuts["p50"], "p95": cuts["p95"]}


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def upload_memory(platform: BenchPlatform, size: int) -> dict[str, Any]:
    pid = int((platform.state / "run" / "portal-api.pid").read_text())
    with tempfile.NamedTemporaryFile(suffix=".pdf") as report:
        report.write(b"%PDF-1.7\n")
        chunk = os.urandom(1024 * 1024)
        while report.tell() < size:
            report.write(chunk[: min(len(chunk), size - report.tell())])
        report.flush()
        async with httpx.AsyncClient(base_url=BASE, timeout=600) as client:
            await sign_in(client, "congty.demo")
            draft = await start_draft(client)
            form = await client.get(f"/ban-nhap/{draft}")
            token = CSRF.search(form.text)
            assert token is not None
            before = resident_kib(pid)
            peak = before
            done = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, resident_kib(pid))
                    await asyncio.sleep(0.02)

            sampler = asyncio.create_task(sample())
            began = time.perf_counter()
            report.seek(0)
            answer = await client.post(
                f"/ban-nhap/{draft}",
                data={"csrf_token": token.group(1), "action": "save"},
                files={"file.eia_report": ("bao-cao-dtm.pdf", report, "application/pdf")},
            )
            elapsed = time.perf_counter() - began
            done.set()
            await sampler
            saved = await client.get(f"/ban-nhap/{draft}")
    if answer.status_code != 303 or "bao-cao-dtm.pdf" not in saved.text:
        raise RuntimeError(f"the upload was not kept: {answer.status_code} {answer.text[:300]}")
    return {
        "file_bytes": size,
        "upload_s": round(elapsed, 2),
        "portal_rss_before_mib": round(before / 1024, 1),
        "portal_rss_peak_mib": round(peak / 1024, 1),
        "portal_rss_growth_mib": round((peak - before) / 1024, 1),
    }


async def seed_queue(platform: BenchPlatform, count: int) -> None:
    """`count` dossiers waiting in BNNMT's queues, opened in review's database as its consumer opens them."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(platform.env["MONGODB_URL"], tz_aware=True)
    # Written as review writes on this server (its change log too, on FerretDB v1).
    repo = ReviewRepository(Store(client[f"bench_{platform.run_id}_review"]))
    [definition] = [d for d in load_definitions() if d.id == "appraisal"]
    gate = asyncio.Semaphore(16)

    async def one(n: int) -> None:
        event = submitted_event(sequence=n, day="250101", applicant_name=f"Công ty đo tải số {n}")
        payload = event.payload()
        assert isinstance(payload, DossierSubmitted)
        async with gate:
            await repo.remember_code(payload.dossier_code, payload.dossier_id)
            await repo.transact(payload.dossier_id, lambda _: open_instance(event, payload, definition))

    try:
        await asyncio.gather(*(one(n) for n in range(1, count + 1)))
    finally:
        await client.close()


def desk_pages(code: str) -> dict[str, str]:
    return {
        "desk_queue": "/can-bo",
        "desk_queue_leader": "/can-bo?vai=leader",
        "desk_search": "/can-bo?tim=0042",
        "desk_filter": "/can-bo?thu_tuc=MT-DTM-BO&qua_han=1",
        "desk_dossier": f"/can-bo/ho-so/{code}",
    }


async def desk_times(platform: BenchPlatform, officers: int, rounds: int, dossiers: int) -> dict[str, Any]:
    issuer = platform.env["HOSO_OIDC_ISSUER"]
    walk = Walkthrough(BASE, platform.state, say=lambda _: None)
    walk.sign_in_at(issuer, applicant="congty.demo", reception="tiepnhan.bnnmt")
    code = walk.submit_eia("Nhà máy đo tải bàn làm việc")
    walk.wait_review(code, "awaiting_reception")
    walk.close()
    began = time.perf_counter()
    await seed_queue(platform, dossiers)
    seeded_s = time.perf_counter() - began
    times: dict[str, list[float]] = {}
    clients = [httpx.AsyncClient(base_url=BASE, timeout=60) for _ in range(officers)]
    try:
        for client in clients:
            await sign_in(client, "tiepnhan.bnnmt", landing="/can-bo")

        duration = await browse_all(clients, [desk_pages(code)] * len(clients), rounds, times)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    total = sum(len(v) for v in times.values())
    return {
        "officers": officers,
        "rounds": rounds,
        "dossiers_in_agency": dossiers + 1,
        "seeded_s": round(seeded_s, 1),
        "pages_per_s": round(total / duration, 1),
        "server_time_s": {name: _p50_p95(values) for name, values in times.items()},
    }


async def run(users: int, rounds: int, upload_bytes: int, desk_dossiers: int) -> dict[str, Any]:
    platform = start_platform()
    try:
        return {
            "pages": await page_times(platform, users, rounds),
            "desk": await desk_times(platform, users, rounds, desk_dossiers),
            "upload": await upload_memory(platform, upload_bytes),
        }
    finally:
        platform.run("down")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=int(os.environ.get("BENCH_PORTAL_USERS", "20")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_PORTAL_ROUNDS", "5")))
    parser.add_argument("--upload-mb", type=int, default=int(os.environ.get("BENCH_PORTAL_UPLOAD_MB", "100")))
    parser.add_argument("--desk-dossiers", type=int, default=int(os.environ.get("BENCH_DESK_DOSSIERS", "5000")))
    args = parser.parse_args()
    figures = asyncio.run(run(args.users, args.rounds, args.upload_mb * 1000 * 1000, args.desk_dossiers))
    print(json.dumps({"portal": figures}, indent=2))


if __name__ == "__main__":
    main()
