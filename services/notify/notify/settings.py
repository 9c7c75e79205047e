from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hoso.settings import ServiceSettings
from notify.channels.email import SmtpRelay
from notify.channels.sms import SmsProvider
from notify.domain.delivery import RetryPolicy

HERE = Path(__file__).resolve().parent
DEFAULT_DIRECTORY = HERE / "directory.yaml"


class NotifySettings(ServiceSettings):
    """Environment prefix NOTIFY_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "notify"
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    http_port: int = 8003
    worker_http_port: int = 9003

    # E-mail: the SMTP relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = Field(default=False, description="Implicit TLS (port 465)")
    smtp_starttls: bool | None = Field(default=None, description="STARTTLS; None uses it when the relay offers it")
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    mail_from_address: str = "no-reply@dichvucong.hoso.gov.vn"
    mail_from_name: str = "Cổng dịch vụ công Hoso"
    message_id_domain: str = "hoso.gov.vn"

    # SMS: an HTTP provider; no URL means no SMS is sent (deliveries are not created for that channel).
    sms_provider: str = Field(default="sms", pattern=r"^[a-z0-9-]{1,40}$")
    sms_url: str | None = None
    sms_token: SecretStr | None = None
    sms_sender: str = "HOSO"
    sms_callback_secret: SecretStr | None = None
    sms_timeout_seconds: float = Field(default=10.0, gt=0)

    # Retries and rate limits.
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    send_lease_seconds: float = Field(default=120.0, gt=0, description="After this, a `sending` attempt is retried")
    sweep_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often a worker looks at every delivery for due work it was not told of (its own new "
        "deliveries and retries are attempted when they are created or fall due)",
    )
    send_concurrency: int = Field(default=4, ge=1, description="Attempts a worker makes at once")
    recipient_per_minute: float = Field(default=20.0, gt=0, description="Messages per recipient address and minute")
    recipient_burst: float = Field(default=10.0, ge=1)
    email_per_second: float = Field(default=50.0, gt=0, description="Per worker process")
    sms_per_second: float = Field(default=20.0, gt=0, description="Per worker process")

    directory_file: Path = Field(default=DEFAULT_DIRECTORY, description="Officers' contacts and preferences (YAML)")
    rules_file: Path = Field(default=HERE / "rules.yaml", description="Which event notifies whom, on which channels")
    templates_dir: Path = Field(default=HERE / "templates", description="One YAML file of templates per event")

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_seconds=self.retry_base_seconds,
            max_seconds=self.retry_max_seconds,
            lease_seconds=self.send_lease_seconds,
        )

    @property
    def smtp_relay(self) -> SmtpRelay:
        return SmtpRelay(
            host=self.smtp_host,
            port=self.smtp_port,
            from_address=self.mail_from_address,
            from_name=self.mail_from_name,
            message_id_domain=self.message_id_domain,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            use_tls=self.smtp_tls,
            start_tls=self.smtp_starttls,
            timeout=self.smtp_timeout_seconds,
        )

    @property
    def sms(self) -> SmsProvider | None:
        if not self.sms_url:
            return None
        return SmsProvider(
            name=self.sms_provider,
            url=self.sms_url,
            token=self.sms_token.get_secret_value() if self.sms_token else None,
            sender=self.sms_sender,
            callback_secret=self.sms_callback_secret.get_secret_value() if self.sms_callback_secret else None,
            timeout=self.sms_timeout_seconds,
        )
