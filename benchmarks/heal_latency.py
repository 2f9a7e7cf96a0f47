"""`make bench-heal` / `python -m benchmarks.heal_latency`: late event to corrected
revenue under a real `dagster dev`, with the repo's dagster.yaml.

Builds a small merged platform of its own (generated traffic ending yesterday), starts
`dagster dev` on it, and for each scenario drops ONE complete landing file of refunds for
old days, then waits until those days' revenue_daily partitions are re-merged, their checks
have passed and the heal run has finished. A file is dropped on a quiet platform just
after a landing sensor tick (the worst case of the first wait, the same in every run), or,
for `during-reports`, while the reports that follow the previous heal hold the writer
pool. Where the time went is read back from the Dagster instance
(`benchmarks.heal_timeline`), and each healed day's revenue must end exactly
its refunds lower.

Options come from flags or the environment (flags win): BENCH_HEAL_DAYS (30),
BENCH_HEAL_EVENTS_PER_DAY (3000), BENCH_HEAL_SCENARIOS (all, in order), BENCH_HEAL_REPEATS
(3), BENCH_HEAL_TIMEOUT (600 s per wait), BENCH_HEAL_DIR (data/bench/heal). The platform
lives under BENCH_HEAL_DIR/run, deleted at the end (results.md and results.json stay)
unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.definitions.sensor_definition import DEFAULT_SENSOR_DAEMON_INTERVAL
from dagster._core.scheduler.instigation import InstigatorTick
from dagster._daemon.sensor import MIN_INTERVAL_LOOP_TIME

from benchmarks.child import Bench
from benchmarks.dagster_dev import (
    dagster_dev,
    platform_env,
    prepare_dagster_home,
    wait_for,
)
from benchmarks.heal_timeline import (
    AUTOMATION_SENSOR,
    LANDING_SENSOR,
    Heal,
    HealFailed,
    RunSpan,
    SensorTicks,
    busy,
    checks_passed,
    last_observed,
    latest_materialization,
    run_span,
    runs_between,
)
from benchmarks.late_files import LateFile, net_revenue, refund_file
from benchmarks.report import header, machine, med
from orders_platform import settings
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform.sensors.landing import landing_file_sensor
from orders_platform.sensors.late_data import late_data_remerge_sensor
from orders_platform.transform.groups import FOLLOWER_GROUPS

# issue 16: a late file for one day three weeks old, from its drop until the checks passed
TARGET_SECONDS = 60
CHECKED = "drop -> checks passed"


@dataclass(frozen=True)
class Scenario:
    """One late file: the ages (days before today) of the days it refunds orders on."""

    name: str
    ages: tuple[int, ...]
    description: str
    # dropped once a report run that follows the previous scenario's heal holds the writer
    # pool, instead of on a quiet platform
    during_reports: bool = False

    def days(self, today: date) -> list[date]:
        return sorted(today - timedelta(days=age) for age in self.ages)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("one-day", (21,), "refunds on one day three weeks old"),
        Scenario(
            "four-days",
            (24, 14, 13, 9),
            "refunds on four days 24, 14, 13 and 9 days old (healed as one span)",
        ),
        Scenario(
            "during-reports",
            (27,),
            "refunds on one day 27 days old, dropped while a report run that follows the "
            "previous heal holds the writer pool",
            during_reports=True,
        ),
    )
}


def _options(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.heal_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--days", type=int, default=int(env("BENCH_HEAL_DAYS", 30)), help="days of history"
    )
    parser.add_argument(
        "--events-per-day",
        type=int,
        default=int(env("BENCH_HEAL_EVENTS_PER_DAY", 3000)),
        help="generated lines per day",
    )
    parser.add_argument(
        "--scenarios",
        default=env("BENCH_HEAL_SCENARIOS", ",".join(SCENARIOS)),
        help="comma-separated, run in this order: "
        + "; ".join(f"{s.name}: {s.description}" for s in SCENARIOS.values()),
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=int(env("BENCH_HEAL_REPEATS", 3)),
        help="times the scenarios run, one after the other (figures are medians)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(env("BENCH_HEAL_TIMEOUT", 600)),
        help="seconds any one wait may take before the command fails",
    )
    parser.add_argument("--dir", type=Path, default=Path(env("BENCH_HEAL_DIR", "data/bench/heal")))
    parser.add_argument("--keep", action="store_true", help="keep the platform and its logs")
    options = parser.parse_args(argv)
    names = [name.strip() for name in options.scenarios.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    options.scenarios = [SCENARIOS[name] for name in names]
    if options.scenarios[0].during_reports:
        parser.error(f"{names[0]} follows another scenario's heal; it cannot come first")
    oldest = max(age for s in options.scenarios for age in s.ages)
    if options.days < oldest:
        parser.error(f"--days {options.days}: the scenarios need {oldest} days of history")
    return options


def _quiet(instance: DagsterInstance, sensors: SensorTicks) -> bool:
    """Nothing queued or running, and automation has looked since the last run ended and
    asked for nothing (so the runs that follow a heal are done too)."""
    if busy(instance):
        return False
    records = instance.get_run_records(limit=1, order_by="update_timestamp", ascending=False)
    last_end = (records[0].end_time or 0.0) if records else 0.0
    tick = sensors.finished_tick(AUTOMATION_SENSOR, after=last_end)
    return tick is not None and not tick.run_ids


def _heal_failures(instance: DagsterInstance, since: float) -> None:
    """Fail at once if a run created since the drop failed, rather than time out."""
    for span in runs_between(instance, since, time.time()):
        if span.created >= since and span.status == DagsterRunStatus.FAILURE.value:
            raise HealFailed(f"run {span.run_id} ({span.job} {span.partitions}) failed")


def _healed(
    instance: DagsterInstance, days: list[date], dropped: float
) -> dict[date, tuple[str, float]] | None:
    """(run id, time) of each day's re-merge since the drop; None until every day has one."""
    _heal_failures(instance, dropped)
    found = {}
    for day in days:
        latest = latest_materialization(instance, day, dropped)
        if latest is None:
            return None
        found[day] = latest
    return found


