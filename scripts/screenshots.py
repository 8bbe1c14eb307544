"""Regenerate the README screenshots (assets/screenshots/*.svg) from the real app over fixed demo data.

Run: .venv/bin/python scripts/screenshots.py. The same data as the snapshot tests, so the pictures never drift.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.workspace import init_workspace  # noqa: E402
from studio import SCREENS  # noqa: E402
from studio.app import StudioApp  # noqa: E402
from tests.studio.sample_data import (  # noqa: E402
    add_evals,
    add_run,
    add_samples,
    fix_revision_times,
    preview_events,
)

OUT = REPO / "assets" / "screenshots"
SIZE = (120, 40)
KEYS = {"train": ["enter"], "samples": ["down", "a", "down"], "pipeline": ["plus", "minus", "minus"]}


async def shoot(workspace, screen: str) -> Path:
    app = StudioApp(workspace, start=screen, poll_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if screen == "preview":
            app.screen.on_preview_events(preview_events())
        if KEYS.get(screen):
            await pilot.press(*KEYS[screen])
        await pilot.pause(0.3)
        return Path(app.save_screenshot(f"{screen}.svg", str(OUT)))


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "demo", "demo")
        fix_revision_times(workspace)
        add_samples(workspace, 60)
        add_run(workspace)
        add_evals(workspace, "20260101-000000-abcd")
        for screen in SCREENS:
            print(asyncio.run(shoot(workspace, screen)).relative_to(REPO))
        workspace.close()


if __name__ == "__main__":
    main()
