from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

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
    assert str(s.jwks_file) == f"{tmp_path}/keys/jwks.json"


def test_outside_local_mode_no_jwks_is_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSO_LOCAL_MODE", raising=False)
    assert DemoSettings().jwks_file is None
