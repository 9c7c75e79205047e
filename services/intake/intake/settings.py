from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings
from intake.catalog.seed import load_identifiers
from intake.domain.codes import AgencyCode, AgencyIdentifier, DossierCodes


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
    # Each agency's electronic identifier (QCVN 102:2016/BTTTT), leading its dossier codes; JSON, e.g.
    # INTAKE_AGENCY_IDENTIFIERS='{"BNNMT": "000.00.00.G99"}'. Added to (and over) the ones agencies.yaml ships.
    agency_identifiers: dict[AgencyCode, AgencyIdentifier] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identifiers_are_unique(self) -> IntakeSettings:
        self.dossier_codes()
        return self

    def dossier_codes(self) -> DossierCodes:
        return DossierCodes({**load_identifiers(), **self.agency_identifiers})
