"""Where the real servers are: KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (set by `make test`), else testcontainers.

Without either the integration and e2e tests fail loudly: they never skip and never fall back to a fake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from hoso_dev.walkthrough import Walkthrough

from tests.accounts import IdentityProvider
from tests.platform import Platform, start_platform, walk_on


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20).returncode == 0


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if not _docker_available():
        pytest.fail(
            "Kafka is not configured: run the tests with `make test` (it starts the local broker) "
            "or set KAFKA_BOOTSTRAP_SERVERS",
            pytrace=False,
        )
    from testcontainers.community.kafka import KafkaContainer  # type: ignore[import-not-found]

    with KafkaContainer().with_kraft() as container:
        yield container.get_bootstrap_server()


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    configured = os.environ.get("MONGODB_URL")
    if configured:
        yield configured
        return
    if not _docker_available():
        pytest.fail(
            "MongoDB is not configured: run the tests with `make test` (it starts FerretDB) or set MONGODB_URL",
            pytrace=False,
        )
    from testcontainers.community.mongodb import MongoDbContainer  # type: ignore[import-not-found]

    with MongoDbContainer() as container:
        yield container.get_connection_url()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, mongo_url: str) -> Iterator[Platform]:
    """The whole platform as processes behind the gateway, started once for the session."""
    yield from start_platform(tmp_path_factory, kafka_bootstrap, mongo_url)


@pytest.fixture(scope="session")
def identity() -> IdentityProvider:
    """The local Keycloak (started by `make test`), where the suites' people sign in."""
    return IdentityProvider.from_environment()


@pytest.fixture
def walk(platform: Platform, identity: IdentityProvider) -> Iterator[Walkthrough]:
    """A new applicant and the officers of one agency desk, signed in at Keycloak, talking to the gateway."""
    for walk in walk_on(platform):
        identity.sign_in(walk)
        yield walk
