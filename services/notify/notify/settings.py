from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    """Environment prefix NOTIFY_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "notify"
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    http_port: int = 8003
    worker_http_port: int = 9003
