"""A benchmark's working directory, and the processes it measures: Dagster runs, each in a
fresh `dagster` process (`benchmarks.runs`), and the other steps (`benchmarks.steps`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.runs import breakdown, dbt_target, launch
from benchmarks.volume import Generated, TrafficShape, write_arrival_files
from orders_platform import settings


@dataclass(frozen=True)
class Built:
    """What `Bench.build` generated, and how its full build measured."""

    generated: Generated
    generate_seconds: float
    full_build: dict[str, Any]


@dataclass
class Bench:
    """Where a benchmark runs, and the child processes it has run."""

    root: Path
    repeats: int
    env: dict[str, str] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)  # step label -> bytes
    samples: dict[str, Any] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def _logs(self) -> Path:
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        return logs

    def _record(self, label: str, measured: dict[str, Any], peak_rss: int) -> dict[str, Any]:
        self.peak_rss[label] = peak_rss
        self.samples.setdefault(label.rstrip("0123456789-"), []).append(measured)
        return measured

    def run(
        self,
        label: str,
        job: str,
        first: str | None = None,
        last: str | None = None,
        *,
        env: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One run of `job` over `first`..`last` in a fresh `dagster` process (in `env`, by
        default the bench's): its wall time, peak RSS and where the time went."""
        env = env or self.env
        launched = launch(job, first, last, env=env, log=self._logs() / f"{label}.log")
        measured = breakdown(Path(env["DAGSTER_HOME"]), launched, dbt_target(env))
        return self._record(label, measured, launched.peak_rss)

    def step(self, label: str, name: str, **arguments: Any) -> dict[str, Any]:
        """Run step `name` in a child process; record its wall time and peak RSS.

        The RSS is the kernel's for the child and every process it waited for (the dbt
        subprocess included), read with wait4 when the child exits.
        """
        logs = self._logs()
        output = logs / f"{label}.json"
        command = [sys.executable, "-m", "benchmarks.steps", name, str(output)]
        started = time.perf_counter()
        with (logs / f"{label}.log").open("w") as log:
            child = subprocess.Popen(
                [*command, json.dumps(arguments)],
                env=self.env,
                cwd=settings.REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"bench step {label} failed; see {logs / f'{label}.log'}")
        measured = json.loads(output.read_text())
        measured["process_wall"] = time.perf_counter() - started
        return self._record(label, measured, usage.ru_maxrss * 1024)

    def build(
        self,
        *,
        end_date: date,
        days: int,
        events_per_day: int,
        shape: TrafficShape | None = None,
    ) -> Built:
        """A merged platform: `days` of generated traffic ending on `end_date`, loaded one
        arrival day at a time stamped with its arrival (so lateness is real), the staging view,
        every day merged as one run (the full build), then the lateness reports and the order
        history, as automation builds them after the marts."""
        started = time.perf_counter()
        generated = write_arrival_files(
            self.root / "outbox",
            end_date=end_date,
            days=days,
            events_per_day=events_per_day,
            shape=shape or TrafficShape(),
        )
        generate_seconds = time.perf_counter() - started
        self.step(
            "load",
            "ingest",
            outbox=str(self.root / "outbox"),
            files=[f.name for f in generated.files],
        )
        self.run("staging", "ingest_orders_job")
        first, last = (end_date - timedelta(days=days - 1)).isoformat(), end_date.isoformat()
        full_build = self.run("full-build", "orders_daily_job", first, last)
        for job in ("orders_lateness_job", "orders_history_job"):
            self.run(f"initial-{job}", job, first, last)
        return Built(generated=generated, generate_seconds=generate_seconds, full_build=full_build)

    def copy_warehouse(self, name: str) -> Path:
        copy = self.root / name
        shutil.copyfile(self.warehouse, copy)
        return copy
