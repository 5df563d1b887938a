"""The benchmark harness end to end, at a tiny size: it runs, and nothing is lost or reordered.

Speed is never asserted here; the figures are only checked for loss and order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _figures(table: str) -> dict[tuple[str, str], float]:
    figures = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("S") and cells[3] not in ("", "median"):
            figures[(cells[0], cells[2])] = float(cells[3].replace(",", ""))
    return figures


def test_harness_reports_every_delivery_in_order() -> None:
    command = [
        sys.executable,
        "-m",
        "bench",
        "--scenarios=S1,S2",
        "--backends=sqlite",
        "--scale=0.01",
        "--duration=1.5",
        "--runs=1",
        "--workers=1",
        "--results=-",
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = _figures(done.stdout)
    for scenario, name in [
        ("S1", "lost"),
        ("S1", "out_of_order"),
        ("S1", "errors"),
        ("S1", "half_lost"),
        ("S2", "lost"),
        ("S2", "out_of_order"),
        ("S2", "errors"),
    ]:
        assert figures[(scenario, name)] == 0, (scenario, name, done.stdout)
    assert figures[("S1", "msgs_per_s")] > 0
    assert figures[("S2", "deliveries_per_s")] > 0
