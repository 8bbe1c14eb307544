"""Probe stage: greedy answers with the real bundled base model, resume, unlabelable labels, empty model output."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Sequence
from typing import Any

import pytest
import tomli_w

from engine.errors import StageError
from engine.events import ItemFailed, StageFinished
from engine.stages import StageContext, run_blocking
from engine.stages.probe import iter_probe
from engine.workspace import Workspace

QUESTIONS = [
    ("A baker makes 3 trays of 12 muffins and sells 20 of them. How many muffins are left?", "16"),
    ("Tom has 5 apples and buys 3 more. How many apples does he have now?", "8"),
    ("A bus ticket costs $2. How much do 4 tickets cost?", "8"),
]


def configure(ws: Workspace, **sections: dict[str, Any]) -> None:
    """Change task.toml settings (a new revision); samples must be added afterwards."""
    data = tomllib.loads(ws.task_file.read_text())
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    ws.task_file.write_text(tomli_w.dumps(data))


def add_samples(
    ws: Workspace,
    items: Sequence[tuple[str, str | None]],
    *,
    origin: str = "initial",
    status: str = "labelled",
    agreement: float = 1.0,
) -> list[int]:
    """Insert labelled samples straight into the store (no instructor)."""
    revision, _ = ws.current_revision()
    ids = []
    with ws.store.transaction() as conn:
        start = int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        for i, (question, label) in enumerate(items):
            cur = conn.execute(
                "INSERT INTO samples(revision_id, origin, round, slot_key, question, generated_answer, label, agreement, "
                "status, content_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    revision.id,
                    origin,
                    0,
                    f"{origin}:{start + i}",
                    question,
                    f"#### {label}",
                    label,
                    agreement,
                    status,
                    f"h{start + i}",
                    time.time(),
                ),
            )
            ids.append(int(cur.lastrowid or 0))
    return ids


class FakeSolver:
    """Returns canned completions (unit tests of stage logic only)."""

    name = "fake"

    def __init__(self, reply: str = "#### 16") -> None:
        self.reply = reply
        self.calls: list[int] = []

    def generate(self, prompts, *, n=1, temperature=0.0, top_p=1.0, max_tokens=512, seed=None):
        self.calls.append(len(prompts))
        return [[self.reply] * n for _ in prompts]

    def close(self) -> None:
        pass


def test_probe_logic_resume_and_unlabelable_label(workspace: Workspace) -> None:
    ids = add_samples(workspace, QUESTIONS[:2] + [("What colour is the sky?", "blue")])
    ctx = StageContext.open(workspace)
    solver = FakeSolver("3 * 12 - 20 = 16\n#### 16")
    events = list(iter_probe(ctx, solver=solver))
    finished = events[-1]
    assert isinstance(finished, StageFinished)
    assert (
        finished.counts["solved"] == 1
        and finished.counts["unsolved"] == 1
        and finished.counts["failed"] == 1
    )
    assert any(isinstance(e, ItemFailed) and e.item_id == ids[2] for e in events)
    rows = {r["sample_id"]: r for r in workspace.store.query("SELECT * FROM probes")}
    assert rows[ids[0]]["correct"] == 1 and rows[ids[0]]["answer"] == "16"
    assert rows[ids[1]]["correct"] == 0
    assert ids[2] not in rows
    assert workspace.store.scalar("SELECT reason FROM failures WHERE stage='probe'").startswith(
        "label 'blue'"
    )
    again = run_blocking(iter_probe(ctx, solver=solver))
    assert again is not None and again.counts["probed"] == 0 and again.counts["already"] == 2


def test_probe_edit_decision_reprobes_with_new_label(workspace: Workspace) -> None:
    ids = add_samples(workspace, QUESTIONS[:1])
    ctx = StageContext.open(workspace)
    solver = FakeSolver("#### 16")
    run_blocking(iter_probe(ctx, solver=solver))
    with workspace.store.transaction() as conn:
        conn.execute(
            "INSERT INTO decisions(sample_id, action, question, answer, created_at) VALUES (?,?,?,?,?)",
            (ids[0], "edit", "Edited question?", "17", time.time()),
        )
    finished = run_blocking(iter_probe(ctx, solver=solver))
    assert finished is not None and finished.counts["probed"] == 1
    assert workspace.store.scalar("SELECT correct FROM probes WHERE sample_id=?", (ids[0],)) == 0


def test_probe_empty_model_output_is_a_clear_error_and_writes_nothing(workspace: Workspace) -> None:
    add_samples(workspace, QUESTIONS)
    ctx = StageContext.open(workspace)
    with pytest.raises(StageError, match="produced no text") as info:
        run_blocking(iter_probe(ctx, solver=FakeSolver("")))
    assert "models.base" in info.value.hint
    assert workspace.store.scalar("SELECT COUNT(*) FROM probes") == 0


def test_probe_empty_pool(workspace: Workspace) -> None:
    with pytest.raises(StageError, match="No labelled samples") as info:
        run_blocking(iter_probe(StageContext.open(workspace), solver=FakeSolver()))
    assert "sdrl generate" in info.value.hint


def test_rejected_samples_are_not_probed(workspace: Workspace) -> None:
    ids = add_samples(workspace, QUESTIONS[:2])
    with workspace.store.transaction() as conn:
        conn.execute(
            "INSERT INTO decisions(sample_id, action, created_at) VALUES (?,?,?)",
            (ids[0], "reject", time.time()),
        )
    finished = run_blocking(iter_probe(StageContext.open(workspace), solver=FakeSolver()))
    assert finished is not None and finished.counts["probed"] == 1
    assert [r[0] for r in workspace.store.query("SELECT sample_id FROM probes")] == [ids[1]]
