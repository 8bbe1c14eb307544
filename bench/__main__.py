"""`python -m bench [--quick] [--only NAME ...]`: every benchmark, each in its own fresh process, then one table.

Writes bench/results.json and bench/RESULTS.md. `--quick` (under 10 minutes on 2 cores) uses fewer
samples, rounds and queries at the same lengths, and takes the learning study's rows from its last
saved run (bench/learning.results.json) instead of running it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import REPO, Result, load_rows, read_rows, rows_file, text_table, write_report

BENCHMARKS = ("startup", "studio", "retrieval", "synthesis", "train", "score")
"""Run in this order by `python -m bench`; the learning study (full runs only) comes last."""
LEARNING = "learning"
TIMEOUT_S = {"quick": 1800, "full": 4 * 3600}
"""A safety net per benchmark, for a machine busy with other work (the quick run is sized for 10 minutes on 2 idle cores)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(name: str, quick: bool, out: Path) -> tuple[list[Result], str | None]:
    """The benchmark's rows, or None and why it failed (its output's last lines)."""
    command = [sys.executable, "-m", f"bench.{name}"]
    if name != LEARNING:  # the learning study saves its own rows (bench.report.save_rows)
        command += ["--out", str(out)] + (["--quick"] if quick else [])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        # idle OpenMP threads sleep instead of spinning (engine/backends/hf_solver.py sets the same):
        # spinning threads make torch many times slower on a busy machine, on both sides alike
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }
    start = time.perf_counter()
    cpu_before = _children_cpu()
    print(f"== {name} ({' '.join(command[2:])})", flush=True)
    try:
        proc = subprocess.run(
            command,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S["quick" if quick else "full"],
        )
    except subprocess.TimeoutExpired:
        return [], f"{name}: timed out"
    print(
        f"   {time.perf_counter() - start:.0f} s wall, {_children_cpu() - cpu_before:.0f} s CPU",
        flush=True,
    )
    if name == LEARNING and proc.returncode == 0:
        saved = rows_file(LEARNING)
        if saved.is_file() and saved.stat().st_mtime >= time.time() - (time.perf_counter() - start):
            return load_rows(LEARNING), None
        return [], f"{name}: finished without saving its rows to {saved}"
    if proc.returncode != 0 or not out.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        return [], f"{name}: exit {proc.returncode}\n```\n{tail}\n```"
    return read_rows(out), None


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="the short run (under 10 minutes on 2 cores)"
    )
    parser.add_argument("--only", nargs="+", choices=[*BENCHMARKS, LEARNING], help="run only these")
    args = parser.parse_args()
    names = list(args.only or BENCHMARKS)
    if not args.only and not args.quick:
        names.append(LEARNING)
    rows: list[Result] = []
    failures: list[str] = []
    start = time.perf_counter()
    load_at_start = [round(x, 1) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            found, failure = run_one(name, args.quick, Path(tmp) / f"{name}.json")
            rows += found
            if failure:
                failures.append(failure)
                print(failure, file=sys.stderr)
    if not args.only and LEARNING not in names:
        saved = load_rows(LEARNING)
        rows += saved or [
            Result(
                LEARNING,
                "learning study",
                "not run",
                note="no saved rows; `python -m bench` (full) or `python -m bench.learning` runs it",
            )
        ]
    if not args.only:  # a partial run does not replace the table of a whole one
        write_report(
            rows,
            quick=args.quick,
            failures=failures,
            load_at_start=load_at_start,
            seconds=time.perf_counter() - start,
        )
    print()
    print(text_table(rows))
    missed = [r for r in rows if r.met is False]
    print(
        f"\n{len(rows)} rows, {sum(r.met is True for r in rows)} goals met, {len(missed)} missed, "
        f"{len(failures)} benchmarks failed; {time.perf_counter() - start:.0f} s. "
        + (
            "(--only: bench/RESULTS.md left as it was)"
            if args.only
            else "Written: bench/results.json and bench/RESULTS.md"
        )
    )


if __name__ == "__main__":
    main()
