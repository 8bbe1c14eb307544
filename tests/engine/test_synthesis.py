"""Stages 1-5 over the real store and corpus with a scripted instructor: artifacts, resume, failures, previews."""

from __future__ import annotations

import json

import pytest

from engine.events import ItemDone, StageFinished, StageWarning, Token
from engine.stages import StageContext, run_blocking
from engine.stages.generate import iter_generate, iter_generate_samples, iter_prepare
from engine.stages.preview import iter_preview, keep_preview
from tests.engine.synth_fakes import (  # noqa: F401 - _chat_prompting is an autouse fixture
    ScriptedInstructor,
    _chat_prompting,
    use_instructor,
)


def _finished(events) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e.stage: e.counts for e in events if isinstance(e, StageFinished)}


def test_generate_chain_stores_labelled_samples_with_passages(workspace, monkeypatch) -> None:
    fake = use_instructor(monkeypatch, ScriptedInstructor())
    ctx = StageContext.open(workspace)
    events = list(iter_generate(ctx, n=4, votes=2))
    counts = _finished(events)
    assert counts["corpus"]["added"] >= 10
    assert counts["generate"]["generated"] == 4
    assert counts["label"]["labelled"] == 4
    rows = workspace.store.query("SELECT * FROM samples ORDER BY id")
    assert [r["slot_key"] for r in rows] == [f"initial:{i}" for i in range(4)]
    assert all(r["passage_id"] is not None and r["status"] == "labelled" for r in rows)
    assert rows[0]["label"] == "5" and rows[0]["agreement"] == pytest.approx(
        1.0
    )  # own 5, votes 5, 5
    assert rows[2]["label"] == "5" and rows[2]["agreement"] == pytest.approx(
        2 / 3
    )  # own 7 loses to 5, 5
    assert workspace.store.scalar("SELECT COUNT(*) FROM votes") == 12
    assert json.loads(workspace.store.get_artifact(ctx.revision.id, "keywords", "keywords"))[
        "terms"
    ] == ["bus", "fares", "market"]
    order = json.loads(workspace.store.get_artifact(ctx.revision.id, "retrieval", "order"))[
        "passages"
    ]
    assert rows[0]["passage_id"] == order[0] and len(set(order)) == len(order)
    assert (
        workspace.store.get_artifact(ctx.revision.id, "pattern", "pattern")
        == "two steps, numeric answer"
    )
    passage = workspace.store.scalar("SELECT text FROM passages WHERE id=?", (order[0],))
    first_prompt = next(m for m in fake.prompts if "Passage:" in m[-1]["content"])
    assert passage[:200] in first_prompt[-1]["content"]
    assert "two steps, numeric answer" in first_prompt[0]["content"]  # pattern in the shared prefix

    calls = len(fake.calls)
    again = _finished(iter_generate(StageContext.open(workspace), n=4, votes=2))
    assert len(fake.calls) == calls  # everything reused: no instructor call at all
    assert again["generate"]["existing"] == 4 and again["label"]["labelled"] == 0


def test_stop_between_items_then_resume_without_duplicates(workspace, monkeypatch) -> None:
    use_instructor(monkeypatch, ScriptedInstructor())
    made = []
    ctx = StageContext.open(workspace, should_stop=lambda: len(made) >= 2)
    run_blocking(iter_prepare(ctx))
    for event in iter_generate_samples(ctx, n=5):
        if isinstance(event, ItemDone):
            made.append(event.item_id)
        if isinstance(event, StageFinished):
            assert event.stopped
    assert workspace.store.scalar("SELECT COUNT(*) FROM samples") == 2
    finished = run_blocking(iter_generate_samples(StageContext.open(workspace), n=5))
    assert finished is not None and finished.counts["generated"] == 3
    keys = [r[0] for r in workspace.store.query("SELECT slot_key FROM samples ORDER BY slot_key")]
    assert keys == [f"initial:{i}" for i in range(5)]


