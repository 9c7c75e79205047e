"""The Kubernetes overlays build with kustomize, and what matters in their output holds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hoso import metrics
from hoso.settings import PLATFORM_VARIABLES
from hoso.topics import SERVICES
from tests.unit.test_compose import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="module", params=OVERLAYS)
def manifests(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    built = subprocess.run(
        ["bash", str(ROOT / "deploy/k8s/kustomize.sh"), "build", request.param],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return [d for d in yaml.safe_load_all(built.stdout) if d]


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests if d["kind"] == kind}


def test_every_deployment_has_probes_limits_and_runs_non_root_read_only(manifests: list[dict[str, Any]]) -> None:
    deployments = of_kind(manifests, "Deployment")
    assert set(deployments) == {"gateway", "portal"} | {f"{s}-{r}" for s in SERVICES for r in ("api", "worker")}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert {"livenessProbe", "readinessProbe"} <= set(container), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name


def test_every_worker_scales_on_its_consumer_lag_and_every_api_on_cpu(manifests: list[dict[str, Any]]) -> None:
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in of_kind(manifests, "ScaledObject").values()}
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in of_kind(manifests, "HorizontalPodAutoscaler").values()}
    for service in SERVICES:
        triggers = scaled[f"{service}-worker"]["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"kafka"}
        assert {t["metadata"]["consumerGroup"] for t in triggers} == {service}
        assert all(t["metadata"]["bootstrapServers"].endswith(".svc:9092") for t in triggers)
        assert f"{service}-api" in hpas
    assert {"gateway", "portal"} <= hpas


def test_every_deployment_has_a_disruption_budget_selecting_it(manifests: list[dict[str, Any]]) -> None:
    budgets = [d["spec"]["selector"]["matchLabels"] for d in of_kind(manifests, "PodDisruptionBudget").values()]
    for name, deployment in of_kind(manifests, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(all(labels.get(k) == v for k, v in b.items()) for b in budgets), name


def test_only_the_gateway_reaches_the_apis(manifests: list[dict[str, Any]]) -> None:
    policy = of_kind(manifests, "NetworkPolicy")["apis-from-gateway-only"]
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    pods = [p["podSelector"]["matchLabels"] for p in sources if "podSelector" in p]
    assert pods == [{"app.kubernetes.io/part-of": "hoso", "app.kubernetes.io/component": "gateway"}]
    for name, deployment in of_kind(manifests, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if name.endswith("-api"):
            assert all(labels.get(k) == v for k, v in policy["spec"]["podSelector"]["matchLabels"].items()), name


def test_only_the_gateway_reaches_the_portal_and_the_gateway_routes_to_it(manifests: list[dict[str, Any]]) -> None:
    policy = of_kind(manifests, "NetworkPolicy")["portal-from-gateway-only"]
    pods = [
        p["podSelector"]["matchLabels"]
        for rule in policy["spec"]["ingress"]
        for p in rule["from"]
        if "podSelector" in p
    ]
    assert pods == [{"app.kubernetes.io/part-of": "hoso", "app.kubernetes.io/component": "gateway"}]
    portal = of_kind(manifests, "Deployment")["portal"]["spec"]["template"]
    assert all(
        portal["metadata"]["labels"].get(k) == v for k, v in policy["spec"]["podSelector"]["matchLabels"].items()
    )
    gateway = of_kind(manifests, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "PORTAL_UPSTREAM", "value": "portal:80"} in gateway["env"]


def test_keycloak_runs_through_its_operator_with_the_hoso_realm(manifests: list[dict[str, Any]]) -> None:
    keycloak = of_kind(manifests, "Keycloak")["hoso-keycloak"]
    assert keycloak["spec"]["hostname"]["hostname"].startswith("https://")
    realm = of_kind(manifests, "KeycloakRealmImport")["hoso-realm"]["spec"]
    assert realm["keycloakCRName"] == "hoso-keycloak"
    # No one signs in with an account of the imported realm: its only one is the portal's service account.
    assert [u["username"] for u in realm["realm"]["users"]] == ["service-account-hoso-portal"]


def test_kafka_topics_and_the_service_configuration(manifests: list[dict[str, Any]]) -> None:
    topics = {d["spec"]["topicName"] for d in of_kind(manifests, "KafkaTopic").values()}
    assert {"dossier.events.v1", "notification.events.v1", "dossier.events.v1.dlq.records"} <= topics
    assert of_kind(manifests, "MongoDBCommunity")["hoso-mongodb"]["spec"]["type"] == "ReplicaSet"
    config = of_kind(manifests, "ConfigMap")["hoso-config"]["data"]
    known = set(PLATFORM_VARIABLES)
    for settings in SETTINGS.values():
        prefix = str(settings.model_config.get("env_prefix", ""))
        known |= {prefix + name.upper() for name in settings.model_fields}
    assert set(config) - known == set()


def test_alert_rules_name_metrics_the_services_export(manifests: list[dict[str, Any]]) -> None:
    exported = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "labels")}
    rules = of_kind(manifests, "PrometheusRule")["hoso-alerts"]["spec"]["groups"][0]["rules"]
    names = {r["alert"] for r in rules}
    assert {"HosoConsumerLagHigh", "HosoDeadLettersGrowing", "HosoOutboxBacklog", "HosoOverdueDossiers"} <= names
    for rule in rules:
        used = set(re.findall(r"\bhoso_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        for metric in used:
            base = re.sub(r"_(total|count|sum|bucket)$", "", metric)
            assert base in exported or metric in exported, (rule["alert"], metric)


def test_the_dashboard_charts_only_metrics_the_services_export() -> None:
    import json

    exported = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "labels")}
    dashboard = json.loads((ROOT / "deploy/observability/grafana-dashboard.json").read_text())
    charted = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for metric in re.findall(r"\bhoso_[a-z_]+", target["expr"]):
                charted.add(re.sub(r"_(total|count|sum|bucket)$", "", metric))
    assert charted == exported
