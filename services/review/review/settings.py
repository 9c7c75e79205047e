from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    """Environment prefix REVIEW_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "review"
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore")

    http_port: int = 8002
    worker_http_port: int = 9002
