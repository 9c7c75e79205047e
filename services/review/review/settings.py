from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hoso.settings import CalendarSettings


class ReviewSettings(CalendarSettings):
    """Environment prefix REVIEW_; MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS are shared."""

    service_name: ClassVar[str] = "review"
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore")

    http_port: int = 8002
    worker_http_port: int = 9002
    due_soon_lead_hours: float = Field(default=8.0, gt=0, description="Office hours before the deadline to warn")
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    queue_full_read_seconds: float = Field(
        default=300.0, gt=0, description="FerretDB: how often an agency's in-memory queue is read again whole"
    )

    @property
    def due_soon_lead(self) -> timedelta:
        return timedelta(hours=self.due_soon_lead_hours)
