"""The portal's settings: env prefix PORTAL_; the identity provider's and the gateway's addresses."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hoso.settings import CalendarSettings


class PortalSettings(CalendarSettings):
    """PORTAL_API_URL is the gateway the portal calls (/api/v1), PORTAL_PUBLIC_URL where people reach the portal."""

    service_name: ClassVar[str] = "portal"
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    http_port: int = 8005
    worker_http_port: int = 9005
    api_url: str = "http://127.0.0.1:8080"
    public_url: str = "http://127.0.0.1:8080"
    oidc_issuer: str = "http://127.0.0.1:8180/realms/hoso"
    oidc_metadata_url: str | None = Field(
        default=None, description="Where the portal reads the provider's discovery document, when not under the issuer"
    )
    oidc_client_id: str = "hoso-portal"
    oidc_client_secret: SecretStr | None = None
    oidc_client_secret_file: Path | None = None
    oidc_scope: str = "openid email"
    directory_client_id: str = Field(
        default="hoso", description="The client whose roles the officers hold (the services' audience)"
    )
    directory_ttl_seconds: float = Field(default=300.0, ge=0, description="How long the officers' names are kept")
    session_idle_minutes: int = Field(default=30, ge=5, le=24 * 60)
    session_max_hours: int = Field(default=10, ge=1, le=72)
    refresh_margin_seconds: int = Field(default=60, ge=0, le=600)
    api_timeout_seconds: float = Field(default=30.0, gt=0)
    upload_timeout_seconds: float = Field(default=600.0, gt=0)
    timezone: str = "Asia/Ho_Chi_Minh"

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def client_secret(self) -> str:
        if self.oidc_client_secret is not None:
            return self.oidc_client_secret.get_secret_value()
        if self.oidc_client_secret_file is not None:
            return self.oidc_client_secret_file.read_text().strip()
        raise RuntimeError("set PORTAL_OIDC_CLIENT_SECRET or PORTAL_OIDC_CLIENT_SECRET_FILE")
