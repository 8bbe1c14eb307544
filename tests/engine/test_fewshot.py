"""`generation.prompting = "fewshot"` with the bundled SmolLM2 through llama.cpp: the instructor continues the
demos as plain text below facts from a passage, samples are parsed from that text, votes answer in the base
model's prompt form after the demos, and previews stream the same request."""

from __future__ import annotations

import pytest

from engine.backends.base import Completion
from engine.backends.instructor import clear_cache, get_instructor
from engine.events import ItemDone, ItemFailed, StageFinished, Token
from engine.stages import StageContext
from engine.stages.generate import iter_generate
from engine.stages.preview import iter_preview
from engine.task_file import update_task_text

pytestmark = pytest.mark.slow


def _fewshot(ws) -> None:  # type: ignore[no-untyped-def]
    text = update_task_text(ws.task_file.read_text(), {"generation": {"prompting": "fewshot"}})
    ws.task_file.write_text(text)
    clear_cache()


def test_fewshot_generate_label_and_preview_with_the_bundled_instructor(
    workspace, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _fewshot(workspace)
    ctx = StageContext.open(workspace)
    instructor = get_instructor(ctx.task)
    asked: list[Completion] = []
    complete = instructor.complete

    def spy(request: Completion, **sampling):  # type: ignore[no-untyped-def]
        asked.append(request)
        return complete(request, **sampling)

    monkeypatch.setattr(instructor, "complete", spy)
    events = list(iter_generate(ctx, n=3, votes=2))
    counts = {e.stage: e.counts for e in events if isinstance(e, StageFinished)}
    assert counts["generate"]["generated"] + counts["generate"]["gave_up"] == 3
    assert counts["generate"]["generated"] >= 1, counts

    writes = [r for r in asked if r.prompt.endswith("Question:")]
    votes = [r for r in asked if r.prompt.endswith("Answer:")]
    assert writes and votes and len(writes) + len(votes) == len(asked)
    demo = ctx.task.demos[0]
    assert all(f"Question: {demo.input}" in r.prompt for r in asked)  # the demos are the prompt
    assert all("Facts you may use:" in r.prompt for r in writes)  # grounded in a passage
    assert all(r.stop == ("\n\n", "\nQuestion:") for r in asked)
    assert "JSON" not in writes[0].prompt and "JSON" not in votes[0].prompt

    rows = workspace.store.query("SELECT id, question, status FROM samples")
    assert rows
    for row in rows:
        assert len(row["question"]) >= 10
        assert "Answer:" not in row["question"] and "Question:" not in row["question"]
        assert "\n\n" not in row["question"]  # cut at the blank line before the next example
    labelled = [r for r in rows if r["status"] in ("labelled", "unlabelable")]
    assert labelled and counts["label"]["labelled"] + counts["label"]["unlabelable"] == len(
        labelled
    )
    for row in labelled:
        texts = [
            v["text"]
            for v in workspace.store.query(
                "SELECT text FROM votes WHERE sample_id=? AND idx>0 ORDER BY idx", (row["id"],)
            )
        ]
        assert len(texts) == 2  # two votes beside the generator's own answer
        assert all("\n\n" not in t and not t.lstrip().startswith("{") for t in texts)
    assert len(votes) == 2 * len(labelled)

    events = list(iter_preview(StageContext.open(workspace), 1, seed=5, ingest=False))
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert len(tokens) > 3  # streamed piece by piece
    finished = [e for e in events if isinstance(e, ItemDone | ItemFailed)]
    assert len(finished) == 1
    if isinstance(finished[0], ItemDone):
        assert finished[0].detail["input"] in "".join(tokens)
    clear_cache()
