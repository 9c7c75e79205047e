from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

from hoso.auth import TrustedIssuer
from hoso.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    service_name: ClassVar[str] = "demo"
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


def test_platform_variables_apply_to_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://db.example:27017/")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    s = DemoSettings()
    assert s.mongodb_url == "mongodb://db.example:27017/"
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert s.database_name == "hoso_demo"


def test_the_service_prefix_overrides_the_platform_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://shared/")
    monkeypatch.setenv("DEMO_MONGODB_URL", "mongodb://own/")
    assert DemoSettings().mongodb_url == "mongodb://own/"


def test_local_mode_verifies_with_the_development_jwks(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("HOSO_LOCAL_MODE", "1")
    monkeypatch.setenv("HOSO_STATE_DIR", str(tmp_path))
    s = DemoSettings()
    assert s.local_mode
    assert s.trusted_issuers == [TrustedIssuer("hoso-local", jwks_file=Path(f"{tmp_path}/keys/jwks.json"))]


def test_local_mode_trusts_the_identity_provider_and_the_development_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("HOSO_LOCAL_MODE", "1")
    monkeypatch.setenv("HOSO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HOSO_JWT_ISSUER", "http://127.0.0.1:8180/realms/hoso")
    monkeypatch.setenv("HOSO_JWT_JWKS_URL", "http://127.0.0.1:8180/realms/hoso/protocol/openid-connect/certs")
    assert [t.issuer for t in DemoSettings().trusted_issuers] == ["http://127.0.0.1:8180/realms/hoso", "hoso-local"]


def test_outside_local_mode_only_the_identity_provider_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSO_LOCAL_MODE", raising=False)
    monkeypatch.setenv("HOSO_JWT_ISSUER", "https://id.example.gov.vn/realms/hoso")
    monkeypatch.setenv("HOSO_JWT_JWKS_URL", "https://id.example.gov.vn/realms/hoso/protocol/openid-connect/certs")
    assert [t.issuer for t in DemoSettings().trusted_issuers] == ["https://id.example.gov.vn/realms/hoso"]


def test_outside_local_mode_no_key_is_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSO_LOCAL_MODE", raising=False)
    assert DemoSettings().trusted_issuers == []


def test_a_service_keeps_an_idle_connection_longer_than_the_gateway_so_the_gateway_closes_it_first() -> None:
    template = (Path(__file__).resolve().parents[2] / "deploy/gateway/hoso.conf.template").read_text()
    upstreams = re.findall(r"^upstream (\w+)\s*\{(.*)\}$", template, flags=re.MULTILINE)
    assert len(upstreams) == 5
    kept = ServiceSettings.model_fields["http_keep_alive_seconds"].default
    for name, body in upstreams:
        found = re.search(r"keepalive_timeout (\d+)s;", body)
        assert found is not None, f"{name} keeps idle connections for nginx's default, unstated"
        assert int(found.group(1)) < kept, name
