"""docker-compose.yml runs what local mode runs, with the same variables and the same gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hoso.settings import PLATFORM_VARIABLES, ServiceSettings
from intake.settings import IntakeSettings
from notify.settings import NotifySettings
from portal.settings import PortalSettings
from records.settings import RecordsSettings
from review.settings import ReviewSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "review": ReviewSettings,
    "notify": NotifySettings,
    "records": RecordsSettings,
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_runs_as_api_and_worker_beside_kafka_mongodb_the_mail_sink_and_the_gateway(
    compose: dict[str, Any],
) -> None:
    expected = {"kafka", "mongodb", "keycloak", "gateway", "portal", "mailsink"}
    expected |= {f"{s}-{r}" for s in SETTINGS for r in ("api", "worker")}
    assert set(compose["services"]) == expected


def test_the_portal_uses_only_variables_it_reads_and_keycloak_imports_the_realm(compose: dict[str, Any]) -> None:
    portal = compose["services"]["portal"]
    prefix = str(PortalSettings.model_config.get("env_prefix", ""))
    known = set(PLATFORM_VARIABLES) | {prefix + name.upper() for name in PortalSettings.model_fields}
    assert set(portal["environment"]) - known == set()
    assert portal["read_only"] is True
    keycloak = compose["services"]["keycloak"]
    assert "--import-realm" in keycloak["command"]
    assert "./deploy/keycloak:/opt/keycloak/data/import:ro" in keycloak["volumes"]
    gateway = compose["services"]["gateway"]["environment"]
    assert gateway["PORTAL_ADDRESSES"] == portal["networks"]["default"]["ipv4_address"]


def test_every_container_has_a_health_check(compose: dict[str, Any]) -> None:
    assert [name for name, svc in compose["services"].items() if "healthcheck" not in svc] == []


def test_mongodb_is_a_replica_set_and_kafka_runs_kraft(compose: dict[str, Any]) -> None:
    assert "--replSet" in compose["services"]["mongodb"]["command"]
    assert compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


@pytest.mark.parametrize("service", sorted(SETTINGS))
@pytest.mark.parametrize("role", ["api", "worker"])
def test_service_containers_use_only_variables_that_local_mode_reads(
    compose: dict[str, Any], service: str, role: str
) -> None:
    container = compose["services"][f"{service}-{role}"]
    settings = SETTINGS[service]
    prefix = str(settings.model_config.get("env_prefix", ""))
    known = set(PLATFORM_VARIABLES) | {prefix + name.upper() for name in settings.model_fields}
    assert set(container["environment"]) - known == set()
    assert container["command"] == [role]
    assert container["environment"]["MONGODB_URL"].startswith("mongodb://mongodb:27017")
    assert container["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert container["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert container["read_only"] is True
    assert (ROOT / container["build"]["dockerfile"]).is_file()


def test_the_gateway_uses_the_local_mode_template(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]
    template = "./deploy/gateway/hoso.conf.template"
    assert any(v.startswith(template + ":") for v in gateway["volumes"])
    text = (ROOT / template).read_text()
    for variable in gateway["environment"]:
        assert "${" + variable + "}" in text


@pytest.mark.parametrize("service", [*sorted(SETTINGS), "portal"])
def test_images_run_as_a_non_root_user_from_a_multi_stage_build(service: str) -> None:
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2
    assert "USER 10001" in dockerfile
    assert f'ENTRYPOINT ["python", "-m", "{service}"]' in dockerfile
