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
    """One reported figure, beside the hand-written floor when there is one.

    `limit` is the issue's target for it (`at_least`: a minimum, otherwise a maximum);
    `meets` whether the figure holds it and `margin` by how much, as a share of the limit.
    """

    key: str
    label: str
    value: float
    unit: str
    floor: float | None = None
    limit: float | None = None
    at_least: bool = False

    @property
    def meets(self) -> bool | None:
        if self.limit is None:
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    @property
    def target(self) -> str:
        if self.limit is None:
            return ""
        return f"{'>=' if self.at_least else '<='} {_number(self.limit, self.unit)}"

    @property
    def margin(self) -> str:
        """ "MET, 12% under" / "MISSED, 35% over": the figure against its target."""
        if self.limit is None:
            return ""
        off = (self.value - self.limit) / self.limit
        side = "over" if off > 0 else "under"
        return f"{'MET' if self.meets else 'MISSED'}, {abs(off):.0%} {side}"

    def shown(self) -> str:
        return _number(self.value, self.unit)

    def shown_floor(self) -> str:
        return "" if self.floor is None else _number(self.floor, self.unit)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "target": self.target,
            "meets": self.meets,
            "margin": self.margin,
        }


def _number(value: float, unit: str) -> str:
    if unit == "events/s":
        return f"{value:,.0f} {unit}"
    if unit == "GB":
        return f"{value:.2f} {unit}"
    if unit == "x":
        return f"{value:.2f} x"
    return f"{value:.3g} {unit}".strip() if value < 10 else f"{value:.1f} {unit}".strip()


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
    lines = [f"{'measure'.ljust(width)}  {'median':>16}  {'floor':>10}  {'target':<16}  verdict"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(
            f"{r.label.ljust(width)}  {r.shown():>16}  {r.shown_floor():>10}  "
            f"{r.target:<16}  {r.margin}".rstrip()
        )
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
        "| measure | median | floor | target | verdict |",
        "|---|---:|---:|---|---|",
    ]
    for r in rows:
        out.append(f"| {r.label} | {r.shown()} | {r.shown_floor()} | {r.target} | {r.margin} |")
    return "\n".join(out) + "\n"


def write(
    directory: Path,
    rows: list[Row],
    context: dict[str, Any],
    samples: dict,
    extra_markdown: str = "",
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.md").write_text(render_markdown(rows, context) + extra_markdown)
    document = {**context, "rows": [r.as_dict() for r in rows], "samples": samples}
    (directory / "results.json").write_text(json.dumps(document, indent=2, default=str))
