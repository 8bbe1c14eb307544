"""Labelling by majority vote: stored votes, the generator's vote 0, unlabelable samples, exactly-once, any origin."""

from __future__ import annotations

import json
import time

import pytest

from engine.answers import NumericChecker
from engine.stages import StageContext, run_blocking
from engine.stages.label import iter_label, read_vote
from tests.engine.synth_fakes import (  # noqa: F401 - _chat_prompting is an autouse fixture
    ScriptedInstructor,
    _chat_prompting,
    use_instructor,
)


def _add(ws, question: str, own: str, origin: str = "initial", key: str = "initial:0") -> int:  # type: ignore[no-untyped-def]
    ctx = StageContext.open(ws)
    with ws.store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO samples(revision_id, origin, slot_key, question, generated_answer, content_hash, created_at) VALUES (?,?,?,?,?,?,?)",
            (ctx.revision.id, origin, key, question, own, key, time.time()),
        )
    return int(cur.lastrowid or 0)


def test_read_vote_renders_json_then_extracts_like_the_reward() -> None:
    checker = NumericChecker()
    assert read_vote(checker, '{"reasoning": "2 + 2", "answer": 4}') == ("2 + 2\n#### 4", "4")
    assert read_vote(checker, '{"reasoning": "r", "answer": "$1,200"}')[1] == "1200"
    assert read_vote(checker, "no json but #### 7") == ("no json but #### 7", "7")
    assert read_vote(checker, "nothing")[1] is None
    assert read_vote(checker, '{"reasoning": "r", "answer": "many"}')[1] is None


def test_votes_majority_agreement_and_rationale(workspace, monkeypatch) -> None:
    answers = iter([3, 3, 4, "oops"])
    use_instructor(
        monkeypatch,
        ScriptedInstructor(
            vote=lambda m, i: json.dumps({"reasoning": f"because {i}", "answer": next(answers)})
        ),
    )
    sample = _add(
        workspace, "What is 1 + 2?", "1 + 2 = 3\n#### 3", origin="harder", key="harder:1:9"
    )
    finished = run_blocking(iter_label(StageContext.open(workspace), votes=4))
    assert (
        finished is not None
        and finished.counts["labelled"] == 1
        and finished.counts["unparseable_votes"] == 1
    )
    row = workspace.store.query("SELECT * FROM samples WHERE id=?", (sample,))[0]
    assert row["status"] == "labelled" and row["label"] == "3"
    assert row["agreement"] == pytest.approx(3 / 5)  # own 3 + votes 3, 3 of five votes
    assert row["rationale"] == "1 + 2 = 3\n#### 3"
    votes = workspace.store.query(
        "SELECT idx, answer FROM votes WHERE sample_id=? ORDER BY idx", (sample,)
    )
    assert [(v["idx"], v["answer"]) for v in votes] == [
        (0, "3"),
        (1, "3"),
        (2, "3"),
        (3, "4"),
        (4, None),
    ]


def test_no_parseable_answer_means_unlabelable_and_counted(workspace, monkeypatch) -> None:
    use_instructor(monkeypatch, ScriptedInstructor(vote=lambda m, i: "I do not know"))
    sample = _add(workspace, "What is the colour of Tuesday?", "blue")
    finished = run_blocking(iter_label(StageContext.open(workspace), votes=2))
    assert finished is not None and finished.counts["unlabelable"] == 1
    assert (
        workspace.store.scalar("SELECT status FROM samples WHERE id=?", (sample,)) == "unlabelable"
    )
    assert (
        workspace.store.scalar("SELECT reason FROM failures WHERE stage='label'")
        == "no parseable answer"
    )


def test_labelled_once_only(workspace, monkeypatch) -> None:
    fake = use_instructor(monkeypatch, ScriptedInstructor())
    _add(workspace, "What is 2 + 3?", "#### 5")
    run_blocking(iter_label(StageContext.open(workspace), votes=3))
    calls = len(fake.calls)
    finished = run_blocking(iter_label(StageContext.open(workspace), votes=3))
    assert finished is not None and finished.counts["labelled"] == 0 and len(fake.calls) == calls
    assert workspace.store.scalar("SELECT COUNT(*) FROM votes") == 4


def test_zero_votes_uses_the_generators_answer(workspace, monkeypatch) -> None:
    fake = use_instructor(monkeypatch, ScriptedInstructor())
    _add(workspace, "What is 0 + 0?", "#### 0")
    run_blocking(iter_label(StageContext.open(workspace), votes=0))
    assert fake.calls == []
    assert workspace.store.scalar("SELECT label FROM samples") == "0"  # a zero answer is an answer
