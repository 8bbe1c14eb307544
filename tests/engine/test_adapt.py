"""Adaptation logic: direction by probe result, lineage, rounds, resume and bounded retries (fake instructor and solver)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine.backends.instructor as instructor_module
from engine.errors import StageError
from engine.events import StageFinished
from engine.queries.lineage import children, lineage
from engine.stages import StageContext, run_blocking
from engine.stages.adapt import iter_adapt
from engine.workspace import Workspace
from tests.engine.test_probe import QUESTIONS, FakeSolver, add_samples


class FakeInstructor:
    """Answers every rewrite request with a new question whose answer is 16; `broken` replies are not JSON."""

    name = "fake"

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.error: Exception | None = None
        """Raised by the next chat call (once), as a backend does for a prompt beyond its context."""
        self.requests: list[str] = []

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float,
        max_tokens: int,
        seed: Any = None,
        json_schema: Any = None,
    ) -> str:
        text = messages[-1]["content"]
        self.requests.append(text)
        assert json_schema is not None and "input" in json_schema["properties"]
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        if self.broken:
            return "sorry, no JSON today"
        kind = "harder" if "HARDER" in text else "easier"
        return json.dumps(
            {
                "input": f"A {kind} question number {len(self.requests)} about muffins?",
                "output": "Step by step.\n#### 16",
                "answer": "16",
            }
        )


@pytest.fixture
def fake_instructor(monkeypatch: pytest.MonkeyPatch) -> FakeInstructor:
    fake = FakeInstructor()
    monkeypatch.setattr(instructor_module, "get_instructor", lambda task: fake)
    return fake


def test_one_round_harder_for_solved_easier_for_unsolved(
    workspace: Workspace, fake_instructor: FakeInstructor
) -> None:
    ids = add_samples(
        workspace, QUESTIONS[:2]
    )  # labels 16 and 8; the fake solver always answers 16
    ctx = StageContext.open(workspace)
    events = list(iter_adapt(ctx, 1, solver=FakeSolver("#### 16"), votes=0))
    adapt_done = [e for e in events if isinstance(e, StageFinished) and e.stage == "adapt"]
    assert adapt_done[0].counts["harder"] == 1 and adapt_done[0].counts["easier"] == 1
    rows = {
        r["slot_key"]: r
        for r in workspace.store.query("SELECT * FROM samples WHERE origin != 'initial'")
    }
    assert set(rows) == {f"harder:1:{ids[0]}", f"easier:1:{ids[1]}"}
    harder = rows[f"harder:1:{ids[0]}"]
    assert harder["origin"] == "harder" and harder["parent_id"] == ids[0] and harder["round"] == 1
    assert (
        harder["status"] == "labelled" and harder["label"] == "16"
    )  # labelled by the synthesis labeller
    assert "HARDER" in fake_instructor.requests[0] and "EASIER" in fake_instructor.requests[1]
    assert QUESTIONS[0][0] in fake_instructor.requests[0]  # the original is in the prompt
    chain = lineage(workspace.store, harder["id"])
    assert [c["id"] for c in chain] == [ids[0], harder["id"]]
    assert chain[0]["solved"] == 1 and chain[1]["origin"] == "harder"
    assert children(workspace.store, ids[0]) == [harder["id"]]
    # resume: nothing new on a re-run
    asked = len(fake_instructor.requests)
    run_blocking(iter_adapt(ctx, 1, solver=FakeSolver("#### 16"), votes=0))
    assert len(fake_instructor.requests) == asked
    assert workspace.store.scalar("SELECT COUNT(*) FROM samples") == 4


def test_second_round_rewrites_the_first_rounds_rewrites(
    workspace: Workspace, fake_instructor: FakeInstructor
) -> None:
    ids = add_samples(workspace, QUESTIONS[:1])
    ctx = StageContext.open(workspace)
    run_blocking(iter_adapt(ctx, 2, solver=FakeSolver("#### 16"), votes=0))
    rows = workspace.store.query("SELECT id, origin, parent_id, round FROM samples ORDER BY id")
    assert [(r["origin"], r["round"]) for r in rows] == [
        ("initial", 0),
        ("harder", 1),
        ("harder", 2),
    ]
    assert rows[2]["parent_id"] == rows[1]["id"]
    assert [c["id"] for c in lineage(workspace.store, rows[2]["id"])] == [
        ids[0],
        rows[1]["id"],
        rows[2]["id"],
    ]


def test_unparseable_rewrites_are_counted_and_retried_a_bounded_number_of_times(
    workspace: Workspace, fake_instructor: FakeInstructor
) -> None:
    add_samples(workspace, QUESTIONS[:1])
    fake_instructor.broken = True
    ctx = StageContext.open(workspace)
    first = [
        e
        for e in iter_adapt(ctx, 1, solver=FakeSolver(), votes=0)
        if isinstance(e, StageFinished) and e.stage == "adapt"
    ]
    assert first[0].counts["failed"] == 2 and first[0].counts["harder"] == 0
    assert workspace.store.scalar("SELECT COUNT(*) FROM failures WHERE stage='adapt'") == 2
    asked = len(fake_instructor.requests)
    run_blocking(iter_adapt(ctx, 1, solver=FakeSolver(), votes=0))
    assert len(fake_instructor.requests) == asked  # given up, not retried forever
    assert workspace.store.scalar("SELECT COUNT(*) FROM samples") == 1


def test_an_instructor_error_fails_the_attempt_not_the_stage(
    workspace: Workspace, fake_instructor: FakeInstructor
) -> None:
    add_samples(workspace, QUESTIONS[:1])
    fake_instructor.error = ValueError("Requested tokens (5000) exceed context window of 4096")
    ctx = StageContext.open(workspace)
    finished = [
        e
        for e in iter_adapt(ctx, 1, solver=FakeSolver("#### 16"), votes=0)
        if isinstance(e, StageFinished) and e.stage == "adapt"
    ]
    assert finished[0].counts["failed"] == 1 and finished[0].counts["harder"] == 1  # the retry
    failure = workspace.store.query(
        "SELECT item_key, reason, raw FROM failures WHERE stage='adapt'"
    )
    assert [(f["item_key"].rsplit("#", 1)[1], f["reason"]) for f in failure] == [
        ("0", "instructor_error")
    ]
    assert "context window" in failure[0]["raw"]


def test_adapt_needs_a_pool(workspace: Workspace, fake_instructor: FakeInstructor) -> None:
    with pytest.raises(StageError, match="No labelled samples"):
        run_blocking(iter_adapt(StageContext.open(workspace), 1, solver=FakeSolver(), votes=0))


def test_rewrites_are_decontaminated(workspace: Workspace, fake_instructor: FakeInstructor) -> None:
    """A rewrite that turns into a benchmark question is caught like a generated one, before labelling."""
    (workspace.root / "bench.jsonl").write_text(
        json.dumps({"question": "Here is a harder question number 1 about muffins today."}) + "\n"
    )
    workspace.task_file.write_text(
        workspace.task_file.read_text().replace(
            "[generation]",
            '[generation]\ndecontaminate_file = "bench.jsonl"\ndecontaminate_ngram = 6',
        )
    )
    ids = add_samples(workspace, QUESTIONS[:2])
    run_blocking(iter_adapt(StageContext.open(workspace), 1, solver=FakeSolver("#### 16"), votes=0))
    status = {
        r["slot_key"]: r["status"]
        for r in workspace.store.query("SELECT slot_key, status FROM samples WHERE round=1")
    }
    assert status == {f"harder:1:{ids[0]}": "contaminated", f"easier:1:{ids[1]}": "labelled"}