def test_parse_failures_are_counted_retried_and_bounded(workspace, monkeypatch) -> None:
    def flaky(messages, i):  # type: ignore[no-untyped-def]
        if i % 2 == 0:
            return ["", "not json", '{"input": "only"}', "[1]", "{" * 50][(i // 2) % 5]
        return json.dumps({"input": f"Question number {i} about buses?", "output": "#### 4"})

    use_instructor(monkeypatch, ScriptedInstructor(generate=flaky))
    finished = run_blocking(iter_generate(StageContext.open(workspace), n=3, votes=1))
    counts = _finished(list(iter_generate(StageContext.open(workspace), n=3, votes=1)))
    assert finished is not None
    assert workspace.store.scalar("SELECT COUNT(*) FROM samples") == 3
    failures = workspace.store.query("SELECT item_key, reason FROM failures WHERE stage='generate'")
    assert len(failures) == 3
    assert {f["reason"] for f in failures} == {"empty", "not_json", "missing_field"}
    assert counts["generate"]["existing"] == 3


def test_a_slot_gives_up_after_three_attempts(workspace, monkeypatch) -> None:
    fake = use_instructor(monkeypatch, ScriptedInstructor(generate=lambda m, i: "garbage"))
    counts = _finished(iter_generate(StageContext.open(workspace), n=2, votes=1))
    assert counts["generate"] == {"generated": 0, "parse_failures": 6, "gave_up": 2, "existing": 0}
    calls = sum(1 for k, _ in fake.calls if k == "generate")
    run_blocking(iter_generate(StageContext.open(workspace), n=2, votes=1))
    assert (
        sum(1 for k, _ in fake.calls if k == "generate") == calls
    )  # not retried forever across runs


def test_empty_corpus_warns_and_generates_ungrounded(workspace, monkeypatch) -> None:
    for f in workspace.corpus_dir.iterdir():
        f.unlink()
    use_instructor(monkeypatch, ScriptedInstructor())
    events = list(iter_generate(StageContext.open(workspace), n=1, votes=0))
    assert any(isinstance(e, StageWarning) and "corpus is empty" in e.message for e in events)
    row = workspace.store.query("SELECT passage_id, status, label FROM samples")[0]
    assert row["passage_id"] is None and row["status"] == "labelled" and row["label"] == "5"


def test_preview_streams_and_keeps_only_on_request(workspace, monkeypatch) -> None:
    use_instructor(monkeypatch, ScriptedInstructor())
    ctx = StageContext.open(workspace)
    events = list(iter_preview(ctx, 2, seed=1))
    tokens = [e for e in events if isinstance(e, Token)]
    done = [e for e in events if isinstance(e, ItemDone) and e.stage == "preview"]
    assert len(done) == 2 and len(tokens) > 10
    assert "".join(t.text for t in tokens if t.item_id == 0).startswith('{"input"')
    assert done[0].detail["passage"] and done[0].detail["input"].startswith("Sam has")
    assert workspace.store.scalar("SELECT COUNT(*) FROM samples") == 0
    first = keep_preview(ctx, done[0].detail)
    assert keep_preview(ctx, done[0].detail) == first  # idempotent
    row = workspace.store.query(
        "SELECT origin, slot_key, status FROM samples WHERE id=?", (first,)
    )[0]
    assert (
        row["origin"] == "manual"
        and row["slot_key"].startswith("preview:")
        and row["status"] == "pending"
    )


def test_an_instructor_error_fails_the_item_not_the_stage(workspace, monkeypatch) -> None:
    def boom(messages, i):  # type: ignore[no-untyped-def]
        if i == 0:
            raise ValueError("Requested tokens (5000) exceed context window of 4096")
        return json.dumps({"input": f"How many buses run on route {i}?", "output": "#### 5"})

    use_instructor(monkeypatch, ScriptedInstructor(generate=boom))
    counts = _finished(iter_generate(StageContext.open(workspace), n=2, votes=1))
    assert counts["generate"]["generated"] == 2 and counts["generate"]["parse_failures"] == 1
    failure = workspace.store.query(
        "SELECT item_key, reason, raw FROM failures WHERE stage='generate'"
    )[0]
    assert failure["reason"] == "instructor_error" and "context window" in failure["raw"]