def _finished(instance: DagsterInstance, run_id: str) -> RunSpan | None:
    span = run_span(instance, run_id)
    return span if span.ended is not None else None


def _measure(
    instance: DagsterInstance, sensors: SensorTicks, late: LateFile, timeout: float
) -> Heal:
    """Drop the file, wait for its heal, and read back where the time went."""
    dropped = late.drop(settings.landing_dir())
    days = late.days
    healed = wait_for(
        f"revenue_daily {', '.join(map(str, days))} re-merged after the drop",
        lambda: _healed(instance, days, dropped),
        timeout,
        interval=1.0,
    )
    heal_run, materialized = max(healed.values(), key=lambda found: found[1])
    if len({run_id for run_id, _ in healed.values()}) > 1:
        raise HealFailed(f"the days were healed by several runs: {healed}")
    heal = wait_for(
        f"heal run {heal_run} to finish",
        lambda: _finished(instance, heal_run),
        timeout,
        interval=1.0,
    )
    if heal.status != DagsterRunStatus.SUCCESS.value:
        raise HealFailed(f"heal run {heal_run} ended {heal.status}")
    checked = checks_passed(instance, heal_run, days)
    ingestions = [
        span
        for span in runs_between(instance, dropped, heal.created)
        if span.job == "ingest_orders_job" and span.created >= dropped
    ]
    if not ingestions:
        raise HealFailed("no ingestion run was created after the drop")
    ingestion = ingestions[0]
    observed = last_observed(instance, days, dropped)
    if observed is None:
        raise HealFailed(f"ingestion run {ingestion.run_id} reported no new version of {days}")
    backfill = instance.get_backfill(heal.backfill_id) if heal.backfill_id else None
    return Heal(
        dropped=dropped,
        landing_tick=sensors.launcher(LANDING_SENSOR, dropped - 60, ingestion.run_id),
        ingestion=ingestion,
        observed=observed,
        automation_tick=sensors.launcher(
            AUTOMATION_SENSOR, dropped - 60, heal.backfill_id or heal.run_id
        ),
        backfill_created=backfill.backfill_timestamp if backfill else None,
        heal=heal,
        materialized=materialized,
        checked=checked,
    )


