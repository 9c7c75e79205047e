from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hoso.settings import CalendarSettings


class RecordsSettings(CalendarSettings):
    """Environment prefix RECORDS_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "records"
    model_config = SettingsConfigDict(env_prefix="RECORDS_", extra="ignore")

    http_port: int = 8004
    worker_http_port: int = 9004

    archive_exporter: Literal["folder", "http"] = Field(default="folder", description="How packages reach the DMS")
    archive_folder: Path | None = Field(default=None, description="The drop folder; default <state>/archive-out")
    archive_url: str | None = Field(default=None, description="The DMS endpoint the http exporter POSTs to")
    archive_token: SecretStr | None = None
    archive_retry_base_seconds: float = Field(default=10.0, gt=0)
    archive_retry_max_seconds: float = Field(default=3600.0, gt=0)
    archive_lease_seconds: float = Field(
        default=120.0, gt=0, description="After this, an export whose worker died is tried again"
    )
    archive_interval_seconds: float = Field(default=5.0, gt=0)
    stats_max_dossiers: int = Field(default=200_000, gt=0, description="Refuse statistics over more dossiers")
    gauges_interval_seconds: float = Field(default=60.0, gt=0, description="How often dossier gauges are refreshed")
