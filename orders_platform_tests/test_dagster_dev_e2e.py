"""Late data under a real `dagster dev` (webserver + daemon): seen stale, healed by itself.

Starts its own `dagster dev` on a free 127.0.0.1 port with its own DAGSTER_HOME and the
project's dagster.yaml, and stops every process it started. The scenario itself
(late_file_scenario.py) also runs against the PostgreSQL deployment (test_prod_deploy_e2e.py).
"""

import pytest
from dagster import DagsterInstance

from orders_platform_tests.dagster_dev import dagster_dev, isolated_dagster_home
from orders_platform_tests.harness import Platform, Receiver
from orders_platform_tests.late_file_scenario import (
    DAY,
    assert_one_revision_and_one_notice,
    heal_a_late_file,
    order_before,
)

pytestmark = pytest.mark.slow


def test_a_late_file_turns_its_day_stale_then_fresh_with_a_revision_and_one_message(
    merged_snapshot, tmp_path, monkeypatch
):
    # the history, merged before the server starts (its instance is the one the server uses)
    root = tmp_path / "platform"
    merged_snapshot.copy_to(root)
    home = isolated_dagster_home(root, monkeypatch)
    with DagsterInstance.from_config(str(home)) as instance:
        amount, before = order_before(Platform(root=root, instance=instance))
    with (
        Receiver() as receiver,
        dagster_dev(
            tmp_path / "dagster-dev.log", env={"ORDERS_SLACK_WEBHOOK_URL": receiver.url}
        ) as port,
    ):
        healed_after = heal_a_late_file(port, root / "landing", amount, receiver)

    assert_one_revision_and_one_notice(root / "warehouse.duckdb", amount, before, receiver)
    print(f"late file landed -> {DAY} fresh and reconciled in {healed_after:.0f}s")
