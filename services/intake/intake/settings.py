from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Environment prefix INTAKE_ (e.g. INTAKE_HTTP_PORT); MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    http_port: int = 8001
    worker_http_port: int = 9001
    timezone: str = "Asia/Ho_Chi_Minh"
