"""Pipeline screen: the band moves the selected count live; stages run in a worker; failures reach the error modal."""

from __future__ import annotations

import os

from studio.modals import ConfirmModal, ErrorModal
from studio.widgets.histogram import Histogram
from tests.studio.fake_stages import stages_env


async def wait_for(pilot, condition, tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)


async def test_moving_the_band_changes_the_selected_count(populated, make_app):
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)  # the pool is read in a thread
        selection = populated.task().selection
        assert screen.rule == selection.rule == "paper" and screen.selection_size == selection.m
        assert screen.selected_count > selection.m  # M train samples and a validation share
        await pilot.press(*["minus"] * 20)  # upper edge down to 0.0
        assert screen.rule == "band" and screen.band == (0.0, 0.0)
        assert screen.selected_count == 7  # the samples with pass rate exactly 0
        await pilot.press("right_square_bracket")  # lower edge up: nothing fits
        assert (
            screen.band == (0.0, 0.0) and screen.selected_count == 7
        )  # lower edge never passes the upper
        await pilot.press("plus", "plus", "right_square_bracket")
        assert screen.band == (0.05, 0.1) and screen.selected_count == 0
        await pilot.press("plus", "plus", "plus")  # hi 0.25: pass rates 0.125 and 0.25
        assert screen.selected_count == 14
        assert "would select 14" in str(screen.query_one("#band-panel").render())
        assert screen.query_one("#hist-after", Histogram).band == (0.05, 0.25)
        assert populated.store.scalar("SELECT COUNT(*) FROM selections") == 0  # nothing written yet
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")


async def test_histograms_show_before_and_after(populated, make_app):
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.loaded)
        before = app.screen.query_one("#hist-before", Histogram).counts
        after = app.screen.query_one("#hist-after", Histogram).counts
        assert sum(before) == 30 and sum(after) == 60


async def test_stage_runs_as_a_job_with_progress(populated, make_app, monkeypatch):
    monkeypatch.setenv("SDRL_STAGES", stages_env(generate="iter_generate"))
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "enter")  # generate is highlighted: its form, then run once
        info = app.screen.query_one("#stage-info")
        await wait_for(pilot, lambda: "finished" in str(info.render()), tries=600)
        revision = populated.store.latest_revision().id
        assert f"generate: finished · generated 4, revision {revision}" in str(info.render())
        job = populated.store.query("SELECT * FROM jobs")[0]
        assert job["stage"] == "generate" and job["pid"] != os.getpid()  # its own process


async def test_job_failure_shows_title_and_hint(populated, make_app, monkeypatch):
    monkeypatch.setenv("SDRL_STAGES", stages_env(generate="iter_generate_failing"))
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "enter")  # the form of generate, then run once
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), tries=600)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.error_title == "Nothing to generate from"
        assert "sdrl corpus add" in app.screen.error_hint


async def test_confirmed_band_is_saved_by_the_real_select_stage(populated, make_app):
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press(*["minus"] * 15)  # band 0.00 - 0.25
        expected = screen.selected_count
        await pilot.press("ctrl+s", "y")
        await wait_for(
            pilot,
            lambda: (
                populated.store.scalar("SELECT COUNT(*) FROM selections") == 1
                or isinstance(app.screen, ErrorModal)
            ),
        )
        assert not isinstance(app.screen, ErrorModal), app.screen.error_title
        selection = populated.store.query("SELECT * FROM selections")[0]
        assert selection["rule"] == "band" and "0.25" in selection["params"]
        items = populated.store.scalar(
            "SELECT COUNT(*) FROM selection_items WHERE selection_id=?", (selection["id"],)
        )
        assert items == expected


async def test_views_follow_the_store_after_the_first_load(workspace, make_app):
    """Issue 12 item 1: after score and select, the panels show the new pass rates without a restart."""
    from tests.studio.sample_data import add_samples

    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        assert sum(screen.query_one("#hist-after", Histogram).counts) == 0
        add_samples(workspace, 12)  # a stage finished elsewhere: new scored samples
        screen.refresh_counts()
        await wait_for(pilot, lambda: sum(screen.query_one("#hist-after", Histogram).counts) == 12)
        assert sum(screen.query_one("#hist-after", Histogram).counts) == 12
        assert "scored 12" in str(screen.query_one("#band-panel").render())
