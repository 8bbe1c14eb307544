"""Train screen: a run started elsewhere (the CLI) appears, can be attached, and its dashboard follows new metrics."""

from __future__ import annotations

import pytest

from studio.modals import ErrorModal
from tests.studio.sample_data import add_metrics, add_run

RUN = "20260101-000000-abcd"


async def test_cli_run_appears_and_updates(workspace, make_app, fake_worker):
    add_run(workspace, RUN, steps=4, status="running")
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE runs SET pid=? WHERE id=?", (fake_worker, RUN))
    app = make_app(workspace, "train")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        runs = screen.query_one("#runs")
        assert runs.row_count == 1 and runs.get_row_at(0)[:2] == [RUN, "running"]
        await pilot.press("enter")
        assert screen.run_id == RUN
        assert screen.series["reward_mean"] == pytest.approx([0.25, 0.3, 0.35, 0.4])
        assert "step 4/20" in str(screen.query_one("#run-info").render())
        assert "(step 4)" in str(screen.query_one("#completions").render())

        add_metrics(workspace, RUN, range(5, 7))  # the CLI's run goes on
        screen.poll()  # what the interval timer does
        await pilot.pause()
        assert len(screen.series["reward_mean"]) == 6
        assert "step 6/20" in str(screen.query_one("#run-info").render())
        assert "(step 6)" in str(screen.query_one("#completions").render())
        assert runs.get_row_at(0)[2] == "6/20"
        assert "reward: 0.5" in str(screen.query_one("#curve-values").render())


async def test_invalid_setting_is_flagged_and_refused(populated, make_app, monkeypatch):
    started = []
    monkeypatch.setattr(
        "studio.train_client.launch_training", lambda *a, **k: started.append(a) or "x"
    )
    app = make_app(populated, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.screen.query_one("#set-group_size")
        assert "Completions sampled per prompt" in str(field.tooltip)  # config.py's docstring
        field.value = "1"  # GRPO needs at least 2 completions per group
        await pilot.pause()
        assert field.has_class("-invalid")
        app.screen.query_one("#runs").focus()
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and "group_size" in app.screen.error_title
        assert started == []


def preflight_at(monkeypatch, pass_rate: float) -> list:
    """The preflight answers with a real one of two rows at `pass_rate`; launch_training records its calls."""

    from engine.config import TaskDefinition
    from engine.training.data import Row
    from engine.training.preflight import preflight

    task = TaskDefinition.model_validate(
        {"name": "t", "description": "d", "output_format": "#### N", "answer_type": "numeric"}
    )
    rows = [Row(f"Q{i}?", "4", f"Q{i}?", i, "train", "initial", pass_rate, 1.0, 1) for i in (1, 2)]
    pre = preflight(task, rows, "unused", need_model=False)
    monkeypatch.setattr("studio.train_client.training_preflight", lambda *a, **k: pre)
    calls: list = []

    def launch_training(root, overrides, force=False):
        calls.append((overrides, force))
        return RUN

    monkeypatch.setattr("studio.train_client.launch_training", launch_training)
    return calls


async def until(pilot, condition) -> None:
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)


async def test_launch_with_a_warning_asks_first(populated, make_app, monkeypatch):
    """Issue 12 item 3: a warning is no longer launched without asking."""
    from studio.modals import ConfirmModal

    calls = preflight_at(monkeypatch, 0.99)
    app = make_app(populated, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert (
            isinstance(app.screen, ConfirmModal) and "zero reward variance" in app.screen.question
        )
        assert calls == []
        await pilot.press("y")
        await until(pilot, lambda: calls)
        assert calls == [({**calls[0][0]}, False)]
        assert "preflight: warning" in str(app.screen.query_one("#preflight").render())


async def test_launch_with_a_blocker_is_refused_unless_forced(populated, make_app, monkeypatch):
    calls = preflight_at(monkeypatch, 1.0)  # every group all-correct: nothing to learn
    app = make_app(populated, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ErrorModal))
        modal = app.screen
        assert isinstance(modal, ErrorModal) and "Launch refused" in modal.error_title
        assert "selection rule" in modal.error_title and "bigger base model" in modal.error_title
        assert "force the launch with F" in modal.error_hint
        await pilot.press("escape")
        await pilot.pause()
        assert calls == []
        assert "preflight: blocker" in str(app.screen.query_one("#preflight").render())
        await pilot.press("F")
        await until(pilot, lambda: calls)
        assert calls and calls[0][1] is True


async def test_launch_calls_start_run_with_the_form(populated, make_app, monkeypatch):
    calls = preflight_at(monkeypatch, 0.5)
    app = make_app(populated, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#set-max_steps").value = "7"
        app.screen.query_one("#runs").focus()
        await pilot.press("l")
        for _ in range(100):
            if app.screen.run_id:
                break
            await pilot.pause(0.05)
        assert calls and calls[0][0]["max_steps"] == 7 and calls[0][1] is False
        assert app.screen.run_id == RUN


async def test_a_run_loading_its_model_says_so(workspace, make_app, fake_worker):
    from engine.events import EventLog, ModelLoading, StageStarted

    folder = add_run(workspace, "r-load", steps=0, status="running")
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE runs SET pid=? WHERE id='r-load'", (fake_worker,))
    log = EventLog(folder / "events.jsonl")
    log.append(ModelLoading("train", model="gemma3-270m"))
    app = make_app(workspace, "train")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.attach("r-load")
        await pilot.pause()
        assert "loading gemma3-270m…" in str(app.screen.query_one("#run-info").render())
        log.append(StageStarted("train", total=20))  # the trainer started: the model is in
        app.screen.poll()
        await pilot.pause()
        assert "loading" not in str(app.screen.query_one("#run-info").render())
