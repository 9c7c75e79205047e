"""Wait until a local server really answers: Kafka a metadata request, MongoDB a ping.

usage: probe.py kafka|mongo|http ADDRESS [--pidfile FILE] [--timeout SECONDS]
(http: ADDRESS is a URL that must answer 200, e.g. a /health/ready endpoint)
Exits 0 when ready, 1 when the timeout passes or the process behind the pid file dies.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time


def _process_alive(pidfile: str | None) -> bool:
    if not pidfile:
        return True
    try:
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


async def _kafka_ready(address: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def _mongo_ready(url: str) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=1500)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def _http_ready(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - local probe URL
            return bool(answer.status == 200)
    except OSError:
        return False


def _tcp_ready(address: str) -> bool:
    import socket

    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def _ready(kind: str, address: str) -> bool:
    if kind == "tcp":
        return _tcp_ready(address)
    if kind == "kafka":
        return asyncio.run(_kafka_ready(address))
    if kind == "mongo":
        return _mongo_ready(address)
    return _http_ready(address)


def main() -> int:
    logging.disable(logging.CRITICAL)
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["kafka", "mongo", "http", "tcp"])
    parser.add_argument("address")
    parser.add_argument("--pidfile")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not _process_alive(args.pidfile):
            print(f"{args.kind}: the process exited before it was ready", file=sys.stderr)
            return 1
        if _ready(args.kind, args.address):
            return 0
        time.sleep(0.5)
    print(f"{args.kind}: not ready after {args.timeout:.0f}s at {args.address}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