def _report_run_holds_the_pool(instance: DagsterInstance, since: float) -> bool:
    """Is a run of the reports that follow the marts (and of nothing else) running?"""
    return any(
        span.groups
        and set(span.groups.split("+")) <= FOLLOWER_GROUPS
        and span.started is not None
        and span.ended is None
        for span in runs_between(instance, since, time.time())
    )


def _report_runs_ended(instance: DagsterInstance, since: float) -> bool:
    """Have the runs of the reports that follow the marts, started since `since`, all
    ended (so no drop can meet one holding the writer pool any more)?"""
    spans = [
        span
        for span in runs_between(instance, since, time.time())
        if span.groups and set(span.groups.split("+")) <= FOLLOWER_GROUPS
    ]
    return bool(spans) and all(span.ended is not None for span in spans)


def _tick(tick: InstigatorTick | None, origin: float) -> dict[str, float] | None:
    """When the tick that launched a run started (after `origin`), and how long it took."""
    if tick is None or tick.end_timestamp is None:
        return None
    return {
        "at": round(tick.timestamp - origin, 2),
        "seconds": round(tick.end_timestamp - tick.timestamp, 2),
    }


def _record(
    scenario: Scenario, late: LateFile, heal: Heal, instance: DagsterInstance, sensors: SensorTicks
) -> dict[str, Any]:
    """One scenario's measurements, times relative to the drop."""
    end = heal.ended
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "file": late.name,
        "days": [day.isoformat() for day in late.days],
        "refunded": {day.isoformat(): str(amount) for day, amount in late.refunded.items()},
        "revenue_before": {d.isoformat(): str(v) for d, v in late.revenue_before.items()},
        "phases": [
            {"phase": p.label, "seconds": round(p.seconds, 2), "at": round(p.end - heal.dropped, 2)}
            for p in heal.phases()
        ],
        "totals": [{"phase": p.label, "seconds": round(p.seconds, 2)} for p in heal.totals()],
        "ingestion_run": heal.ingestion.run_id,
        "heal_run": heal.heal.run_id,
        "heal_launched_by": heal.heal.launched_by,
        "heal_partitions": heal.heal.partitions,
        "ticks": {
            name: _tick(tick, heal.dropped)
            for name, tick in (
                (LANDING_SENSOR, heal.landing_tick),
                (AUTOMATION_SENSOR, heal.automation_tick),
            )
        },
        "writer_pool": [
            span.relative(heal.dropped) for span in runs_between(instance, heal.dropped, end)
        ],
        "sensor_ticks": {
            name: sensors.cost(name, heal.dropped, end)
            for name in (LANDING_SENSOR, AUTOMATION_SENSOR)
        },
    }


def _verify(records: list[dict[str, Any]], files: list[LateFile]) -> None:
    """Each healed day's revenue is its refunds lower, and each file was loaded by the
    ingestion run the timeline names (read once the platform is quiet)."""
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        for record, late in zip(records, files, strict=True):
            after = net_revenue(conn, late.days)
            record["revenue_after"] = {d.isoformat(): str(v) for d, v in after.items()}
            if after != late.expected_revenue():
                raise HealFailed(
                    f"{record['scenario']}: revenue {after}, expected {late.expected_revenue()}"
                )
            loads = conn.execute(
                "select load_id from orders_landing_files where source_file = ?", [late.name]
            ).fetchall()
            if loads != [(record["ingestion_run"],)]:
                raise HealFailed(
                    f"{late.name} was loaded by {loads}, not once by the timeline's run"
                )


