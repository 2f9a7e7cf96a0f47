"""Security rules that a refactor could quietly break: loopback by default, nothing from a
partition key or a payload is ever SQL, and no secret lives in the repository."""

import re
import subprocess

import pytest
from dagster import DagsterInvalidConfigError, validate_run_config
from dagster._serdes import serialize_value

from orders_platform.definitions import defs
from orders_platform.notify.webhook import WebhookResource
from orders_platform.settings import REPO_ROOT
from orders_platform.transform.dbt_args import DateWindow

# Spelled in pieces so this file does not match its own patterns.
SECRET_PATTERNS = {
    "slack webhook": re.compile("hooks" + r"\.slack\.com/services/\w+"),
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "aws key": re.compile("AKIA" + r"[0-9A-Z]{16}"),
    "literal password": re.compile(r"(?i)\b(password|passwd|token)\s*[:=]\s*['\"][^'\"{]+['\"]"),
}


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return listing.stdout.split()


def test_no_secret_is_committed():
    found = []
    for name in tracked_files():
        text = (REPO_ROOT / name).read_text(encoding="utf-8", errors="replace")
        found += [(name, kind) for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert found == []


def test_every_dbt_connection_setting_comes_from_the_environment():
    profiles = (REPO_ROOT / "dbt" / "profiles.yml").read_text()
    paths = re.findall(r"^\s+path:\s*(.+)$", profiles, flags=re.MULTILINE)
    assert paths and all("env_var('ORDERS_WAREHOUSE'" in p for p in paths), paths


def test_the_dagster_ui_binds_to_loopback_unless_told_otherwise():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, flags=re.MULTILINE)
    dev_recipe = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    assert "dagster dev" in dev_recipe and "-h $(HOST)" in dev_recipe


@pytest.mark.parametrize(
    "key",
    ["2026-03-01'; drop table fct_orders; --", "2026-03-01 or 1=1", "{{ run_query() }}", ""],
)
def test_a_partition_key_that_is_not_a_date_never_reaches_dbt(key):
    with pytest.raises(ValueError):
        DateWindow.from_partition_keys(["2026-03-01", key])


@pytest.mark.slow
def test_the_webhook_url_is_in_no_run_config_and_no_event_of_runs_that_post(
    late_merged_platform, late_merged_snapshot
):
    facts = late_merged_snapshot.facts
    url = facts["webhook_url"]
    netloc = url.split("//", 1)[1].split("/", 1)[0]
    instance = late_merged_platform.instance

    def stored(run_id: str) -> str:
        run = instance.get_run_by_id(run_id)
        logs = "".join(serialize_value(entry) for entry in instance.all_logs(run_id))
        return serialize_value(run.run_config) + serialize_value(run.tags) + logs

    history = stored(facts["history_run_id"])
    assert facts["messages"] and "sent: HTTP 200" in history  # the run did post
    for text in (history, stored(facts["run_id"])):
        assert url not in text and netloc not in text


def test_the_launchpad_cannot_set_a_webhook_url():
    history_job = defs.resolve_job_def("orders_history_job")
    webhook = {"url": "https://hooks.example.com/services/T0/B0/secret"}
    with pytest.raises(DagsterInvalidConfigError):
        validate_run_config(
            history_job,
            {"resources": {"revision_notifier": {"config": {"webhook": webhook}}}},
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/services/T0/B0/top secret",
        "http://127.0.0.1:1/services/T0/B0/top\tsecret",
    ],
)
def test_a_webhook_error_never_quotes_the_url(url, monkeypatch):
    monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", url)
    delivery = WebhookResource().post("hello")
    assert not delivery.delivered
    assert "control characters" in delivery.detail  # http.client's error, which quotes the path
    assert "secret" not in delivery.detail and "services" not in delivery.detail
