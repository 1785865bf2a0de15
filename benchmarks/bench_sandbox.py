"""What the analysis sandbox adds to a run: the barometer's on-premise code run in the sandbox
(flows.analysis.child.run_code, as `rex analyse run` runs it) and, as its floor in the same
session, the same code run as a plain child process on the same workspace; alternated, medians
printed.

    .venv/bin/python benchmarks/bench_sandbox.py --repeat 5 \
        --workspace data/onprem/dulbea-barometer/18-088_onprem_2020-06-30

Run it as root (as analysis runs are deployed): the sandbox then drops to its own account.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flows.analysis import child  # noqa: E402 (the repository's own modules, from a script)

CODE = REPO / "notebooks" / "barometer_onprem.py"
LIMITS = child.Limits(
    seconds=1800, memory_bytes=16 << 30, processes=256, output_bytes=512 << 20, output_files=1000
)


def sandboxed(workspace: Path, folder: Path) -> float:
    started = time.perf_counter()
    ended = child.run_code(CODE, workspace, folder, folder / "outputs", LIMITS)
    seconds = time.perf_counter() - started
    if ended.failure is not None:
        raise SystemExit(f"the sandboxed run failed: {ended.failure}")
    return seconds


def plain(workspace: Path, folder: Path) -> float:
    outputs = folder / "outputs"
    outputs.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "REX_RELEASE": str(workspace),
        "REX_ONPREM": str(workspace),
        "REX_OUTPUT": str(outputs),
        "PYTHONPATH": f"{REPO}:{REPO / 'notebooks'}",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(folder / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(CODE)], env=env, cwd=folder, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True, help="an on-premise workspace")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (alternated)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"plain": [], "sandbox": []}
    for _ in range(args.repeat):
        for name, runner in (("plain", plain), ("sandbox", sandboxed)):
            with tempfile.TemporaryDirectory(prefix="rex-bench-") as folder:
                times[name].append(runner(args.workspace.resolve(), Path(folder)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        json.dumps(
            {
                "workspace": str(args.workspace),
                "runs": {name: [round(v, 2) for v in values] for name, values in times.items()},
                "median_seconds": {name: round(v, 2) for name, v in medians.items()},
                "sandbox_adds_seconds": round(medians["sandbox"] - medians["plain"], 2),
                "load": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