def _when_to_drop(
    instance: DagsterInstance,
    sensors: SensorTicks,
    scenario: Scenario,
    previous_heal_end: float,
    timeout: float,
) -> None:
    """Wait for the moment the scenario drops its file.

    On a quiet platform, the drop follows a landing sensor tick at once, so the file waits
    the sensor's whole interval: the worst case of that wait, and the same in every run
    (a drop at a random moment would make the figure depend on luck)."""
    if scenario.during_reports:
        if _report_runs_ended(instance, previous_heal_end):
            raise HealFailed(
                f"{scenario.name}: the reports after the previous heal ended before the drop"
            )
        wait_for(
            "a report run after the previous heal",
            lambda: _report_run_holds_the_pool(instance, previous_heal_end),
            timeout,
        )
        return
    wait_for("a quiet platform", lambda: _quiet(instance, sensors), timeout)
    now = time.time()
    wait_for(
        "a landing sensor tick",
        lambda: sensors.finished_tick(LANDING_SENSOR, after=now),
        timeout,
        interval=0.2,
    )


def _run_scenarios(
    instance: DagsterInstance, scenarios: list[Scenario], timeout: float
) -> list[dict[str, Any]]:
    """Each scenario once, in order; files are prepared while the platform is quiet."""
    sensors = SensorTicks(instance)
    quiet: Callable[[], bool] = lambda: _quiet(instance, sensors)  # noqa: E731
    wait_for("a quiet platform", quiet, timeout)
    today = datetime.now(UTC).date()
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        files = [refund_file(conn, s.name, s.days(today)) for s in scenarios]
    records: list[dict[str, Any]] = []
    previous_heal_end = 0.0
    for scenario, late in zip(scenarios, files, strict=True):
        _when_to_drop(instance, sensors, scenario, previous_heal_end, timeout)
        print(f"  {scenario.name}: dropping {late.name} ({', '.join(map(str, late.days))})")
        heal = _measure(instance, sensors, late, timeout)
        previous_heal_end = heal.ended
        records.append(_record(scenario, late, heal, instance, sensors))
        print(render_scenario([records[-1]]))
    wait_for("a quiet platform", quiet, timeout)
    _verify(records, files)
    return records


def _what_was_seen(instance: DagsterInstance, since: float) -> str:
    lines = ["runs since the scenarios began:"]
    for span in runs_between(instance, since, time.time()):
        lines.append("  " + json.dumps(span.relative(since)))
    sensors = SensorTicks(instance)
    for name in (LANDING_SENSOR, AUTOMATION_SENSOR):
        ticks = sensors.ticks(name, since)
        lines.append(
            f"{name}: {len(ticks)} ticks; last: "
            + (f"{ticks[-1].status.value} {list(ticks[-1].run_ids)}" if ticks else "none")
        )
    return "\n".join(lines)


def _medians(records: list[dict[str, Any]], key: str) -> list[tuple[str, float, float, str]]:
    """For each step of `key` ("phases" or "totals") of one scenario's repetitions: its label,
    median seconds, median end (seconds after the drop), and each repetition's seconds."""
    steps = []
    for label in [step["phase"] for step in records[0][key]]:
        found = [step for record in records for step in record[key] if step["phase"] == label]
        seconds = med([step["seconds"] for step in found])
        at = med([step.get("at", step["seconds"]) for step in found])
        steps.append((label, seconds, at, " ".join(f"{step['seconds']:.1f}" for step in found)))
    return steps


