"""How late is late: the lateness profile, the recommended lookback, and day finality.

A seeded fixture whose arrival delays this test sets lands relative to now (so finality,
which depends on the real clock, can be judged). Every expected number is computed here,
in plain Python, from the fixture's own events: not from the SQL under test.

Three re-merges through Dagster, each followed by the lateness run automation would launch,
sharing one platform:
1. the first wave at the default settings: per-day lateness, curve, recommendation,
   materialization metadata, the coverage warning, every day provisional;
2. a lower target share and the finance view as of just after the quiet period: the
   warning no longer fires, and the days that have settled are now final;
3. no quiet period, and late events for a final day and for an unsettled day: only the
   final day's revision is flagged, loudly, in the webhook message.
"""

import math
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from dagster import AssetCheckSeverity, AssetKey, ExecuteInProcessResult

from orders_platform.definitions import defs
from orders_platform.ingestion.contract import HISTORY_FOLDER
from orders_platform.partitions import REMERGE_DAYS, daily_partitions
from orders_platform.settings import DBT_PROJECT_DIR, dbt_var_settings
from orders_platform.transform.translator import AFTER_THE_MARTS
from orders_platform_tests.fixtures.late_events import LandingFile, event_line
from orders_platform_tests.harness import Receiver

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
# 14 order dates, the newest a week old: recent enough that some have not settled yet
DAYS = [TODAY - timedelta(days=21 - i) for i in range(14)]
OLD_DAY, YOUNG_DAY = DAYS[0], DAYS[-1]
NOT_NET = ("cancelled", "refunded")
THRESHOLDS = (1, 3, 7, 14)
LEGACY_EVENT = "legacy-e1"


