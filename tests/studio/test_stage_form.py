"""Run settings in the studio (issue 12 item 4): Enter on a stage opens its numbers from task.toml; the engine's
validation decides; fields in error are highlighted and every error listed; this run only, or saved to task.toml."""

from __future__ import annotations

import pytest

from engine.config import load_task
from engine.errors import ConfigError
from studio.modals import ErrorModal
from studio.stage_form import StageSettingsModal, stage_values
from tests.studio.fake_stages import stages_env
from tests.studio.test_pipeline import wait_for


def fake_score(monkeypatch) -> None:
    """score runs tests.studio.fake_stages.iter_score_reporting in its job process: it reports k and the revision."""
    monkeypatch.setenv("SDRL_STAGES", stages_env(score="iter_score_reporting"))


async def finished_info(app, pilot) -> str:
    info = app.screen.query_one("#stage-info")
    await wait_for(pilot, lambda: "finished" in str(info.render()), tries=600)
    return str(info.render())


async def open_form(app, pilot, stage: str) -> StageSettingsModal:
    options = app.screen.query_one("#stages")
    options.highlighted = [o.id for o in options.options].index(stage)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, StageSettingsModal))
    assert isinstance(app.screen, StageSettingsModal)
    return app.screen


def test_stage_values_use_the_engine_validation(workspace):
    task = workspace.task()
    kwargs, changes = stage_values(
        task, "generate", {"generation.n_samples": "40", "generation.votes": "3"}
    )
    assert kwargs == {"n": 40, "votes": 3} and changes == {
        "generation": {"n_samples": 40, "votes": 3}
    }
    with pytest.raises(ConfigError) as raised:
        stage_values(task, "generate", {"generation.n_samples": "-3", "generation.votes": "many"})
    assert set(raised.value.fields) == {"generation.n_samples", "generation.votes"}


async def test_enter_opens_the_form_prefilled_and_runs_once(workspace, make_app, monkeypatch):
    fake_score(monkeypatch)
    text_before = workspace.task_file.read_text()
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, "score")
        field = form.query_one("#stage-scoring-k")
        assert field.value == "8"  # the demo task.toml's scoring.k
        assert "Answers the base model samples per question" in str(field.tooltip)  # config.py
        field.value = "4"
        await pilot.press("enter")  # this run only
        assert "score: finished · k 4, revision 1" in await finished_info(app, pilot)
    assert workspace.task_file.read_text() == text_before  # nothing saved
    assert len(workspace.store.revisions()) == 1


async def test_errors_are_highlighted_and_listed_all_at_once(workspace, make_app):
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_form(app, pilot, "generate")
        form.query_one("#stage-generation-n_samples").value = "-3"
        form.query_one("#stage-generation-votes").value = "0"
        await pilot.press("enter")
        assert isinstance(app.screen, StageSettingsModal)  # refused, still open
        assert form.query_one("#stage-generation-n_samples").has_class("-invalid")
        assert form.query_one("#stage-generation-votes").has_class("-invalid")
        errors = str(form.query_one("#stage-errors").render())
        assert "generation.n_samples" in errors and "generation.votes" in errors


async def test_save_to_task_toml_keeps_comments_and_runs(workspace, make_app, monkeypatch):
    fake_score(monkeypatch)
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_form(app, pilot, "score")
        form.query_one("#stage-scoring-k").value = "16"
        await pilot.press("ctrl+s")
        assert "score: finished · k 16, revision 2" in await finished_info(app, pilot)
        assert not isinstance(app.screen, ErrorModal)
    assert load_task(workspace.task_file).scoring.k == 16
    assert workspace.task_file.read_text().startswith("# The demo workspace")  # comments kept
    latest = workspace.store.latest_revision()
    assert latest.id == 2 and "scoring.k = 16" in latest.message


async def test_train_form_rejects_negative_max_steps_and_lists_every_error(
    populated, make_app, monkeypatch
):
    """max_steps = -3 was accepted and meant "no limit"; now the engine refuses it, with the other errors."""
    started: list = []
    monkeypatch.setattr("engine.runs.start_run", lambda *a, **k: started.append(a) or "x")
    from engine.config import TrainingSettings, validate_settings

    with pytest.raises(ConfigError, match="max_steps"):  # the engine's config itself refuses it
        validate_settings(TrainingSettings, {"max_steps": -3}, "task.toml")
    app = make_app(populated, "train")
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#set-max_steps").value = "-3"
        app.screen.query_one("#set-lora_rank").value = "0"
        app.screen.query_one("#runs").focus()
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "max_steps" in app.screen.error_title and "lora_rank" in app.screen.error_title
        await pilot.press("escape")
        assert app.screen.query_one("#set-max_steps").has_class("-invalid")
        assert app.screen.query_one("#set-lora_rank").has_class("-invalid")
        assert not app.screen.query_one("#set-epochs").has_class("-invalid")
        assert started == []
