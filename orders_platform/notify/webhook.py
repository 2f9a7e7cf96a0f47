"""A Slack-compatible incoming webhook that can never fail a data run nor stall a sensor.

The URL is a secret, so it is read from the environment (`ORDERS_SLACK_WEBHOOK_URL`) at the
moment a message is sent, and is deliberately not a config field: a config field can be set
in the launchpad, and whatever is set there is stored in clear in the run's config. Dagster's
`EnvVar` would keep it out of the config, but an unset `EnvVar` fails the run at config time,
and unset must mean "log and record only". No outcome this module reports (`Delivery.detail`)
contains the URL: errors that quote it are scrubbed.

A rate-limited (429) or failing (5xx) webhook is retried a few times with a short backoff,
bounded as a whole by `retry_budget_seconds`, so a sensor tick that posts stays well inside
the daemon's tick timeout. Any other answer (a 4xx: the URL or the payload is wrong) would
fail again the same way and is not retried; nor is a webhook that does not answer at all
(refused, unreachable, timed out), so a down webhook costs a tick one attempt.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from dagster import ConfigurableResource
from pydantic import Field

WEBHOOK_ENV = "ORDERS_SLACK_WEBHOOK_URL"
# What stands for the URL, or any part of it, in a reported error.
REDACTED = "<webhook>"


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    detail: str


def is_retryable(status: int) -> bool:
    """Rate limited or a server error: the same request may succeed a moment later."""
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's `Retry-After` in seconds (the delta-seconds form; a date is ignored)."""
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def scrub(text: str, url: str) -> str:
    """`text` with the URL, its host and its path replaced, as they are and as Python quotes
    them (`repr`): urllib and http.client quote parts of a URL they cannot use, and the path
    of an incoming webhook is its secret. The URL is split by hand, as urllib's request does:
    `urlsplit` would drop the tabs and newlines that an error then quotes."""
    netloc, _, path = url.partition("://")[2].partition("/")
    host = netloc.rpartition("@")[2].rpartition(":")[0] or netloc
    secrets = {url, netloc, host, f"/{path}" if path else ""} - {""}
    forms = {form for secret in secrets for form in (secret, repr(secret)[1:-1])}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


class WebhookResource(ConfigurableResource):
    """Posts `{"text": ...}` to the Slack-compatible webhook named by `ORDERS_SLACK_WEBHOOK_URL`."""

    timeout_seconds: float = Field(default=5.0, description="Timeout of one attempt.")
    attempts: int = Field(default=3, ge=1, description="Attempts at most, the first included.")
    backoff_seconds: float = Field(
        default=0.5, ge=0, description="Wait before the first retry; doubled before each next."
    )
    max_wait_seconds: float = Field(
        default=5.0, ge=0, description="Cap on one wait, a server's Retry-After included."
    )
    retry_budget_seconds: float = Field(
        default=10.0, ge=0, description="No retry starts once this long has passed."
    )

    def webhook_url(self) -> str | None:
        return os.environ.get(WEBHOOK_ENV) or None

    def post(self, text: str) -> Delivery:
        """Post `text`, retrying on 429 and 5xx; report, never raise, when that is impossible."""
        url = self.webhook_url()
        if not url:
            return Delivery(False, f"not sent: {WEBHOOK_ENV} is not set")
        if not url.startswith(("https://", "http://")):
            return Delivery(False, f"not sent: {WEBHOOK_ENV} is not an http(s) URL")
        body = json.dumps({"text": text}).encode()
        started = time.monotonic()
        wait, attempt = self.backoff_seconds, 1
        while True:
            status, headers, detail = self._attempt(url, body)
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            if status is not None and 200 <= status <= 299:
                return Delivery(True, f"sent: HTTP {status}{tries}")
            asked = retry_after_seconds(headers)
            pause = min(wait if asked is None else asked, self.max_wait_seconds)
            if (
                status is None
                or not is_retryable(status)
                or attempt == self.attempts
                or time.monotonic() - started + pause > self.retry_budget_seconds
            ):
                return Delivery(False, f"not sent: {detail}{tries}")
            time.sleep(pause)
            wait, attempt = wait * 2, attempt + 1

    def _attempt(self, url: str, body: bytes) -> tuple[int | None, Mapping[str, str] | None, str]:
        """One POST: (HTTP status or None when there was no answer, headers, what happened)."""
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return response.status, response.headers, f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            return error.code, error.headers, f"HTTP {error.code}"
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            return None, None, scrub(f"{type(error).__name__}: {reason}", url)
