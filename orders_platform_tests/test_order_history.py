"""The order-level as-of history and the orders behind each revision, end to end.

The fixture's two waves land file by file, each stamped with its own arrival time, so the
history holds versions known at six different moments; the oracle replays only the files
that had arrived by a moment and must find the same orders the history says were known then.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders_platform_tests.expectations import ExpectedOrder, expected_from
from orders_platform_tests.fixtures.late_events import LandingFile, both_waves, on_time_wave
from orders_platform_tests.harness import Platform
from orders_platform_tests.snapshots import FIRST, LAST

pytestmark = pytest.mark.slow

_KNOWN_AT = """
select order_id, event_id, status, amount, order_date
from order_history
where valid_from <= ? and (valid_to is null or valid_to > ?)
order by order_id
"""


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _as_rows(orders: dict[str, ExpectedOrder]) -> list[tuple]:
    return [(o.order_id, o.event_id, o.status, o.amount, o.order_date) for o in orders.values()]


def _moments(files: list[LandingFile]) -> list[datetime]:
    """Just before and at every arrival, and long after the last."""
    arrivals = sorted({_naive(f.arrived_at) for f in files})
    just_before = [a - timedelta(microseconds=1) for a in arrivals]
    return sorted({*just_before, *arrivals, arrivals[-1] + timedelta(days=365)})


def assert_known_orders_match_oracle(platform: Platform, files: list[LandingFile]) -> None:
    """At every moment around the files' arrivals, the orders order_history says were known
    are the oracle's replay of the files that had arrived by then."""
    for moment in _moments(files):
        arrived = [f for f in files if _naive(f.arrived_at) <= moment]
        expected = _as_rows(expected_from(arrived).orders) if arrived else []
        known = platform.rows(_KNOWN_AT, [moment, moment])
        assert known == expected, f"orders as known at {moment}"


def expected_links(before: list[LandingFile], after: list[LandingFile], days) -> set:
    """(day, order) pairs whose contribution to a day differs between two sets of files."""
    old, new = expected_from(before).orders, expected_from(after).orders
    return {
        (day, order_id)
        for day in days
        for order_id in old.keys() | new.keys()
        if _contribution(old.get(order_id), day) != _contribution(new.get(order_id), day)
    }


def test_the_orders_known_at_any_moment_equal_fct_orders_rebuilt_from_what_had_arrived(
    late_merged_platform,
):
    assert_known_orders_match_oracle(late_merged_platform, both_waves())


def test_the_current_versions_are_fct_orders(late_merged_platform):
    assert late_merged_platform.rows(
        "select order_id, event_id, order_date from order_history where is_current "
        "order by order_id"
    ) == late_merged_platform.rows(
        "select order_id, latest_event_id, order_date from fct_orders order by order_id"
    )


def test_a_late_wave_adds_versions_without_rewriting_what_was_known_before(
    merged_platform, late_merged_platform
):
    """Every version known before the late wave is still there, with the same validity
    start; only the versions it replaced gain an end."""
    columns = "version_key, order_id, status, amount, order_date, valid_from"
    before = set(merged_platform.rows(f"select {columns} from order_history"))
    after = set(late_merged_platform.rows(f"select {columns} from order_history"))
    assert before < after
    replaced = late_merged_platform.rows(
        "select count(*) from order_history where valid_to is not null"
    )[0][0]
    assert replaced > 0


def test_re_recording_the_same_days_changes_no_version(late_merged_platform):
    columns = "version_key, valid_from, valid_to, status, amount, order_date, version_number"
    query = f"select {columns} from order_history order by version_key"
    before = late_merged_platform.rows(query)
    assert late_merged_platform.record_history(FIRST, LAST).success
    assert late_merged_platform.rows(query) == before
    assert (
        late_merged_platform.rows(
            "select count(*) from order_history group by version_key having count(*) > 1"
        )
        == []
    )


def _contribution(order: ExpectedOrder | None, day) -> tuple[bool, Decimal]:
    if order is None or order.order_date != day:
        return (False, Decimal("0"))
    counted = order.status not in ("cancelled", "refunded")
    return (True, order.amount if counted else Decimal("0"))


def test_each_revision_links_exactly_the_orders_whose_contribution_to_its_day_changed(
    late_merged_platform,
):
    before, after = expected_from(on_time_wave()).orders, expected_from(both_waves()).orders
    revised_days = {
        day
        for (day,) in late_merged_platform.rows(
            "select order_date from revenue_daily_revisions where not is_first_version"
        )
    }
    expected = expected_links(on_time_wave(), both_waves(), revised_days)
    links = late_merged_platform.rows(
        "select order_date, order_id, change, version_order_date, net_revenue_delta "
        "from revenue_daily_revision_orders"
    )
    assert {(day, order_id) for day, order_id, *_ in links} == expected
    for day, order_id, change, moved_to, delta in links:
        old, new = _contribution(before.get(order_id), day), _contribution(after.get(order_id), day)
        assert delta == new[1] - old[1], (day, order_id)
        if change == "moved_out":
            assert moved_to == after[order_id].order_date
        if change == "refunded":
            assert after[order_id].status == "refunded"


def test_the_revision_notice_says_what_the_orders_behind_each_day_did(late_merged_snapshot):
    [message] = late_merged_snapshot.facts["messages"]
    assert late_merged_snapshot.facts["run_id"] in message  # the re-merge that revised
    day_lines = [line for line in message.splitlines() if line.startswith("• ")]
    assert day_lines and all("; " in line for line in day_lines), message
    assert any(" order moved to " in line or " orders moved to " in line for line in day_lines)


def test_a_second_history_run_announces_nothing_already_announced(remerged_again_snapshot):
    assert remerged_again_snapshot.facts["messages"] == []
