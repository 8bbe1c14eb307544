"""Regenerate the README screenshots (assets/screenshots/*.svg) from the real app over a real demo run.

Make the run first (bundled models, every stage for real; about an hour on a 2-core CPU):

    sdrl init /tmp/demo && cd /tmp/demo && sdrl run && sdrl train \\
      && sdrl eval run --benchmark gsm8k --limit 20 --run "$(sdrl runs list --json | jq -r '.[0].id')"

then: .venv/bin/python scripts/screenshots.py /tmp/demo. The workspace is copied first, so
nothing the studio does while shooting touches it; the preview screen streams two questions
from the instructor live.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.workspace import open_workspace  # noqa: E402
from studio import SCREENS  # noqa: E402
from studio.app import StudioApp  # noqa: E402

OUT = REPO / "assets" / "screenshots"
SIZE = (120, 40)
KEYS = {"train": ["enter"], "samples": ["down", "down"]}


async def until(pilot, condition, seconds: float) -> None:
    for _ in range(int(seconds / 0.25)):
        if condition():
            return
        await pilot.pause(0.25)


async def shoot(workspace, screen: str) -> Path:
    app = StudioApp(workspace, start=screen, poll_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if screen == "preview":  # two questions written by the instructor now
            app.screen.query_one("#preview-k").value = "2"
            await pilot.press("g")
            status = app.screen.query_one("#preview-status")
            await until(pilot, lambda: "previewed" in str(status.render()), 600)
        if KEYS.get(screen):
            await pilot.press(*KEYS[screen])
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        return Path(app.save_screenshot(f"{screen}.svg", str(OUT)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", help="a workspace after a real demo run")
    parser.add_argument(
        "--only", nargs="+", choices=SCREENS, default=SCREENS, help="shoot only these screens"
    )
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(args.workspace).resolve().name
        shutil.copytree(args.workspace, copy, ignore=shutil.ignore_patterns("*.partial"))
        workspace = open_workspace(copy)
        for screen in args.only:
            print(asyncio.run(shoot(workspace, screen)).relative_to(REPO))
        workspace.close()


if __name__ == "__main__":
    main()