def render_scenario(records: list[dict[str, Any]]) -> str:
    """One scenario's steps (medians over its repetitions, and each), then its runs."""
    first = records[0]
    steps = _medians(records, "phases") + _medians(records, "totals")
    width = max(len(label) for label, *_ in steps)
    lines = [
        f"\n{first['scenario']}: {first['description']} ({', '.join(first['days'])})",
        f"{'phase'.ljust(width)}  {'seconds':>8}  {'at':>6}  each",
        *(f"{label.ljust(width)}  {sec:8.1f}  {at:6.1f}  {each}" for label, sec, at, each in steps),
        "runs alive between the drop and the heal's end (s after the drop):",
    ]
    for span in first["writer_pool"]:
        lines.append(
            f"  {span['job']:<18} {span['groups']:<16} {span['partitions']:<22} "
            f"{span['launched_by'][:34]:<34} "
            f"queued {span['created']}, launched {span['launched']}, started {span['started']}, "
            f"ended {span['ended']}"
        )
    for name, tick in first["ticks"].items():
        if tick is not None:
            lines.append(
                f"{name} tick that launched its run: at {tick['at']} s, took {tick['seconds']} s"
            )
    ticks = first["sensor_ticks"]
    lines.append(
        "sensor ticks meanwhile: "
        + "; ".join(f"{n} {t['ticks']} (median {t['median_seconds']} s)" for n, t in ticks.items())
    )
    return "\n".join(lines)


