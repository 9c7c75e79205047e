from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings


class RecordsSettings(ServiceSettings):
    """Environment prefix RECORDS_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "records"
    model_config = SettingsConfigDict(env_prefix="RECORDS_", extra="ignore")

    http_port: int = 8004
    worker_http_port: int = 9004
