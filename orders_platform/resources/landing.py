"""The landing zone: a directory producers drop complete JSON Lines files into."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from orders_platform import settings


class LandingZoneResource(ConfigurableResource):
    """Landing directory; `path` defaults to `ORDERS_LANDING_DIR` read at run time."""

    path: str | None = Field(
        default=None, description="Directory; unset means ORDERS_LANDING_DIR, else data/landing."
    )

    def directory(self) -> Path:
        return settings.resolve_path(self.path) if self.path else settings.landing_dir()
