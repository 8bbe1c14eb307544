"""Real GRPO training in a detached process on the tiny model: metrics, weights that move, stop, SIGKILL and resume."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

from engine.events import EventLog, ItemDone, Metric, StageStarted
from engine.runs import (
    follow,
    get_run,
    list_runs,
    process_alive,
    resume_run,
    run_metrics,
    start_run,
    stop_run,
)

pytestmark = pytest.mark.slow
TIMEOUT = 240


def _wait(ws, run_id: str, until, timeout: float = TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = get_run(ws.store, run_id)
        if until(info):
            return info
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting; last state {info}")


def _kill(info) -> None:
    """Clean up a worker this test started, if it still runs (the pid is checked to be our worker)."""
    if process_alive(info.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGKILL)


def _lora_b_norm(folder: Path) -> float:
    from safetensors.torch import load_file

    weights = load_file(str(folder / "adapter_model.safetensors"))
    return float(sum(t.abs().sum() for name, t in weights.items() if "lora_B" in name))


def test_train_kill_resume_and_metrics(tmp_path) -> None:
    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", max_steps=4)
    run_id = start_run(ws)
    try:
        saved = ws.runs_dir / run_id / "checkpoints" / "checkpoint-2" / "trainer_state.json"
        info = _wait(ws, run_id, lambda i: saved.is_file() or i.status not in ("queued", "running"))
        assert info.status == "running", info.message
        os.kill(info.pid, signal.SIGKILL)  # a hard kill: no chance to save or report
        info = _wait(ws, run_id, lambda i: i.status == "failed", timeout=30)
        assert "resume" in info.message

        resume_run(ws, run_id)
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
        assert info.status == "finished", info.message
        assert info.step == 4 and info.total_steps == 4
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))

    metrics = run_metrics(ws.store, run_id)
    for name in (
        "reward_mean",
        "reward_std",
        "reward/correctness",
        "kl",
        "loss",
        "completion_length",
        "zero_std_share",
        "learning_rate",
        "step_time",
        "tokens_per_s",
    ):
        assert [s for s, _ in metrics[name]] == [1, 2, 3, 4], name  # continuous across the kill
    assert any(v > 0 for _, v in metrics["reward_std"])  # rewards varied, so there was signal
    assert _lora_b_norm(info.adapter) > 0  # LoRA B starts at zero: non-zero means the weights moved
    assert (
        json.loads((info.folder / "config.json").read_text())["task"]["training"]["max_steps"] == 4
    )

    events = list(follow(ws, run_id))  # the run is over: follow replays its log and returns
    started = [e for e in events if isinstance(e, StageStarted)]
    assert started[0].detail["resumed_from"] is None
    assert started[1].detail["resumed_from"] in (
        "checkpoint-2",
        "checkpoint-3",
    )  # the newest complete one at the kill
    assert {e.name for e in events if isinstance(e, Metric)} >= {"reward_mean", "kl"}
    reward_steps = [e.step for e in events if isinstance(e, Metric) and e.name == "reward_mean"]
    assert reward_steps == [1, 2, 3, 4]  # no step logged twice across the kill
    assert any(isinstance(e, ItemDone) and e.detail.get("kind") == "sample" for e in events)
    assert (info.folder / "samples.jsonl").is_file()
    ws.close()


def test_stop_then_resume_keeps_step_numbers(tmp_path) -> None:
    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", max_steps=3, checkpoint_every=10)
    run_id = start_run(ws)
    try:
        _wait(ws, run_id, lambda i: i.step >= 1 or i.status not in ("queued", "running"))
        info = stop_run(ws, run_id, wait=TIMEOUT)
        assert info.status == "stopped", info.message
        stopped_at = info.step
        assert (
            info.folder / "checkpoints" / f"checkpoint-{stopped_at}"
        ).is_dir()  # saved at the stop
        resume_run(ws, run_id)
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
        assert info.status == "finished" and info.step == 3
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))
    steps = [s for s, _ in run_metrics(ws.store, run_id)["reward_mean"]]
    assert steps == [1, 2, 3]
    ws.close()


def test_run_folder_deleted_under_a_running_run(tmp_path) -> None:
    import shutil

    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", max_steps=50)
    run_id = start_run(ws)
    try:
        info = _wait(ws, run_id, lambda i: i.step >= 1 or i.status not in ("queued", "running"))
        shutil.rmtree(info.folder)
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))
    assert info.status == "failed"
    assert "deleted" in info.message
    assert run_metrics(ws.store, run_id)["reward_mean"][0][0] == 1  # what was logged is kept
    assert [r.id for r in list_runs(ws.store)] == [run_id]
    assert not EventLog(info.folder / "events.jsonl").path.exists()
    ws.close()


@pytest.mark.gpu
def test_gpu_configs_use_bf16_and_vllm(tmp_path) -> None:
    from engine.config import TrainingSettings
    from engine.training.configs import build_configs

    grpo, _ = build_configs(TrainingSettings(use_vllm=True), tmp_path, gpu=True)
    assert grpo.bf16 and not grpo.use_cpu and grpo.use_vllm and grpo.vllm_mode == "colocate"
    server, _ = build_configs(
        TrainingSettings(use_vllm=True, vllm_mode="server", vllm_server_port=8123),
        tmp_path,
        gpu=True,
    )
    assert server.vllm_mode == "server" and server.vllm_server_port == 8123


@pytest.mark.gpu
def test_short_gpu_run_finishes(tmp_path) -> None:
    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", max_steps=2)
    run_id = start_run(ws)
    try:
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))
    assert info.status == "finished", info.message
    assert json.loads((info.folder / "config.json").read_text())["preflight"]["mode"] == "GPU"
    ws.close()


@pytest.mark.gpu
def test_trl_colocated_vllm_grpo_steps(tmp_path) -> None:
    """TRL generates with a vLLM engine on the training GPU (colocate), bf16 LoRA steps on the tiny model."""
    pytest.importorskip("vllm")
    from engine.tiny import tiny_model, tiny_workspace

    ws = tiny_workspace(
        tmp_path / "tw", max_steps=2, use_vllm=True, vllm_gpu_memory_utilization=0.25
    )
    run_id = start_run(ws, model=str(tiny_model(hidden_size=128)))  # heads of 32 for vLLM's kernels
    try:
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))
    assert info.status == "finished", info.message
    assert [s for s, _ in run_metrics(ws.store, run_id)["reward_mean"]] == [1, 2]
    assert (
        "vllm" in (info.folder / "train.log").read_text().lower()
    )  # vLLM's engine start is logged
    assert _lora_b_norm(info.adapter) > 0
    ws.close()