@dataclass(frozen=True)
class Event:
    event_id: str
    order_id: str
    status: str
    amount: Decimal
    placed_at: datetime
    event_time: datetime
    ingested_at: datetime | None  # None: a legacy row, on time

    @property
    def day(self) -> date:
        return self.placed_at.date()

    @property
    def arrival(self) -> datetime:
        return self.ingested_at or self.event_time

    @property
    def delay_seconds(self) -> float:
        return (self.arrival - self.event_time).total_seconds()

    @property
    def seconds_after_day(self) -> float:
        day_end = datetime.combine(self.day + timedelta(days=1), datetime.min.time(), UTC)
        return (self.arrival - day_end).total_seconds()

    @property
    def age_days(self) -> int:
        seconds = self.seconds_after_day
        return 0 if seconds <= 0 else math.ceil(seconds / 86400)

    @property
    def net(self) -> Decimal:
        return Decimal(0) if self.status in NOT_NET else self.amount

    def line(self) -> str:
        def iso(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        return event_line(
            self.event_id,
            self.order_id,
            "c-1",
            self.status,
            f'"{self.amount}"',
            iso(self.placed_at),
            iso(self.event_time),
        )


def first_wave() -> list[Event]:
    """6 orders a day, two snapshots each, delays from minutes to days; a few set apart:
    a snapshot 16 days late (beyond the re-merge window), a cancellation 9 days late, and a
    legacy row without an arrival stamp."""
    rng = random.Random(10)
    events: list[Event] = []
    for day in DAYS:
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        for n in range(6):
            order = f"o-{day:%m%d}-{n}"
            placed = midnight + timedelta(hours=rng.randint(0, 22), minutes=rng.randint(0, 59))
            amount = Decimal(rng.randint(500, 20000)) / 100
            for status, after in (("placed", 0), ("paid", 5)):
                event_time = placed + timedelta(minutes=after)
                delay = timedelta(minutes=rng.choice([3, 20, 90, 400, 1500, 2900, 4400, 8000]))
                arrival = min(event_time + delay, NOW - timedelta(hours=2))
                events.append(
                    Event(f"{order}-{status}", order, status, amount, placed, event_time, arrival)
                )
    very_late = events[14]  # DAYS[1]
    events[14] = Event(
        very_late.event_id,
        very_late.order_id,
        very_late.status,
        very_late.amount,
        very_late.placed_at,
        very_late.event_time,
        very_late.event_time + timedelta(days=16, hours=3),
    )
    cancelled = events[40]  # DAYS[3]
    events.append(
        Event(
            f"{cancelled.order_id}-cancelled",
            cancelled.order_id,
            "cancelled",
            cancelled.amount,
            cancelled.placed_at,
            cancelled.event_time + timedelta(hours=1),
            cancelled.event_time + timedelta(days=9, hours=1),
        )
    )
    placed = datetime.combine(DAYS[5], datetime.min.time(), UTC) + timedelta(hours=12)
    events.append(Event(LEGACY_EVENT, "o-legacy", "paid", Decimal("12.34"), placed, placed, None))
    return events


def revision_wave() -> list[Event]:
    """Arriving now: a refund of an order of OLD_DAY, and a new order of YOUNG_DAY."""
    old = next(e for e in first_wave() if e.day == OLD_DAY and e.status == "paid")
    young_placed = datetime.combine(YOUNG_DAY, datetime.min.time(), UTC) + timedelta(hours=9)
    arrival = NOW - timedelta(minutes=30)
    return [
        Event(
            f"{old.order_id}-refunded",
            old.order_id,
            "refunded",
            old.amount,
            old.placed_at,
            old.event_time + timedelta(days=1),
            arrival,
        ),
        Event(
            "o-young-late-paid",
            "o-young-late",
            "paid",
            Decimal("50.00"),
            young_placed,
            young_placed,
            arrival,
        ),
    ]


def land(platform, events: list[Event]) -> None:
    """Land the events in one file, then give each the arrival stamp the test chose.

    Stamping per file is the loader's job, tested elsewhere; here the delays are the input,
    and one load instead of one per arrival time keeps the test quick.
    """
    landed_at = max(e.ingested_at or e.event_time for e in events)
    platform.land(
        [
            LandingFile(
                f"lateness-{landed_at:%Y%m%dT%H%M%S}.jsonl", landed_at, [e.line() for e in events]
            )
        ]
    )
    with platform.connect() as conn:
        conn.executemany(
            "update orders_landing set event_ingested_at = ? where event_id = ?",
            [
                [None if e.ingested_at is None else e.ingested_at.replace(tzinfo=None), e.event_id]
                for e in events
            ],
        )


# --- the independent oracle ---------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Continuous percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def known_net(events: list[Event], age: float) -> dict[date, Decimal]:
    """Each day's net revenue from the snapshots that had arrived `age` days after their day."""
    latest: dict[str, Event] = {}
    for event in events:
        if event.age_days > age:
            continue
        current = latest.get(event.order_id)
        if current is None or (event.event_time, event.event_id) > (
            current.event_time,
            current.event_id,
        ):
            latest[event.order_id] = event
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for event in latest.values():
        totals[event.day] += event.net
    return totals


def expected_days(events: list[Event]) -> dict[date, dict[str, object]]:
    current = known_net(events, math.inf)
    known = {k: known_net(events, k) for k in (*THRESHOLDS, REMERGE_DAYS)}
    days = {}
    for day in sorted({e.day for e in events}):
        mine = [e for e in events if e.day == day]
        delays = [e.delay_seconds for e in mine]
        row: dict[str, object] = {
            "events": len(mine),
            "events_after_day_end": sum(e.seconds_after_day > 0 for e in mine),
            "share_after_day_end": sum(e.seconds_after_day > 0 for e in mine) / len(mine),
            "arrival_delay_p50_seconds": percentile(delays, 0.5),
            "arrival_delay_p90_seconds": percentile(delays, 0.9),
            "arrival_delay_p99_seconds": percentile(delays, 0.99),
            "arrival_delay_max_seconds": max(delays),
            "net_revenue": current[day],
            "events_outside_remerge_window": sum(e.age_days > REMERGE_DAYS for e in mine),
            "net_revenue_outside_remerge_window": current[day] - known[REMERGE_DAYS][day],
        }
        for k in THRESHOLDS:
            row[f"events_over_{k}d"] = sum(e.age_days > k for e in mine)
            row[f"net_revenue_over_{k}d"] = current[day] - known[k][day]
        days[day] = row
    return days


def expected_curve(events: list[Event]) -> dict[int, tuple[float, float]]:
    """age -> (events known share, net revenue known share) over all the fixture's days
    (they are fewer than the 28-day trailing window)."""
    current = known_net(events, math.inf)
    total = sum(abs(v) for v in current.values())
    curve = {}
    for age in sorted({0} | {e.age_days for e in events}):
        known = known_net(events, age)
        unsettled = sum(abs(current[d] - known.get(d, Decimal(0))) for d in current)
        curve[age] = (
            sum(e.age_days <= age for e in events) / len(events),
            float(1 - unsettled / total),
        )
    return curve


def expected_recommendation(curve: dict[int, tuple[float, float]], target: float) -> dict:
    def lookback(which: int) -> int:
        short = max((age for age, shares in curve.items() if shares[which] < target), default=-1)
        return min(age for age in curve if age > short)

    def at(days: int) -> tuple[float, float]:
        return curve[max(age for age in curve if age <= days)]

    return {
        "events_lookback_days": lookback(0),
        "net_revenue_lookback_days": lookback(1),
        "recommended_lookback_days": max(lookback(0), lookback(1)),
        "lookback_events_share": at(3)[0],
        "lookback_net_revenue_share": at(3)[1],
        "remerge_window_events_share": at(REMERGE_DAYS)[0],
        "remerge_window_net_revenue_share": at(REMERGE_DAYS)[1],
    }


# --- helpers reading the platform -----------------------------------------------------------


def dict_rows(platform, sql: str, params: list | None = None) -> list[dict]:
    with platform.connect() as conn:
        cursor = conn.execute(sql, params or [])
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def coverage_check(result):
    [evaluation] = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "remerge_window_covers_lateness"
    ]
    return evaluation


