"""`sdrl train --num-processes 2` on CPU: accelerate launches two DDP ranks (gloo) that train the tiny model; only
rank 0 keeps the books, both stop at the same step, resume continues the step numbers, and both ranks end with
the adapter that is saved."""

from __future__ import annotations

import json
import re
import statistics
import time

import pytest

from engine.events import EventLog, ItemDone, Metric
from engine.jobs import job_for_run
from engine.runs import get_run, resume_run, run_metrics, start_run, stop_run
from tests.engine.test_train import TIMEOUT, _kill, _wait

pytestmark = pytest.mark.slow


def _rank_lines(log_text: str) -> list[tuple[int, str, int]]:
    return [
        (int(m[1]), m[2], int(m[3]))
        # not anchored at the line's start: another rank's progress bar may have left a line open
        for m in re.finditer(r"rank (\d+): (\w+) at step (\d+)$", log_text, re.M)
    ]


def _job_ended(ws, run_id: str) -> str:
    """Wait for the run's train job to end (launcher and every rank gone); then its log is complete.
    Rank 0 records the outcome in the store before the other ranks have printed theirs."""
    deadline = time.time() + TIMEOUT
    while (job := job_for_run(ws.store, run_id)) is not None and job.live:
        assert time.time() < deadline, f"the train job of run {run_id} did not end: {job}"
        time.sleep(0.2)
    assert job is not None
    return (job.folder / "train.log").read_text()


def test_two_cpu_processes_train_stop_resume_and_agree(tmp_path, sdrl) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from engine.tiny import tiny_model, tiny_workspace
    from engine.training.configs import adapter_digest

    ws = tiny_workspace(tmp_path / "tw", items=9, max_steps=4, checkpoint_every=10)
    started = sdrl("train", "--num-processes", "2", "--detach", cwd=ws.root)
    assert started.returncode == 0, started.stderr
    run_id = re.search(r"started run (\S+)", started.stdout)[1]  # type: ignore[index]
    try:
        _wait(ws, run_id, lambda i: i.step >= 1 or i.status not in ("queued", "running"))
        info = stop_run(ws, run_id, wait=TIMEOUT)
        assert info.status == "stopped", info.message
        stopped_at = info.step
        assert sorted(_rank_lines(_job_ended(ws, run_id))) == [
            (0, "stopped", stopped_at),
            (1, "stopped", stopped_at),
        ]
        assert (info.folder / "checkpoints" / f"checkpoint-{stopped_at}").is_dir()

        resume_run(ws, run_id)
        info = _wait(ws, run_id, lambda i: i.status not in ("queued", "running"))
        assert info.status == "finished", info.message
        assert info.step == 4
        log_text = _job_ended(ws, run_id)
    finally:
        _kill(get_run(ws.store, run_id, refresh=False))

    launch = json.loads((info.folder / "config.json").read_text())["launch"]
    assert launch["num_processes"] == 2 and launch["accelerate_config"].endswith("cpu-ddp.yaml")
    assert sorted(_rank_lines(log_text)[-2:]) == [
        (0, "finished", 4),
        (1, "finished", 4),
    ]
    metrics = run_metrics(ws.store, run_id)
    assert [s for s, _ in metrics["reward_mean"]] == [1, 2, 3, 4]  # continuous across the stop

    events = EventLog(info.folder / "events.jsonl").read(0)[0]
    rewards = [e.step for e in events if isinstance(e, Metric) and e.name == "reward_mean"]
    assert sorted(rewards) == [1, 2, 3, 4]  # one writer: no step logged twice
    [digests] = [
        e.detail["rank_digests"]
        for e in events
        if isinstance(e, ItemDone) and e.detail.get("kind") == "adapter"
    ][-1:]
    assert len(digests) == 2 and digests[0] == pytest.approx(digests[1], rel=1e-9)
    loaded = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model()), info.adapter
    )
    assert adapter_digest(loaded) == pytest.approx(
        digests[0], rel=1e-6
    )  # the saved adapter is theirs

    two = statistics.median(v for _, v in metrics["step_time"])
    one_ws = tiny_workspace(tmp_path / "one", items=9, max_steps=3)
    one_id = start_run(one_ws)
    try:
        one = _wait(one_ws, one_id, lambda i: i.status not in ("queued", "running"))
    finally:
        _kill(get_run(one_ws.store, one_id, refresh=False))
    assert one.status == "finished", one.message
    single = statistics.median(v for _, v in run_metrics(one_ws.store, one_id)["step_time"])
    print(
        f"\nstep time (median): 1 process {single:.2f}s for 1 group; 2 processes {two:.2f}s for 2 groups (1 per rank)"
    )
    one_ws.close()
    ws.close()
