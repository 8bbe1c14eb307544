"""Studio benchmark: a 100,000-sample workspace to first paint, cursor cost vs an empty table, memory, cold start.

Run: .venv/bin/python bench/studio.py [--rows N]. Prints each figure with its target; not a timed test.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine import queries  # noqa: E402
from engine.queries import SampleQuery  # noqa: E402
from engine.workspace import Workspace, init_workspace  # noqa: E402
from tests.studio.sample_data import add_samples  # noqa: E402

MOVES = 200


async def first_paint_and_cursor(ws: Workspace) -> tuple[float, float, float]:
    """Seconds to the first painted samples screen; mean wall and CPU seconds per cursor move.

    Wall time per key includes Pilot waiting for the next frame; CPU time is the work the move costs.
    """
    from studio.app import StudioApp
    from studio.widgets.virtual_table import VirtualTable

    start = time.time()
    app = StudioApp(ws, start="samples")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.first_paint_at is not None
        painted = app.first_paint_at - start
        table = app.screen.query_one(VirtualTable)
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(MOVES):
            await pilot.press("down" if i < MOVES // 2 else "up")
        await pilot.pause()
        per_move = (time.perf_counter() - t0) / MOVES
        cpu_per_move = (time.process_time() - c0) / MOVES
        assert table.total == queries.count_samples(ws.store, ws.store.latest_revision().id)  # type: ignore[union-attr]
    return painted, per_move, cpu_per_move


def cold_start(ws: Workspace) -> tuple[float, bool]:
    """A fresh interpreter: process start to first paint, and whether torch got imported on the way."""
    script = textwrap.dedent(f"""
        import time, sys, asyncio
        t_start = float(sys.argv[1])
        from engine.workspace import open_workspace
        from studio.app import StudioApp
        async def main():
            app = StudioApp(open_workspace({str(ws.root)!r}), start="pipeline")
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                print("PAINT", app.first_paint_at - t_start, "torch" in sys.modules)
        asyncio.run(main())
    """)
    out = subprocess.run(
        [sys.executable, "-c", script, str(time.time())],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("PAINT"))
    _, seconds, torch = line.split()
    return float(seconds), torch == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        big = init_workspace(Path(tmp) / "big", "demo")
        empty = init_workspace(Path(tmp) / "empty", "demo")
        small = init_workspace(Path(tmp) / "small", "demo")
        add_samples(small, 100, details=False)
        t0 = time.perf_counter()
        add_samples(big, args.rows, details=False)
        print(f"setup: {args.rows:,} samples inserted in {time.perf_counter() - t0:.1f} s")
        rid = big.store.latest_revision().id  # type: ignore[union-attr]
        for sort in ("id", "pass_rate"):
            t0 = time.perf_counter()
            queries.sample_page(big.store, rid, SampleQuery(sort=sort), args.rows // 2, 64)
            print(
                f"page query (sort {sort}, offset {args.rows // 2:,}): {1000 * (time.perf_counter() - t0):.1f} ms"
            )

        painted, per_move, cpu_big = asyncio.run(first_paint_and_cursor(big))
        _, per_move_empty, cpu_empty = asyncio.run(first_paint_and_cursor(empty))
        _, per_move_small, cpu_small = asyncio.run(first_paint_and_cursor(small))
        rss = psutil.Process(os.getpid()).memory_info().rss / 2**20
        cold, torch = cold_start(big)

        frame = 1000 / 60
        extra = 1000 * (cpu_big - cpu_empty)
        print(
            f"first paint, {args.rows:,} samples: {painted:.3f} s (target < 1 s) {'OK' if painted < 1 else 'SLOW'}"
        )
        print(
            f"cursor move, CPU: {1000 * cpu_big:.2f} ms vs {1000 * cpu_empty:.2f} ms on an empty table "
            f"(+{extra:.2f} ms; target within one frame, {frame:.1f} ms) {'OK' if extra < frame else 'SLOW'}; "
            f"{1000 * cpu_small:.2f} ms on a 100-row table"
        )
        print(
            f"cursor move, wall (Pilot waits for the frame): {1000 * per_move:.1f} ms; empty {1000 * per_move_empty:.1f} ms; "
            f"100 rows {1000 * per_move_small:.1f} ms"
        )
        print(f"resident memory: {rss:.0f} MB (target < 500 MB) {'OK' if rss < 500 else 'HIGH'}")
        print(
            f"cold start to first paint: {cold:.3f} s (target < 1.5 s) {'OK' if cold < 1.5 else 'SLOW'}; "
            f"torch imported: {torch}"
        )
        for ws in (big, empty, small):
            ws.close()


if __name__ == "__main__":
    main()
