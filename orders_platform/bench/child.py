"""A benchmark's working directory and the child processes it measures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orders_platform import settings


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

    def step(self, label: str, name: str, **arguments: Any) -> dict[str, Any]:
        """Run step `name` in a child process; record its wall time and peak RSS.

        The RSS is the kernel's for the child and every process it waited for (the dbt
        subprocess included), read with wait4 when the child exits.
        """
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        output = logs / f"{label}.json"
        command = [sys.executable, "-m", "orders_platform.bench.steps", name, str(output)]
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
        self.peak_rss[label] = usage.ru_maxrss * 1024
        self.samples.setdefault(label.rstrip("0123456789-"), []).append(measured)
        return measured

    def copy_warehouse(self, name: str) -> Path:
        copy = self.root / name
        shutil.copyfile(self.warehouse, copy)
        return copy
