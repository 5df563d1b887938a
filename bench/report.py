"""Median-and-spread tables, printed and kept in bench/RESULTS.md by label."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

Figures = dict[str, float]

# The figures each scenario is judged by, with their targets (2 cores: server on one).
TARGETS = {
    ("S1", "msgs_per_s"): ">= 8,000",
    ("S1", "half_p99_ms"): "< 20",
    ("S1", "cpu_us_per_msg"): "<= 125",
    ("S2", "deliveries_per_s"): ">= 35,000",
    ("S2", "cpu_us_per_delivery"): "<= 29",
    ("S2", "lost"): "0",
    ("S2", "out_of_order"): "0",
    ("S3", "kib_per_connection"): "<= 33",
    ("S3", "connections"): ">= 20,000",
    ("S4", "p99_ms"): "< 5",
    ("S5", "msgs_per_s"): ">= 8,000",
}

_TITLE = "# Benchmark results\n"
_PREAMBLE = """
Written by `python -m bench` (see the README's Benchmarks section). Each figure is the
median of the runs, with the spread (lowest to highest). Server CPU figures come from
/proc/PID/stat of the server process and are steadier than rates on a shared machine.
"""


def _format(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}"


def table(results: dict[tuple[str, str], list[Figures]], notes: dict[str, str]) -> str:
    lines = [
        "| scenario | backend | figure | median | spread | runs | target |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for (scenario, backend), runs in results.items():
        note = notes.get(f"{scenario}/{backend}")
        if not runs:
            lines.append(f"| {scenario} | {backend} | {note or 'not run'} | | | 0 | |")
            continue
        if note:
            lines.append(f"| {scenario} | {backend} | some runs {note} | | | | |")
        for name in runs[0]:
            values = [run[name] for run in runs if name in run]
            median = statistics.median(values)
            spread = f"{_format(min(values))} to {_format(max(values))}"
            target = TARGETS.get((scenario, name), "")
            row = f"| {scenario} | {backend} | {name} | {_format(median)} | {spread} |"
            lines.append(f"{row} {len(values)} | {target} |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, label: str, body: str) -> None:
    """Replace the section named `label` in the results file (or add it), keeping others."""
    sections: dict[str, str] = {}
    if path.exists():
        text = path.read_text()
        for chunk in text.split("\n## ")[1:]:
            name = chunk.split("\n", 1)[0].split(" (", 1)[0].strip()
            sections[name] = "## " + chunk.rstrip() + "\n"
    sections[label] = body.rstrip() + "\n"
    path.write_text(_TITLE + _PREAMBLE + "\n" + "\n".join(sections.values()))
