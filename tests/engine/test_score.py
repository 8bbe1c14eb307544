"""Score stage: rollouts and scores with the real base model, one transaction per sample, resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine.errors import StageError
from engine.stages import StageContext, run_blocking
from engine.stages.probe import iter_probe
from engine.stages.score import iter_score
from engine.workspace import Workspace
from tests.engine.test_probe import QUESTIONS, FakeSolver, add_samples, configure


def test_score_logic_with_edit_and_k_change(workspace: Workspace) -> None:
    ids = add_samples(workspace, QUESTIONS[:2])
    ctx = StageContext.open(workspace)
    finished = run_blocking(iter_score(ctx, 3, solver=FakeSolver("#### 16")))
    assert (
        finished is not None
        and finished.counts["scored"] == 2
        and finished.counts["histogram"][9] == 1
    )
    rates = {r[0]: r[1] for r in workspace.store.query("SELECT sample_id, pass_rate FROM scores")}
    assert rates == {ids[0]: 1.0, ids[1]: 0.0}
    assert workspace.store.scalar("SELECT COUNT(*) FROM rollouts") == 6
    # nothing to do on a re-run with the same k ...
    again = run_blocking(iter_score(ctx, 3, solver=FakeSolver("#### 8")))
    assert again is not None and again.counts["scored"] == 0 and again.counts["already"] == 2
    # ... but a new k re-scores (old rollouts replaced, not mixed in)
    run_blocking(iter_score(ctx, 2, solver=FakeSolver("#### 8")))
    assert workspace.store.scalar("SELECT COUNT(*) FROM rollouts") == 4
    assert (
        workspace.store.scalar("SELECT pass_rate FROM scores WHERE sample_id=?", (ids[1],)) == 1.0
    )


def test_score_rejects_bad_k(workspace: Workspace) -> None:
    add_samples(workspace, QUESTIONS[:1])
    with pytest.raises(StageError, match="k = 0") as info:
        run_blocking(iter_score(StageContext.open(workspace), 0, solver=FakeSolver()))
    assert "-k" in info.value.hint
    assert workspace.store.scalar("SELECT COUNT(*) FROM scores") == 0


@pytest.mark.slow
def test_probe_and_score_with_the_real_base_model(workspace: Workspace) -> None:
    configure(
        workspace, scoring={"max_tokens": 24, "batch_size": 2}, difficulty={"probe_max_tokens": 24}
    )
    ids = add_samples(workspace, QUESTIONS[:2])
    ctx = StageContext.open(workspace)
    probed = run_blocking(iter_probe(ctx))
    assert probed is not None and probed.counts["probed"] == 2
    probes = workspace.store.query("SELECT * FROM probes ORDER BY sample_id")
    assert [p["sample_id"] for p in probes] == ids and all(
        p["model"] == "gemma3-270m" for p in probes
    )
    assert any(p["text"].strip() for p in probes)  # the real model says something
    assert all("Question:" not in p["text"] for p in probes)  # stopped at the next question
    scored = run_blocking(iter_score(ctx, 4))
    assert scored is not None and scored.counts["scored"] == 2 and scored.counts["rollouts"] == 8
    for sid in ids:
        rollouts = workspace.store.query(
            "SELECT * FROM rollouts WHERE sample_id=? ORDER BY idx", (sid,)
        )
        assert [r["idx"] for r in rollouts] == [0, 1, 2, 3]
        score = workspace.store.query("SELECT * FROM scores WHERE sample_id=?", (sid,))[0]
        assert score["k"] == 4 and score["passed"] == sum(r["correct"] for r in rollouts)
        assert score["pass_rate"] == score["passed"] / 4


@pytest.mark.slow
def test_sigkill_during_score_then_rerun_resumes(workspace: Workspace) -> None:
    configure(workspace, scoring={"max_tokens": 12, "batch_size": 1, "k": 2})
    add_samples(workspace, QUESTIONS * 2)  # six samples, one per generate call
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [sys.executable, "-m", "engine.cli.main", "-w", str(workspace.root), "score", "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = sqlite3.connect(workspace.db_path, timeout=30)
    try:
        deadline = time.time() + 300
        while db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] < 2:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
            assert time.time() < deadline, "no sample scored in time"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = {r[0]: r[1] for r in db.execute("SELECT sample_id, created_at FROM scores")}
    assert 2 <= len(first) < 6
    # a sample is scored or not: every scored sample has exactly k rollouts, no orphan rollouts
    orphans = db.execute(
        "SELECT COUNT(*) FROM rollouts WHERE sample_id NOT IN (SELECT sample_id FROM scores)"
    ).fetchone()[0]
    assert orphans == 0
    assert db.execute("SELECT COUNT(*) FROM rollouts").fetchone()[0] == 2 * len(first)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = {r[0]: r[1] for r in db.execute("SELECT sample_id, created_at FROM scores")}
    assert len(after) == 6
    assert all(
        after[sid] == created for sid, created in first.items()
    )  # finished samples were not re-scored
    assert db.execute("SELECT COUNT(*) FROM rollouts").fetchone()[0] == 12
    db.close()
