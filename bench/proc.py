"""What the harness reads from Linux about a process and its children: CPU time, memory,
core pinning."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """CPU seconds (user + system) and resident memory of processes at one moment."""

    cpu: float
    rss: int


def usage(pid: int) -> Usage:
    """The CPU and memory of `pid` and every process under it (a server's workers)."""
    total_cpu, total_rss = 0.0, 0
    for member in family(pid):
        try:
            cpu, rss = _own_usage(member)
        except OSError:  # it ended meanwhile
            continue
        total_cpu += cpu
        total_rss += rss
    return Usage(total_cpu, total_rss)


def _own_usage(pid: int) -> tuple[float, int]:
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: fields are counted after its closing paren.
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return cpu, rss


def family(pid: int) -> list[int]:
    """`pid` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        member = stack.pop()
        found.append(member)
        stack.extend(children.get(member, ()))
    return found


def cores() -> int:
    return len(os.sched_getaffinity(0))


def pin(pid: int, core: int) -> bool:
    """Pin every thread of `pid` and of its descendants to one core; False where that is
    not possible."""
    if shutil.which("taskset") is None or core >= os.cpu_count():  # type: ignore[operator]
        return False
    results = [
        subprocess.run(
            ["taskset", "-a", "-p", "-c", str(core), str(member)], capture_output=True, check=False
        )
        for member in family(pid)
    ]
    return all(result.returncode == 0 for result in results)


def pin_self(core: int) -> None:
    if core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})


def machine() -> str:
    """One line naming the machine the figures come from."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores of {model}, {memory:.0f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )
