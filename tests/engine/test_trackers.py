"""training.report_to: TRL logs to TensorBoard (read back with TensorBoard's own reader) and W&B offline, in the run folder."""

from __future__ import annotations

import importlib.util
import time

import pytest

from engine.config import TrainingSettings
from engine.errors import ConfigError
from engine.runs import get_run, training_settings


def test_report_to_reaches_trl_and_puts_tracker_files_in_the_run_folder(
    tmp_path, monkeypatch
) -> None:
    from engine.training.configs import build_configs, tracker_environment

    grpo, _ = build_configs(TrainingSettings(), tmp_path, gpu=False)
    assert grpo.report_to == []  # no tracker unless asked for
    settings = TrainingSettings(report_to=["tensorboard", "wandb"])
    grpo, _ = build_configs(settings, tmp_path, gpu=False)
    assert grpo.report_to == ["tensorboard", "wandb"]

    monkeypatch.delenv("WANDB_MODE", raising=False)
    env = tracker_environment(settings, tmp_path / "run", "r1")
    assert env["TENSORBOARD_LOGGING_DIR"] == str(tmp_path / "run" / "tensorboard")
    assert env["WANDB_MODE"] == "offline" and env["WANDB_DIR"] == str(tmp_path / "run" / "wandb")
    monkeypatch.setenv("WANDB_MODE", "online")  # the user's explicit choice wins
    assert tracker_environment(settings, tmp_path / "run", "r1")["WANDB_MODE"] == "online"
    assert tracker_environment(TrainingSettings(), tmp_path / "run", "r1") == {}
    with pytest.raises(ConfigError, match="report_to"):
        training_settings(TrainingSettings(), {"report_to": ["mlflow"]})


def test_wandb_without_the_package_fails_preflight(workspace, monkeypatch) -> None:
    from engine.training import preflight as module
    from engine.training.data import Row

    real = importlib.util.find_spec
    monkeypatch.setattr(
        module.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "wandb" else real(name, *a),
    )
    _, task = workspace.current_revision()
    task = task.model_copy(update={"training": TrainingSettings(report_to=["wandb"])})
    rows = [Row("Q?\n", "3", "Q?", 1, "train", "initial", 0.5, 1.0, 1)]
    pre = module.preflight(task, rows, task.models.base, need_model=False)
    assert not pre.ok
    assert any("wandb" in p.title and "pip install wandb" in p.hint for p in pre.problems)


@pytest.mark.slow
def test_tensorboard_event_files_hold_reward_kl_loss_and_length(tmp_path, sdrl) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from engine.runs import start_run
    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", max_steps=2, report_to=["tensorboard"])
    run_id = start_run(ws)
    deadline = time.time() + 240
    while (info := get_run(ws.store, run_id)).status in ("queued", "running"):
        assert time.time() < deadline, "training did not finish in time"
        time.sleep(0.5)
    assert info.status == "finished", info.message

    reader = EventAccumulator(str(info.folder / "tensorboard"))
    reader.Reload()
    tags = reader.Tags()["scalars"]
    for tag in ("train/reward", "train/kl", "train/loss", "train/completions/mean_length"):
        assert tag in tags, tags
        assert [e.step for e in reader.Scalars(tag)] == [1, 2], tag
    stored = ws.store.query(
        "SELECT value FROM run_metrics WHERE run_id=? AND name='reward_mean' ORDER BY step",
        (run_id,),
    )
    assert [e.value for e in reader.Scalars("train/reward")] == pytest.approx(
        [r[0] for r in stored]
    )  # the same numbers the studio shows

    shown = sdrl("runs", "show", run_id, cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert f"tensorboard --logdir {info.folder / 'tensorboard'}" in shown.stdout
    ws.close()
