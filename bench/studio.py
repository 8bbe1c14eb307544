"""Studio: cold start to the first paint of the samples screen with 100,000 samples loaded, and what browsing them costs.

The cold start is a fresh interpreter from process start to the samples screen's first paint (its
table counts and fetches rows before that paint), against the same on an empty workspace,
alternating, 3 rounds. In this process: first paint, CPU per cursor move vs an empty table, memory.

    python -m bench.studio [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.report import REPO, Result, finish, median, spread

COLD_GOAL_S = 1.5
PAINT_GOAL_S = 1.0
FRAME_MS = 1000 / 60
MEMORY_GOAL_MB = 500


async def first_paint_and_cursor(ws: Any, moves: int) -> tuple[float, float]:
    """Seconds to the first painted samples screen; CPU seconds per cursor move."""
    from engine import queries
    from studio.app import StudioApp
    from studio.widgets.virtual_table import VirtualTable

    start = time.time()
    app = StudioApp(ws, start="samples")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        if app.first_paint_at is None:
            raise RuntimeError("the samples screen never painted")
        painted = app.first_paint_at - start
        table = app.screen.query_one(VirtualTable)
        c0 = time.process_time()
        for i in range(moves):
            await pilot.press("down" if i < moves // 2 else "up")
        await pilot.pause()
        cpu_per_move = (time.process_time() - c0) / moves
        expected = queries.count_samples(ws.store, ws.store.latest_revision().id)
        if table.total != expected:
            raise RuntimeError(f"the table shows {table.total} rows of {expected}")
    return painted, cpu_per_move


COLD_SCRIPT = textwrap.dedent("""
    import asyncio, sys, time
    t_start = float(sys.argv[1])
    from engine.workspace import open_workspace
    from studio.app import StudioApp
    from studio.widgets.virtual_table import VirtualTable
    async def main():
        app = StudioApp(open_workspace(sys.argv[2]), start="samples")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            rows = app.screen.query_one(VirtualTable).total
            print("PAINT", app.first_paint_at - t_start, rows, "torch" in sys.modules)
    asyncio.run(main())
""")


def cold_start(root: Path) -> tuple[float, int, bool]:
    """A fresh interpreter: process start to the first paint of the samples screen; rows shown; torch imported."""
    out = subprocess.run(
        [sys.executable, "-c", COLD_SCRIPT, str(time.time()), str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("PAINT"))
    _, seconds, rows, torch = line.split()
    return float(seconds), int(rows), torch == "True"


def run(quick: bool = False, rows: int = 100_000, rounds: int = 3) -> list[Result]:
    import psutil

    from engine.workspace import init_workspace
    from tests.studio.sample_data import add_samples

    moves = 100 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        big = init_workspace(Path(tmp) / "big", "demo")
        empty = init_workspace(Path(tmp) / "empty", "demo")
        add_samples(big, rows, details=False)
        cold: dict[str, list[float]] = {"big": [], "empty": []}
        torch_loaded = False
        for i in range(rounds):
            for name in ("big", "empty") if i % 2 == 0 else ("empty", "big"):
                ws = big if name == "big" else empty
                seconds, shown, torch = cold_start(ws.root)
                if name == "big" and shown != rows:
                    raise RuntimeError(f"cold start showed {shown} rows of {rows}")
                cold[name].append(seconds)
                torch_loaded = torch_loaded or torch
        painted, cpu_big = asyncio.run(first_paint_and_cursor(big, moves))
        _, cpu_empty = asyncio.run(first_paint_and_cursor(empty, moves))
        rss = psutil.Process(os.getpid()).memory_info().rss / 2**20
        for ws in (big, empty):
            ws.close()
    cold_s = median(cold["big"])
    extra_ms = 1000 * (cpu_big - cpu_empty)
    ratios = [b / e for b, e in zip(cold["big"], cold["empty"], strict=True)]
    return [
        Result(
            "studio",
            f"cold start to first paint of the samples screen, {rows:,} samples",
            f"{cold_s:.2f} s",
            f"{median(cold['empty']):.2f} s (empty workspace)",
            median(ratios),
            f"< {COLD_GOAL_S:g} s",
            cold_s < COLD_GOAL_S,
            spread(ratios),
            f"fresh interpreter each time, {rounds} alternating rounds, median shown; torch imported: {torch_loaded}",
            {"cold_s": cold},
        ),
        Result(
            "studio",
            f"first paint in a running process, {rows:,} samples",
            f"{painted:.2f} s",
            goal=f"< {PAINT_GOAL_S:g} s",
            met=painted < PAINT_GOAL_S,
        ),
        Result(
            "studio",
            f"CPU per cursor move, {rows:,} rows vs an empty table",
            f"{1000 * cpu_big:.2f} ms",
            f"{1000 * cpu_empty:.2f} ms",
            cpu_big / cpu_empty if cpu_empty else None,
            f"extra < one frame ({FRAME_MS:.1f} ms)",
            extra_ms < FRAME_MS,
            note=f"{moves} moves each; extra {extra_ms:.2f} ms",
        ),
        Result(
            "studio",
            "resident memory after browsing",
            f"{rss:.0f} MB",
            goal=f"< {MEMORY_GOAL_MB} MB",
            met=rss < MEMORY_GOAL_MB,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    args = parser.parse_args()
    finish(run(args.quick, args.rows, args.rounds), args.out)


if __name__ == "__main__":
    main()
