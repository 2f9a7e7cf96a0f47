"""The fixed-cost table: where each kind of measured run's wall time went, phase by phase."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from benchmarks.runs import PHASES

# How the bare-process timings (`runs.bare_costs`) read in the table.
BARE_LABELS = {
    "interpreter": "  of which: interpreter start and exit (python -c pass)",
    "imports": "  of which: import dagster, dagster_dbt",
    "definitions": "  of which: load orders_platform.definitions and the manifest",
}


@dataclass(frozen=True)
class BreakdownColumn:
    """One kind of run (e.g. the one-partition run) and its measured samples."""

    name: str
    samples: list[dict[str, Any]]

    def phase(self, key: str) -> float:
        return float(median(sample["phases"][key] for sample in self.samples))

    def wall(self) -> float:
        return float(median(sample["process_wall"] for sample in self.samples))


def render_breakdown(columns: list[BreakdownColumn], bare: dict[str, float]) -> str:
    """A Markdown table, seconds, medians per phase: the phases, the bare-process costs
    under the first phase, then the phases' sum beside the process's wall time."""
    names = [column.name for column in columns]
    out = [
        "",
        "Where each run's time went (seconds, medians; from each run's event log and dbt's "
        "artifacts; the `of which` rows are bare `python` processes timed apart, the fastest "
        "of three or more):",
        "",
        "| phase | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, label in PHASES.items():
        out.append(f"| {label} | " + " | ".join(f"{c.phase(key):.2f}" for c in columns) + " |")
        if key == "process_to_run_created":
            out += [
                f"| {BARE_LABELS[name]} | " + " | ".join(f"{seconds:.2f}" for _ in columns) + " |"
                for name, seconds in bare.items()
            ]
            rest = [c.phase(key) - sum(bare.values()) for c in columns]
            out.append(
                "|   of which: the rest (the dagster CLI, the code location through it, "
                "the instance) | " + " | ".join(f"{seconds:.2f}" for seconds in rest) + " |"
            )
    sums = [sum(c.phase(key) for key in PHASES) for c in columns]
    out.append("| sum of the phases | " + " | ".join(f"{s:.2f}" for s in sums) + " |")
    out.append(
        "| the run's process, wall time | " + " | ".join(f"{c.wall():.2f}" for c in columns) + " |"
    )
    return "\n".join(out) + "\n"
