"""What the harness reads from Linux about a process: CPU time, memory, core pinning."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """CPU seconds (user + system) and resident memory of one process at one moment."""

    cpu: float
    rss: int


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: fields are counted after its closing paren.
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return Usage(cpu, rss)


def cores() -> int:
    return len(os.sched_getaffinity(0))


def pin(pid: int, core: int) -> bool:
    """Pin every thread of `pid` to one core; False where that is not possible."""
    if shutil.which("taskset") is None or core >= os.cpu_count():  # type: ignore[operator]
        return False
    result = subprocess.run(
        ["taskset", "-a", "-p", "-c", str(core), str(pid)], capture_output=True, check=False
    )
    return result.returncode == 0


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
