"""The results table: one row per figure, with its target, printed and written as MD + JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any


@dataclass(frozen=True)
class Row:
    """One reported figure. `target` is the issue's goal for it, `meets` whether it holds."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    meets: bool | None = None

    def shown(self) -> str:
        if self.unit == "events/s":
            return f"{self.value:,.0f} {self.unit}"
        if self.unit == "GB":
            return f"{self.value:.2f} {self.unit}"
        return (
            f"{self.value:.3g} {self.unit}".strip()
            if self.value < 10
            else (f"{self.value:.1f} {self.unit}".strip())
        )


def med(values: list[float]) -> float:
    return float(median(values))


def machine() -> dict[str, Any]:
    """Cores, memory and load: the figures mean little without them."""
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def render_text(rows: list[Row]) -> str:
    width = max(len(r.label) for r in rows)
    lines = [f"{'measure'.ljust(width)}  {'median':>16}  {'target':<10}  ok"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        ok = "" if r.meets is None else ("yes" if r.meets else "NO")
        lines.append(f"{r.label.ljust(width)}  {r.shown():>16}  {r.target:<10}  {ok}")
    return "\n".join(lines)


def header(title: str, context: dict[str, Any]) -> list[str]:
    """A report's first lines: what ran, on what machine under what load, on which data."""
    return [
        f"# {title}",
        "",
        f"Command: `{context['command']}`  ",
        f"Machine: {context['machine']['cores']} cores, {context['machine']['memory_gb']} GB; "
        f"load average at start {context['load_start']}, "
        f"at end {context['machine']['load_average']}  ",
        f"Data: {context['data']}  ",
    ]


def render_markdown(rows: list[Row], context: dict[str, Any]) -> str:
    out = [
        *header("orders_platform benchmark results", context),
        f"Medians of {context['repeats']} runs. {context['note']}",
        "",
        "| measure | median | target | meets |",
        "|---|---:|---|---|",
    ]
    for r in rows:
        ok = "" if r.meets is None else ("yes" if r.meets else "**no**")
        out.append(f"| {r.label} | {r.shown()} | {r.target} | {ok} |")
    return "\n".join(out) + "\n"


def write(directory: Path, rows: list[Row], context: dict[str, Any], samples: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.md").write_text(render_markdown(rows, context))
    document = {**context, "rows": [asdict(r) for r in rows], "samples": samples}
    (directory / "results.json").write_text(json.dumps(document, indent=2, default=str))
