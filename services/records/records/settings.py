from __future__ import annotations

from typing import ClassVar

from hoso.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class RecordsSettings(ServiceSettings):
    """Environment prefix RECORDS_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "records"
    model_config = SettingsConfigDict(env_prefix="RECORDS_", extra="ignore")

    http_port: int = 8004
    worker_http_port: int = 9004
