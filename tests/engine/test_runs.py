"""Run bookkeeping without training: overrides, config mapping, dead processes, bad ids, refused launches."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from engine.config import TrainingSettings
from engine.errors import ConfigError, RunError
from engine.runs import get_run, list_runs, resume_run, start_run, stop_run, training_settings


def _insert_run(ws, run_id: str, status: str, pid: int | None) -> None:
    now = time.time()
    folder = ws.runs_dir / run_id
    folder.mkdir(parents=True)
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, pid, folder, config) VALUES (?, 'train', ?, ?, ?, ?, ?, '{}')",
            (run_id, status, now, now, pid, str(folder)),
        )


def test_overrides_parse_and_validate() -> None:
    from engine.cli.train import parse_overrides

    overrides = parse_overrides(
        ("max_steps=5", "learning_rate=1e-4", "target_modules=['q_proj']", "use_vllm=true")
    )
    assert overrides == {
        "max_steps": 5,
        "learning_rate": 1e-4,
        "target_modules": ["q_proj"],
        "use_vllm": True,
    }
    assert training_settings(TrainingSettings(), overrides).max_steps == 5
    with pytest.raises(ConfigError, match="group_size"):
        training_settings(TrainingSettings(), {"group_size": 1})
    with pytest.raises(ConfigError):
        training_settings(TrainingSettings(), {"no_such_field": 1})


def test_configs_are_built_from_ours(tmp_path) -> None:
    from engine.training.configs import build_configs, planned_steps

    settings = TrainingSettings(
        lora_rank=8,
        lora_alpha=16,
        kl_coef=0.02,
        learning_rate=3e-5,
        group_size=6,
        prompts_per_step=3,
        max_completion_tokens=64,
        temperature=0.9,
        checkpoint_every=7,
    )
    grpo, lora = build_configs(settings, tmp_path, gpu=False)
    assert (grpo.beta, grpo.learning_rate, grpo.num_generations, grpo.max_completion_length) == (
        0.02,
        3e-5,
        6,
        64,
    )
    assert grpo.per_device_train_batch_size * grpo.gradient_accumulation_steps == 6 * 3
    assert (
        grpo.use_cpu,
        grpo.bf16,
        grpo.gradient_checkpointing,
        grpo.save_steps,
        grpo.temperature,
    ) == (True, False, False, 7, 0.9)
    assert (
        lora.r == 8
        and lora.lora_alpha == 16
        and set(lora.target_modules) == set(settings.target_modules)
    )
    assert planned_steps(settings, 10) == 5 * 4  # 5 epochs x ceil(10 / 3)
    assert planned_steps(TrainingSettings(max_steps=9), 10) == 9


def test_a_run_whose_process_died_is_marked_failed(workspace) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    _insert_run(workspace, "20260101-000000-dead", "running", proc.pid)
    [info] = list_runs(workspace.store)
    assert info.status == "failed"
    assert "resume" in info.message


def test_bad_run_ids_and_refused_actions(workspace) -> None:
    with pytest.raises(RunError, match="No run"):
        get_run(workspace.store, "nope")
    _insert_run(workspace, "20260101-000000-aaaa", "finished", None)
    _insert_run(workspace, "20260101-000000-aaab", "finished", None)
    with pytest.raises(RunError, match="ambiguous"):
        get_run(workspace.store, "20260101")
    with pytest.raises(RunError, match="not running"):
        stop_run(workspace, "20260101-000000-aaaa")
    with pytest.raises(RunError, match="finished"):
        resume_run(workspace, "20260101-000000-aaaa")


def test_no_selection_refuses_to_start_and_leaves_nothing(workspace) -> None:
    with pytest.raises(RunError, match="No selection"):
        start_run(workspace)
    assert workspace.store.scalar("SELECT COUNT(*) FROM runs") == 0
    assert not any(workspace.runs_dir.iterdir())


def test_cli_runs_list_empty(workspace, sdrl) -> None:
    result = sdrl("-w", str(workspace.root), "runs", "list")
    assert result.returncode == 0 and "no runs yet" in result.stdout
