"""What every benchmark measures of a step: its wall time and its own peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of `command`, run as a child process of its own."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"step failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
