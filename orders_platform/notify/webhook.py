"""A Slack-compatible incoming webhook that can never fail a data run.

The URL is a secret: it comes from the environment (`ORDERS_SLACK_WEBHOOK_URL`) or the
resource config, never from the repository. Unset means "log and record only".
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from dagster import ConfigurableResource
from pydantic import Field

WEBHOOK_ENV = "ORDERS_SLACK_WEBHOOK_URL"


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    detail: str


class WebhookResource(ConfigurableResource):
    """Posts `{"text": ...}` to a Slack-compatible incoming webhook."""

    url: str | None = Field(
        default=None, description=f"Webhook URL; unset means {WEBHOOK_ENV}, else no posting."
    )
    timeout_seconds: float = Field(default=5.0)

    def webhook_url(self) -> str | None:
        return self.url or os.environ.get(WEBHOOK_ENV) or None

    def post(self, text: str) -> Delivery:
        """Post `text`; report, never raise, when that is impossible."""
        url = self.webhook_url()
        if not url:
            return Delivery(False, f"not sent: {WEBHOOK_ENV} is not set")
        if not url.startswith(("https://", "http://")):
            return Delivery(False, "not sent: the webhook URL is not http(s)")
        request = urllib.request.Request(
            url,
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return Delivery(True, f"sent: HTTP {response.status}")
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return Delivery(False, f"not sent: {error}")
