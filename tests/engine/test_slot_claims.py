"""Concurrent `generate` processes claim a slot before generating it: none is generated twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from engine.events import StageFinished
from engine.stages import StageContext
from engine.stages.claims import SlotClaims
from engine.stages.generate import iter_generate_samples
from engine.store import Store
from tests.engine.synth_fakes import (  # noqa: F401 - _chat_prompting is an autouse fixture
    ScriptedInstructor,
    _chat_prompting,
    use_instructor,
)


def _hold(root, key: str, revision: int) -> subprocess.Popen[str]:
    """Another process that holds the claim on `key` (it dies holding it, as a killed run would)."""
    code = (
        "import sys, time; from pathlib import Path; from engine.stages.claims import SlotClaims\n"
        "c = SlotClaims(Path(sys.argv[1]), 'generate', int(sys.argv[3]))\n"
        "assert c.claim(sys.argv[2]); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), key, str(revision)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_claimed_and_finished_slots_are_not_generated_again(workspace, monkeypatch) -> None:
    ctx = StageContext.open(workspace)
    rev = ctx.revision.id
    other = Store(workspace.db_path)

    def generate(messages, i: int) -> str:  # the other process finishes slot 2 meanwhile
        with other.transaction() as conn:
            conn.execute(
                "INSERT INTO samples(revision_id, origin, slot_key, question, content_hash, created_at) "
                "VALUES (?, 'initial', 'initial:2', 'theirs', 'h2', ?)",
                (rev, time.time()),
            )
        return json.dumps({"input": "How many apples?", "output": "#### 4", "answer": 4})

    fake = use_instructor(monkeypatch, ScriptedInstructor(generate=generate))
    holder = _hold(workspace.root, "initial:0", rev)
    try:
        events = list(iter_generate_samples(ctx, n=3))
    finally:
        holder.kill()
        holder.wait()
        other.close()
    finished = [e for e in events if isinstance(e, StageFinished)][-1]
    assert [k for k, _ in fake.calls].count("generate") == 1  # slot 1 only
    assert finished.counts["claimed_elsewhere"] == 2
    slots = [r[0] for r in workspace.store.query("SELECT slot_key FROM samples ORDER BY slot_key")]
    assert slots == ["initial:1", "initial:2"]
    # the holder died (as after kill -9): its claim went with it, so a rerun takes slot 0
    assert SlotClaims(workspace.root, "generate", rev).claim("initial:0")