def render_markdown(context: dict[str, Any], by_scenario: dict[str, list[dict]]) -> str:
    out = [
        *header("Late event to corrected revenue under dagster dev", context),
        f"Settings in effect: {context['settings']}  ",
        f"Sensor ticks over the whole run (count, median evaluation): {context['sensor_ticks']}  ",
    ]
    if "target" in context:
        target = context["target"]
        out.append(
            f"Target: {target['what']}: {target['seconds']:.1f} s, meets: {target['meets']}  "
        )
    out.append(
        f"{context['repeats']} repetition(s); seconds are medians. Other processes share "
        "this machine: see the load average."
    )
    for records in by_scenario.values():
        first = records[0]
        out += [
            "",
            f"## {first['scenario']}: {first['description']}",
            "",
            "| phase | seconds | at (s after the drop) |",
            "|---|---:|---:|",
            *(
                f"| {label} | {sec:.1f} | {at:.1f} |"
                for label, sec, at, _ in _medians(records, "phases")
            ),
            *(
                f"| {label} | **{sec:.1f}** |  |"
                for label, sec, _, _ in _medians(records, "totals")
            ),
            "",
            "Runs alive between the drop and the heal's end (first repetition):",
            "",
            "| job | asset groups | partitions | launched by | queued | launched | started "
            "| ended |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ]
        for span in first["writer_pool"]:
            out.append(
                f"| {span['job']} | {span['groups']} | {span['partitions']} | "
                f"{span['launched_by']} | {span['created']} | {span['launched']} | "
                f"{span['started']} | {span['ended']} |"
            )
    return "\n".join(out) + "\n"


def _every_pass(minimum_interval: int | None) -> int:
    """How often a sensor with `minimum_interval` ticks: on the first pass of the daemon's
    sensor loop (every `MIN_INTERVAL_LOOP_TIME` seconds) after its interval has passed."""
    interval = minimum_interval or DEFAULT_SENSOR_DAEMON_INTERVAL
    return -(-interval // MIN_INTERVAL_LOOP_TIME) * MIN_INTERVAL_LOOP_TIME


def _settings(instance: DagsterInstance) -> dict[str, int]:
    """The intervals in effect: the fixed waits a heal can meet at each step."""
    return {
        "landing_sensor_ticks_every_s": _every_pass(landing_file_sensor.minimum_interval_seconds),
        "automation_sensor_ticks_every_s": _every_pass(
            late_data_remerge_sensor.minimum_interval_seconds
        ),
        "dequeue_interval_s": instance.run_coordinator.dequeue_interval_seconds,  # type: ignore[attr-defined]
    }


def _under_dagster_dev(
    home: Path, log: Path, options: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start `dagster dev`, wait for its sensors, run the scenarios; always stop it.

    Returns the records and what the run met: the settings and the sensors' tick costs."""
    records: list[dict[str, Any]] = []
    with DagsterInstance.from_config(str(home)) as instance:
        began = time.time()
        sensors = SensorTicks(instance)
        try:
            with dagster_dev(log) as port:
                print(f"dagster dev on 127.0.0.1:{port}; waiting for its sensors")
                for name in (LANDING_SENSOR, AUTOMATION_SENSOR):
                    wait_for(f"{name} to tick", lambda n=name: sensors.finished_tick(n, began), 300)
                for repeat in range(options.repeats):
                    print(f"repetition {repeat + 1} of {options.repeats}")
                    records += _run_scenarios(instance, options.scenarios, options.timeout)
        except (TimeoutError, HealFailed) as error:
            raise SystemExit(
                f"FAILED: {error}\n{_what_was_seen(instance, began)}\n"
                f"dagster dev's log: {log} (kept)"
            ) from error
        met = {
            "settings": _settings(instance),
            "sensor_ticks": {
                name: sensors.cost(name, began, time.time())
                for name in (LANDING_SENSOR, AUTOMATION_SENSOR)
            },
        }
    return records, met


def main(argv: list[str] | None = None) -> int:
    # a polite stop (SIGTERM) stops `dagster dev` too, as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    options = _options(argv)
    out_dir = settings.resolve_path(options.dir)
    root = out_dir / "run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # this process reads the same warehouse and Dagster home as the runs and `dagster dev`
    os.environ.update(platform_env(root))
    # dbt's artifacts and partial-parse state of this benchmark, apart from the project's
    os.environ["DBT_TARGET_PATH"] = str(root / "dbt_target")
    home = Path(os.environ["DAGSTER_HOME"])
    prepare_dagster_home(home, os.environ)
    load_start = machine()["load_average"]
    command = "python -m benchmarks.heal_latency " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    print(f"machine: {machine()}")

    started = time.perf_counter()
    built = Bench(root=root, repeats=1, env=dict(os.environ)).build(
        end_date=datetime.now(UTC).date() - timedelta(days=1),
        days=options.days,
        events_per_day=options.events_per_day,
    )
    print(
        f"platform: {built.generated.lines:,} lines over {options.days} days, merged, "
        f"in {time.perf_counter() - started:.0f} s"
    )
    records, met = _under_dagster_dev(home, root / "dagster-dev.log", options)

    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_scenario.setdefault(record["scenario"], []).append(record)
    context: dict[str, Any] = {
        "command": command,
        "machine": machine(),
        "load_start": load_start,
        "repeats": options.repeats,
        "data": (
            f"{options.days} days generated ending yesterday, {built.generated.lines:,} lines "
            f"({options.events_per_day:,}/day), merged, with their reports"
        ),
        **met,
    }
    if "one-day" in by_scenario:
        checked = med(
            [
                t["seconds"]
                for r in by_scenario["one-day"]
                for t in r["totals"]
                if t["phase"] == CHECKED
            ]
        )
        context["target"] = {
            "what": f"one-day: {CHECKED} <= {TARGET_SECONDS} s",
            "seconds": checked,
            "meets": checked <= TARGET_SECONDS,
        }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(render_markdown(context, by_scenario))
    (out_dir / "results.json").write_text(
        json.dumps({**context, "scenarios": records}, indent=2, default=str)
    )
    print("\n".join(render_scenario(r) for r in by_scenario.values()))
    if "target" in context:
        target = context["target"]
        print(f"\ntarget {target['what']}: {target['seconds']:.1f} s, meets: {target['meets']}")
    print(f"sensor ticks: {met['sensor_ticks']}")
    print(f"machine at the end: {machine()}")
    print(f"written: {out_dir / 'results.md'}, {out_dir / 'results.json'}")
    if not options.keep:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
