"""`sdrl instructor check`: the label stage's vote on benchmark questions, the calibration report, and the selection
setting that drops doubtful labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.evaluate import Item
from engine.instructor_check import iter_instructor_check, latest_report, report_lines
from engine.stages import StageContext, run_blocking
from tests.engine.synth_fakes import (  # noqa: F401 - _chat_prompting is an autouse fixture
    ScriptedInstructor,
    _chat_prompting,
    use_instructor,
)


def _benchmark(path: Path, n: int) -> Path:
    """A small generated GSM8K-style benchmark: 'What is a + b?' with the gold after ####."""
    path.write_text(
        "".join(
            json.dumps({"question": f"What is {i} + {i + 1}?", "answer": f"#### {2 * i + 1}"})
            + "\n"
            for i in range(n)
        ),
        encoding="utf-8",
    )
    return path


def test_check_scores_the_majority_against_gold_and_stores_the_report(
    workspace, monkeypatch
) -> None:
    # vote i of a question: the right sum for the first 3 of 4 votes on even questions, always wrong on odd ones
    def vote(messages, i):  # type: ignore[no-untyped-def]
        text = messages[-1]["content"]
        a = int(text.split("What is ")[1].split(" +")[0])
        right = a % 2 == 0 and i % 4 != 3
        return json.dumps({"reasoning": "add", "answer": 2 * a + 1 if right else 1000 + i % 4})

    use_instructor(monkeypatch, ScriptedInstructor(vote=vote))
    items = [Item(f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(10)]
    finished = run_blocking(
        iter_instructor_check(StageContext.open(workspace), "gen", items, votes=4)
    )
    assert finished is not None and not finished.stopped
    assert "table" not in finished.counts and finished.counts["questions"] == 10
    report = latest_report(workspace.store)
    assert report is not None
    assert report["questions"] == 10 and report["accuracy"] == pytest.approx(0.5)
    table = {row["level"]: row for row in report["table"]}
    # even questions: 3 of 4 votes right (0.75, correct); odd: four different wrong answers (0.25, wrong)
    assert (table[0.75]["labels"], table[0.75]["correct"]) == (5, 5)
    assert (table[0.25]["labels"], table[0.25]["correct"]) == (10, 5)
    assert table[1.0]["labels"] == 0
    assert report["suggested_low_agreement"] == 0.5  # nothing lies between 0.25 and 0.75
    lines = report_lines(report)
    assert any("generation.low_agreement = 0.5" in line for line in lines)


def test_stopped_check_stores_nothing(workspace, monkeypatch) -> None:
    use_instructor(monkeypatch, ScriptedInstructor())
    ctx = StageContext.open(workspace, should_stop=lambda: True)
    finished = run_blocking(iter_instructor_check(ctx, "gen", [Item("What is 1 + 2?", "3")]))
    assert finished is not None and finished.stopped
    assert latest_report(workspace.store) is None


def test_select_drops_low_agreement_labels_only_when_asked(workspace) -> None:
    from engine.backends.solver import model_key
    from engine.stages.select import iter_select

    ctx = StageContext.open(workspace)
    key = model_key(ctx.task)
    with workspace.store.transaction() as conn:
        for i, agreement in enumerate([1.0, 0.8, 0.3, 0.2]):
            sid = conn.execute(
                "INSERT INTO samples(revision_id, origin, slot_key, question, label, agreement, status, content_hash, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,0)",
                (ctx.revision.id, "initial", f"k{i}", f"q{i}", "1", agreement, "labelled", f"h{i}"),
            ).lastrowid
            conn.execute(
                "INSERT INTO scores(sample_id, model, k, passed, pass_rate, created_at) VALUES (?,?,?,?,?,0)",
                (sid, key, 4, 2, 0.5),
            )
    # settings changed on the task object: a changed task.toml would start a new revision with an empty pool
    task = ctx.task.model_copy(deep=True)
    task.selection.validation_share, task.selection.m = 0.0, 10
    task.generation.low_agreement = 0.5
    kept = run_blocking(iter_select(StageContext(workspace, ctx.revision, task)))
    assert kept is not None and kept.counts["train"] == 4
    assert kept.counts["dropped_low_agreement"] == 0
    task.selection.drop_low_agreement = True
    dropped = run_blocking(iter_select(StageContext(workspace, ctx.revision, task)))
    assert dropped is not None and dropped.counts["train"] == 2
    assert dropped.counts["dropped_low_agreement"] == 2
    items = workspace.store.query(
        "SELECT s.agreement FROM selection_items i JOIN samples s ON s.id=i.sample_id WHERE i.selection_id=?",
        (dropped.counts["selection"],),
    )
    assert sorted(r["agreement"] for r in items) == [0.8, 1.0]


def test_cli_refuses_a_missing_benchmark(workspace, sdrl) -> None:
    result = sdrl("instructor", "check", "--benchmark", "nowhere.jsonl", cwd=workspace.root)
    assert result.returncode == 2
    assert "error:" in result.stderr and "nowhere.jsonl" in result.stderr


@pytest.mark.slow
def test_cli_check_with_the_bundled_instructor(workspace, sdrl, tmp_path) -> None:
    bench = _benchmark(tmp_path / "bench.jsonl", 3)
    result = sdrl(
        "instructor", "check", "--benchmark", str(bench), "--limit", "2", "--votes", "2",
        "--json", cwd=workspace.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 2 and report["votes"] == 2
    assert sum(1 for row in report["table"] if row["level"] == 0.0 and row["labels"] == 2) == 1
    text = sdrl("instructor", "check", "--benchmark", str(bench), "--limit", "1", "--votes", "1",
                cwd=workspace.root)  # fmt: skip
    assert text.returncode == 0 and "agreement >=" in text.stdout
