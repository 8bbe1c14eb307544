"""Training events stay consistent across a kill: steps logged after the last checkpoint are dropped on
resume (the resumed run logs them again), and `runs show` never promises a checkpoint that is not there."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from engine.events import EventLog, ItemDone, Metric, Progress, StageStarted
from engine.runs import get_run
from engine.training.run_folder import checkpoint_step, forget_steps_after
from tests.studio.sample_data import add_run


def test_forget_steps_after_the_checkpoint(tmp_path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append(StageStarted("train", total=6))
    for step in range(1, 7):
        log.append(Metric("train", name="reward_mean", value=0.1 * step, step=step))
        log.append(Progress("train", done=step, total=6, unit="steps"))
        if step % 2 == 0:
            log.append(
                ItemDone(
                    "train",
                    item_id=f"checkpoint-{step}",
                    detail={"kind": "checkpoint", "step": step},
                )
            )
    with (tmp_path / "events.jsonl").open("a") as f:
        f.write('{"type": "Metric", "stage": "tr')  # cut short by the kill
    (tmp_path / "samples.jsonl").write_text(
        "".join(json.dumps({"step": s, "completion": "x"}) + "\n" for s in (1, 4, 5))
    )
    assert forget_steps_after(tmp_path, 4) == 2 + 2 + 1 + 1 + 1
    events, _ = log.read()
    assert [e.step for e in events if isinstance(e, Metric)] == [1, 2, 3, 4]
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3, 4]
    assert isinstance(events[0], StageStarted)
    assert [
        json.loads(x)["step"] for x in (tmp_path / "samples.jsonl").read_text().splitlines()
    ] == [1, 4]
    assert checkpoint_step(tmp_path / "checkpoint-12") == 12 and checkpoint_step(None) == 0


def test_killed_run_without_checkpoint_says_it_starts_over(workspace) -> None:
    folder = add_run(workspace, "20260101-000000-kill", status="running")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with workspace.store.transaction() as conn:
        conn.execute(
            "UPDATE runs SET pid=?, updated_at=? WHERE id=?",
            (dead.pid, time.time(), "20260101-000000-kill"),
        )
    info = get_run(workspace.store, "20260101-000000-kill")
    assert info.status == "failed"
    assert "no checkpoint" in info.message and "from step 0" in info.message
    (folder / "checkpoints" / "checkpoint-3").mkdir(parents=True)
    (folder / "checkpoints" / "checkpoint-3" / "trainer_state.json").write_text("{}")
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE runs SET status='running' WHERE id=?", ("20260101-000000-kill",))
    assert "checkpoint at step 3" in get_run(workspace.store, "20260101-000000-kill").message
