from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Environment prefix INTAKE_ (e.g. INTAKE_HTTP_PORT); MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    http_port: int = 8001
    worker_http_port: int = 9001
    timezone: str = "Asia/Ho_Chi_Minh"
    max_upload_bytes: int = 100 * 1024 * 1024
    seed_catalog: bool = True
    draft_retention_days: float = Field(default=30, gt=0, le=365)
    draft_sweep_seconds: float = Field(default=3600, gt=0)
    payment_provider: str = "vnpay"
    payment_gateway_url: str = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
    payment_merchant_code: str = "HOSO0001"
    payment_secret: SecretStr | None = None
    payment_return_url: str = "http://127.0.0.1:8080/"