def remerge(platform) -> tuple[ExecuteInProcessResult, ExecuteInProcessResult]:
    """Re-merge every day, then profile their lateness, as automation does after a re-merge."""
    first, last = DAYS[0].isoformat(), DAYS[-1].isoformat()
    merged = platform.remerge(first, last)
    assert merged.success
    profiled = platform.profile_lateness(first, last)
    assert profiled.success, "a WARN check never fails or blocks the run"
    return merged, profiled


def assert_days_match_oracle(platform, events: list[Event]) -> dict[date, dict]:
    """order_lateness_daily equals the oracle's figures for `events`; return its rows by day."""
    actual = {
        row.pop("order_date"): row
        for row in dict_rows(
            platform, "select * exclude (arrived_through, merged_at) from order_lateness_daily"
        )
    }
    expected = expected_days(events)
    assert actual.keys() == expected.keys()
    for day, row in expected.items():
        assert actual[day] == pytest.approx(row), day
    return actual


def finality(platform) -> dict[date, tuple[str, datetime]]:
    return {
        row["order_date"]: (row["finality_status"], row["final_from"])
        for row in dict_rows(
            platform, "select order_date, finality_status, final_from from finance_revenue_daily"
        )
    }


# --- tests ----------------------------------------------------------------------------------


def test_the_dbt_remerge_window_is_the_nightly_schedules():
    project = yaml.safe_load(Path(DBT_PROJECT_DIR, "dbt_project.yml").read_text())
    assert project["vars"]["orders_remerge_window_days"] == REMERGE_DAYS


def test_settings_reach_dbt_as_validated_vars(monkeypatch):
    monkeypatch.setenv("ORDERS_LATENESS_TARGET_SHARE", "0.95")
    monkeypatch.setenv("ORDERS_FINANCE_AS_OF", "2026-03-01T12:00:00+02:00")
    assert dbt_var_settings() == {
        "lateness_target_share": 0.95,
        "finance_as_of": "2026-03-01 10:00:00",
    }
    monkeypatch.setenv("ORDERS_LATENESS_TARGET_SHARE", "99.9")
    with pytest.raises(ValueError, match="ORDERS_LATENESS_TARGET_SHARE"):
        dbt_var_settings()


