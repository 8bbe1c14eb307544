"""Text from data never drives the terminal in the studio: every screen that shows data, fed hostile strings.

What reaches the terminal is read from the compositor (every visible cell of the screen), so a
control character anywhere on screen fails the test, and markup in the data must not break a widget.
"""

from __future__ import annotations

from engine.events import EventLog, ItemDone
from tests.hostile import HOSTILE, MARK, RUN_ID, fill_hostile, hostile, is_clean
from tests.studio.fake_stages import stages_env
from tests.studio.test_eval_preview import preview_cards
from tests.studio.test_pipeline import wait_for


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(segment.text for segment in strip) for strip in update.strips)


def check(app, what: str, *, shows_data: bool = True) -> str:  # type: ignore[no-untyped-def]
    text = screen_text(app)
    assert is_clean(text), (what, text)
    if shows_data:
        assert MARK in text and "\\x1b[2J" in text, (what, text)
    return text


async def test_samples_table_and_detail(workspace, make_app):
    fill_hostile(workspace)
    app = make_app(workspace, "samples")
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await wait_for(
            pilot, lambda: "hostile rationale" in screen_text(app) or "votes" in screen_text(app)
        )
        text = check(app, "samples")
        assert "hostile vote" in text and "hostile passage" in text and "[bold red]" in text


async def test_task_history_and_diff(workspace, make_app):
    fill_hostile(workspace)
    app = make_app(workspace, "task")
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        check(app, "task history", shows_data=False)
        await pilot.press("d")
        await pilot.pause()
        check(app, "task diff")


async def test_train_run_info_and_completions(workspace, make_app):
    fill_hostile(workspace)
    folder = workspace.runs_dir / RUN_ID
    EventLog(folder / "events.jsonl").append(
        ItemDone(
            "train",
            item_id="step1-0",
            detail={
                "kind": "sample",
                "step": 1,
                "completion": hostile("completion"),
                "rewards": {},
            },
        )
    )
    app = make_app(workspace, "train")
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # attach the highlighted run
        await pilot.pause()
        text = check(app, "train")
        assert "hostile run message" in text


async def test_eval_pairs_and_items(workspace, make_app):
    fill_hostile(workspace)
    app = make_app(workspace, "eval")
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        text = check(app, "eval")
        assert "hostile eval question" in text


async def test_preview_stream_and_stage_warnings(workspace, make_app, monkeypatch):
    monkeypatch.setenv("SDRL_STAGES", stages_env(preview="iter_hostile_preview"))
    monkeypatch.setattr("engine.stages.preview.keep_preview", lambda *a, **k: 1)
    app = make_app(workspace, "preview")
    async with app.run_test(size=(140, 45)) as pilot:
        await preview_cards(app, pilot, k=1)
        text = check(app, "preview")
        assert HOSTILE not in text
