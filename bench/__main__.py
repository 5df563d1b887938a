"""`python -m bench`: run the scenarios, print the table, keep it in bench/RESULTS.md.

    python -m bench                              # everything, 3 runs, full size
    python -m bench --scenarios S1,S2 --scale 0.1 --runs 1 --label quick

PostgreSQL and Redis come from POSTGRES_URL and REDIS_URL (as for the tests); without
them, the scenarios that need them are reported as not run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import scenarios
from bench.proc import machine
from bench.report import Figures, table, write_section

RESULTS = Path(__file__).with_name("RESULTS.md")
# Which backends each scenario runs on.
PLAN = {
    "S1": ("sqlite", "postgres"),
    "S2": ("sqlite",),
    "S3": ("sqlite", "postgres"),
    "S4": ("sqlite", "postgres"),
    "S5": ("postgres",),
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scenarios", default=",".join(PLAN), help="comma-separated, e.g. S1,S4")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median, spread)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the full user and message counts of S1, S2 and S5",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds of each S1/S5 phase")
    parser.add_argument("--connections", type=int, default=20_000, help="S3's target N")
    parser.add_argument("--history", type=int, default=1_000_000, help="S4's stored messages")
    parser.add_argument("--workers", type=int, default=2, help="load client processes")
    parser.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="server worker processes (above 1: PostgreSQL and Redis, and only the"
        " scenarios on PostgreSQL run)",
    )
    parser.add_argument("--label", default="latest", help="the section of RESULTS.md to write")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="file to write (- to print only)"
    )
    return parser.parse_args(argv)


def _run(name: str, config: scenarios.Config, args: argparse.Namespace) -> Figures:
    if name == "S1":
        return scenarios.s1(config)
    if name == "S2":
        return scenarios.s2(config)
    if name == "S3":
        return scenarios.s3(config, args.connections)
    if name == "S4":
        return scenarios.s4(config, args.history)
    return scenarios.s5(config)


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Each connection is a file descriptor in the server and in a client.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    wanted = [name.strip().upper() for name in args.scenarios.split(",") if name.strip()]
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    results: dict[tuple[str, str], list[Figures]] = {}
    notes: dict[str, str] = {}
    load_before = os.getloadavg()
    started = time.monotonic()
    for name in wanted:
        for backend in PLAN[name]:
            if backend not in backends:
                continue
            config = scenarios.Config(
                backend=backend,
                postgres_url=os.environ.get("POSTGRES_URL"),
                redis_url=os.environ.get("REDIS_URL"),
                workers=args.workers,
                scale=args.scale,
                duration=args.duration,
                server_workers=args.server_workers,
            )
            runs: list[Figures] = []
            for index in range(args.runs):
                print(f"{name} on {backend}: run {index + 1} of {args.runs}", flush=True)
                try:
                    figures = _run(name, config, args)
                except scenarios.Unavailable as reason:
                    notes[f"{name}/{backend}"] = f"not run: {reason}"
                    print(f"  not run: {reason}", flush=True)
                    break
                except Exception as error:  # one failed run must not lose the others
                    reason = str(error).strip().splitlines()[-1][:200] if str(error) else ""
                    notes[f"{name}/{backend}"] = f"failed: {type(error).__name__} {reason}"
                    traceback.print_exc()
                    continue
                print("  " + ", ".join(f"{k}={v:.4g}" for k, v in figures.items()), flush=True)
                runs.append(figures)
            results[(name, backend)] = runs
    text = table(results, notes)
    load_after = os.getloadavg()
    print(text)
    body = (
        f"## {args.label} (commit {_commit()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
        f"Machine: {machine()}. Server ({args.server_workers} worker "
        f"process{'es' if args.server_workers > 1 else ''}) pinned to core 0, load clients"
        f" ({args.workers} "
        f"processes) to core 1. Load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; {time.monotonic() - started:.0f} s in all.\n"
        f"Command: `python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
        + text
    )
    if str(args.results) != "-":
        write_section(args.results, args.label, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