def test_the_lateness_reports_follow_the_marts_in_runs_of_their_own():
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey("order_lateness_daily"))
    assert node.partitions_def == daily_partitions
    assert AssetKey("revenue_daily") in node.parent_keys
    for report in (
        "order_lateness_daily",
        "order_completeness_curve",
        "order_lookback_recommendation",
    ):
        condition = graph.get(AssetKey(report)).automation_condition
        assert condition.get_label() == AFTER_THE_MARTS.get_label(), report
    assert graph.get(AssetKey("revenue_daily")).automation_condition.get_label() != (
        AFTER_THE_MARTS.get_label()
    )
    daily_job = {
        key.path[-1]
        for key in defs.resolve_job_def("orders_daily_job").asset_layer.executable_asset_keys
    }
    assert "revenue_daily" in daily_job
    assert not daily_job & {
        "order_lateness_daily",
        "order_completeness_curve",
        "order_lookback_recommendation",
    }
    revisions = graph.get(AssetKey("revenue_daily_revisions"))
    assert AssetKey("order_lookback_recommendation") not in revisions.parent_keys


@pytest.mark.slow
def test_lateness_profile_recommended_lookback_and_finality(platform, monkeypatch):
    events = first_wave()
    land(platform, events)
    assert platform.run_job("ingest_orders_job").success

    # 1. default settings: target 99.9 %, quiet period 48 h
    _, first = remerge(platform)
    actual = assert_days_match_oracle(platform, events)
    assert actual[DAYS[1]]["events_outside_remerge_window"] == 1
    # the legacy row (no arrival stamp) is in DAYS[5]'s figures as on time (delay 0)
    assert platform.rows(
        "select event_ingested_at from orders_landing where event_id = ?", [LEGACY_EVENT]
    ) == [(None,)]

    curve = expected_curve(events)
    rows = dict_rows(
        platform,
        "select arrival_age_days, events_known_share, net_revenue_known_share "
        "from order_completeness_curve order by 1",
    )
    assert [r["arrival_age_days"] for r in rows] == list(curve)
    for r in rows:
        shares = (r["events_known_share"], r["net_revenue_known_share"])
        assert shares == pytest.approx(curve[r["arrival_age_days"]]), r["arrival_age_days"]
    recommended = expected_recommendation(curve, 0.999)
    [recommendation] = dict_rows(platform, "select * from order_lookback_recommendation")
    assert {k: recommendation[k] for k in recommended} == pytest.approx(recommended)
    days_needed = recommended["recommended_lookback_days"]
    assert days_needed > REMERGE_DAYS, "the fixture's 16-day-late snapshot needs more"

    check = coverage_check(first)
    assert not check.passed
    assert check.severity == AssetCheckSeverity.WARN
    assert check.metadata["shortfall_days"].value == days_needed - REMERGE_DAYS
    assert f"({days_needed - REMERGE_DAYS} day(s) short)" in check.description

    [materialization] = [
        e.event_specific_data.materialization
        for e in first.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key == AssetKey("order_lateness_daily")
        and e.event_specific_data.materialization.partition == DAYS[0].isoformat()
    ]
    assert materialization.metadata["recommended_lookback_days"].value == days_needed
    assert materialization.metadata["remerge_window_events_share"].value == pytest.approx(
        recommended["remerge_window_events_share"]
    )
    curve_table = materialization.metadata["completeness_curve"]
    notes = {r.data["arrival_age_days"]: r.data["note"] for r in curve_table.records}
    assert "recommended" in notes[days_needed]

    # every day is provisional: none has stood unrevised for the quiet period yet
    [(merged_at,)] = platform.rows("select max(merged_at) from revenue_daily")

    def settles(day: date, lookback: int) -> datetime:
        return datetime.combine(day + timedelta(days=lookback + 1), datetime.min.time())

    # the days' first totals were merged before any lateness report existed, so they settle
    # by the re-merge window, the lookback known when they were made
    status = finality(platform)
    assert {s for s, _ in status.values()} == {"provisional"}
    for day, (_, final_from) in status.items():
        assert final_from == max(settles(day, REMERGE_DAYS), merged_at + timedelta(hours=48))

    # 2. a lower target the window covers; finance looks just past the quiet period
    monkeypatch.setenv("ORDERS_LATENESS_TARGET_SHARE", "0.9")
    as_of = merged_at + timedelta(hours=48, minutes=1)
    monkeypatch.setenv("ORDERS_FINANCE_AS_OF", as_of.isoformat())
    _, second = remerge(platform)
    assert coverage_check(second).passed
    low_target = expected_recommendation(curve, 0.9)["recommended_lookback_days"]
    assert low_target <= REMERGE_DAYS
    status = finality(platform)
    for day in DAYS:
        settled = settles(day, REMERGE_DAYS) <= as_of
        assert status[day][0] == ("final" if settled else "provisional"), day
    assert status[OLD_DAY][0] == "final" and status[YOUNG_DAY][0] == "provisional"

    # 3. no quiet period: late data for a final day and for an unsettled one
    monkeypatch.delenv("ORDERS_FINANCE_AS_OF")
    monkeypatch.setenv("ORDERS_FINALITY_QUIET_HOURS", "0")
    with Receiver() as receiver:
        monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        land(platform, revision_wave())
        third, _ = remerge(platform)
        # the notice goes out once the order history has linked the revisions
        assert platform.record_history(DAYS[0].isoformat(), DAYS[-1].isoformat()).success
    flagged = dict(
        platform.rows(
            "select order_date, revised_final_day from revenue_daily_revisions "
            "where revised_by_run = ?",
            [third.run_id],
        )
    )
    assert flagged == {OLD_DAY: True, YOUNG_DAY: False}
    # versions made after a lateness run settle by the lookback it recommended
    settling = platform.rows(
        "select order_date, settles_at from revenue_daily_revisions where revised_by_run = ?",
        [third.run_id],
    )
    assert dict(settling) == {day: settles(day, low_target) for day in (OLD_DAY, YOUNG_DAY)}
    [message] = receiver.messages
    first_line, *lines = message.splitlines()
    assert "FINAL revenue revised" in first_line and OLD_DAY.isoformat() in first_line
    assert YOUNG_DAY.isoformat() not in first_line
    [old_line] = [line for line in lines if line.startswith(f"• {OLD_DAY}")]
    [young_line] = [line for line in lines if line.startswith(f"• {YOUNG_DAY}")]
    assert old_line.endswith("[FINAL DAY REVISED]")
    assert "FINAL" not in young_line
    # the refund took the day's revenue down by the refunded amount
    refund = revision_wave()[0]
    assert f"(-{refund.amount})" in old_line


@pytest.mark.slow
def test_a_history_import_reads_as_on_time_data_not_as_lateness(platform):
    """Every first-wave event imported today in one file of the history folder: the lateness
    reports equal those of the same events had each arrived at its business time."""
    history = [replace(e, ingested_at=None) for e in first_wave()]
    imported = LandingFile(f"{HISTORY_FOLDER}/import.jsonl", NOW, [e.line() for e in history])
    platform.land([imported])
    assert platform.rows("select count(*), count(event_ingested_at) from orders_landing") == [
        (len(history), 0)
    ]
    assert platform.run_job("ingest_orders_job").success
    _, profiled = remerge(platform)

    assert_days_match_oracle(platform, history)
    recommended = expected_recommendation(expected_curve(history), 0.999)
    assert recommended["recommended_lookback_days"] <= REMERGE_DAYS
    [recommendation] = dict_rows(platform, "select * from order_lookback_recommendation")
    assert {k: recommendation[k] for k in recommended} == pytest.approx(recommended)
    assert coverage_check(profiled).passed
