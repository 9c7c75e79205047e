"""Settings shared by every service: one env prefix per service, platform-wide variables as fallbacks."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hoso.auth import DEV_ISSUER, TrustedIssuer
from hoso.deadlines import WorkCalendar
from hoso.pins import local_seal_key

# Variables the whole platform shares; `<PREFIX>_<NAME>` overrides `<NAME>` for one service.
PLATFORM_VARIABLES = (
    "MONGODB_URL",
    "MONGODB_MAX_POOL_SIZE",
    "MONGODB_SLOW_MS",
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_TOPIC_PREFIX",
    "KAFKA_TOPIC_PARTITIONS",
    "KAFKA_REPLICATION_FACTOR",
    "HOSO_LOCAL_MODE",
    "HOSO_STATE_DIR",
    "HOSO_JWT_JWKS_FILE",
    "HOSO_JWT_JWKS_URL",
    "HOSO_JWT_ISSUER",
    "HOSO_JWT_AUDIENCE",
    "HOSO_LOG_LEVEL",
    "HOSO_PIN_SEAL_KEY",
    "HOSO_HTTP_PORT",
    "HOSO_WORKER_HTTP_PORT",
)


def repo_state_dir() -> Path:
    """The runtime state folder (`.local/` at the repository root unless HOSO_STATE_DIR says otherwise)."""
    configured = os.environ.get("HOSO_STATE_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".local"


class ServiceSettings(BaseSettings):
    """Base settings of one service; subclasses set `service_name` and the env prefix."""

    service_name: ClassVar[str] = "hoso"

    model_config = SettingsConfigDict(extra="ignore")

    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = ""
    mongodb_max_pool_size: int = 100
    mongodb_slow_ms: float = Field(default=0.0, ge=0)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = ""
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    worker_http_port: int = 9000
    http_keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        description="How long an idle HTTP connection stays open: longer than the gateway keeps its idle upstream "
        "connections (60 s), so the gateway closes them and never sends a request on one the service is closing",
    )
    local_mode: bool = False
    state_dir: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = DEV_ISSUER
    jwt_audience: str = "hoso"
    log_level: str = "INFO"
    consumer_group: str = ""
    relay_poll_seconds: float = 30.0
    consumer_max_attempts: int = 5
    consumer_batch_size: int = Field(default=200, ge=1)
    consumer_concurrency: int = Field(default=8, ge=1)
    lag_interval_seconds: float = 15.0
    pin_seal_key: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _platform_fallbacks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for variable in PLATFORM_VARIABLES:
            field = variable.lower().removeprefix("hoso_")
            if field not in data and variable in os.environ:
                data[field] = os.environ[variable]
        return data

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"hoso_{self.service_name}"

    @property
    def state_path(self) -> Path:
        return self.state_dir or repo_state_dir()

    @property
    def trusted_issuers(self) -> list[TrustedIssuer]:
        """The issuers whose tokens this service accepts: the identity provider (HOSO_JWT_ISSUER with its JWKS URL
        or file) and, in local mode only, the development key of `hoso-dev token` (issuer `hoso-local`)."""
        trusted = []
        if self.jwt_jwks_url or self.jwt_jwks_file is not None:
            trusted.append(TrustedIssuer(self.jwt_issuer, jwks_file=self.jwt_jwks_file, jwks_url=self.jwt_jwks_url))
        if self.local_mode and all(t.issuer != DEV_ISSUER for t in trusted):
            trusted.append(TrustedIssuer(DEV_ISSUER, jwks_file=self.state_path / "keys" / "jwks.json"))
        return trusted

    @property
    def seal_key(self) -> str | None:
        """The key that seals tracking PINs for the applicant's receipt; in local mode a key under the state folder."""
        if self.pin_seal_key is not None:
            return self.pin_seal_key.get_secret_value()
        if self.local_mode:
            return local_seal_key(self.state_path)
        return None


class CalendarSettings(ServiceSettings):
    """Settings of a service that counts working time: the days off and make-up working days the government decides
    each year beyond the public holidays the calendar knows (<PREFIX>DAYS_OFF, <PREFIX>MAKEUP_WORKING_DAYS)."""

    days_off: list[date] = Field(default_factory=list, description="Extra days off decided by the government")
    makeup_working_days: list[date] = Field(default_factory=list, description="Weekend days worked in exchange")

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar.configured(self.days_off, self.makeup_working_days)
