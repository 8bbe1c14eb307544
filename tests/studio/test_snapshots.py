"""SVG snapshots of every screen at 80x24 and 120x40 over fixed data (regenerate with --snapshot-update)."""

from __future__ import annotations

import time

import pytest

from studio import SCREENS
from studio.app import StudioApp
from tests.studio.sample_data import preview_events

SIZES = [(80, 24), (120, 40)]
KEYS = {"train": ["enter"], "samples": ["down", "a", "down"]}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_snapshot(snap_compare, populated, screen, size, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # revision times are shown in local time
    time.tzset()
    app = StudioApp(populated, start=screen, poll_interval=3600)

    async def settle(pilot):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()  # views read in threads (the pipeline's pool)
        await pilot.pause()
        if screen == "preview":
            pilot.app.screen.on_preview_events(preview_events())
        if KEYS.get(screen):
            await pilot.press(*KEYS[screen])
        await pilot.pause(
            0.3
        )  # let debounced panes (the sample detail) show before the picture is taken
        await (
            pilot.app.workers.wait_for_complete()
        )  # the sample pane mounts its rollouts in a worker
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=settle)
