"""Exact and near-duplicate removal and benchmark decontamination (pure functions and the stages on a real store)."""

from __future__ import annotations

import json
import time

from engine.stages import StageContext, run_blocking
from engine.stages.dedup import find_duplicates, iter_decontaminate, iter_dedup, jaccard, shingles


def test_jaccard_of_shingles_by_hand() -> None:
    a = shingles("one two three four")  # (one two three), (two three four)
    b = shingles("one two three five")  # (one two three), (two three five)
    assert jaccard(a, b) == 1 / 3
    assert jaccard(a, a) == 1.0


def test_find_duplicates_keeps_the_first() -> None:
    items = [
        (1, "A baker makes 3 trays of 12 muffins and sells 20. How many are left?"),
        (2, "a baker makes 3 trays of 12 muffins and sells 20.   How many are LEFT?"),
        (3, "A baker makes 3 trays of 12 muffins and sells 20 of them. How many are left?"),
        (4, "A bus leaves at 9:15 and arrives at 10:05. How long is the trip?"),
    ]
    assert find_duplicates(items, 0.6) == {2: (1, "exact"), 3: (1, "near")}
    assert find_duplicates(items, 0.99) == {2: (1, "exact")}


def _add(ws, ctx, questions, start=0):  # type: ignore[no-untyped-def]
    with ws.store.transaction() as conn:
        for i, q in enumerate(questions, start):
            conn.execute(
                "INSERT INTO samples(revision_id, origin, slot_key, question, content_hash, created_at, status) VALUES (?,?,?,?,?,?,?)",
                (
                    ctx.revision.id,
                    "initial",
                    f"initial:{i}",
                    q,
                    str(i),
                    time.time(),
                    "labelled" if i % 2 else "pending",
                ),
            )


def test_dedup_stage_marks_and_counts(workspace) -> None:
    ctx = StageContext.open(workspace)
    _add(
        workspace,
        ctx,
        ["How many eggs are in 3 dozen?", "how many eggs are in 3 dozen?", "What is 7 times 8?"],
    )
    finished = run_blocking(iter_dedup(ctx))
    assert finished is not None and finished.counts == {
        "checked": 3,
        "exact_duplicates": 1,
        "near_duplicates": 0,
    }
    statuses = [r[0] for r in workspace.store.query("SELECT status FROM samples ORDER BY id")]
    assert statuses == ["pending", "duplicate", "pending"]
    assert run_blocking(iter_dedup(ctx)).counts["exact_duplicates"] == 0  # type: ignore[union-attr]


def test_decontaminate_against_a_benchmark_file(workspace) -> None:
    bench = workspace.root / "bench.jsonl"
    bench.write_text(
        json.dumps(
            {"question": "Janet's ducks lay 16 eggs per day and she eats three for breakfast"}
        )
        + "\n"
    )
    text = workspace.task_file.read_text().replace(
        "[generation]", '[generation]\ndecontaminate_file = "bench.jsonl"\ndecontaminate_ngram = 6'
    )
    workspace.task_file.write_text(text)
    ctx = StageContext.open(workspace)
    _add(
        workspace,
        ctx,
        [
            "Every day Janet's ducks lay 16 eggs per day. How many in a week?",
            "Tom has 16 eggs and ducks.",
        ],
    )
    finished = run_blocking(iter_decontaminate(ctx))
    assert finished is not None and finished.counts == {"checked": 2, "contaminated": 1}
    assert [r[0] for r in workspace.store.query("SELECT status FROM samples ORDER BY id")] == [
        "contaminated",
        "labelled",
    ]


def test_decontamination_is_on_by_default_against_builtin_and_evaluated_benchmarks(
    workspace,
) -> None:
    import time

    bench = workspace.root / "evaluated.jsonl"
    bench.write_text(
        json.dumps({"question": "Zorblat keeps seven goats and buys twice as many sheep"}) + "\n"
    )
    text = workspace.task_file.read_text().replace(
        "[generation]", "[generation]\ndecontaminate_ngram = 6"
    )
    workspace.task_file.write_text(text)
    ctx = StageContext.open(workspace)
    _add(
        workspace,
        ctx,
        ["Each spring Zorblat keeps seven goats and buys twice as many sheep.", "Tom's hat."],
    )
    clean = run_blocking(iter_decontaminate(ctx))  # checked against the built-in GSM8K only
    assert clean is not None and clean.counts == {"checked": 2, "contaminated": 0}
    with (
        workspace.store.transaction() as conn
    ):  # what `sdrl eval run --benchmark evaluated.jsonl` records
        conn.execute(
            "INSERT INTO evals(benchmark, model, n, correct, accuracy, created_at) VALUES (?, 'm', 1, 0, 0, ?)",
            (str(bench.resolve()), time.time()),
        )
    finished = run_blocking(iter_decontaminate(ctx))
    assert finished is not None and finished.counts == {"checked": 2, "contaminated": 1}
    _add(workspace, ctx, ["A robe takes 2 bolts of blue fiber and some red fiber."], 2)
    gsm8k = run_blocking(
        iter_decontaminate(ctx)
    )  # the shipped GSM8K test split: its second question
    assert gsm8k is not None and gsm8k.counts == {"checked": 2, "contaminated": 1}
    workspace.task_file.write_text(
        text.replace("[generation]", "[generation]\ndecontaminate = false")
    )
    _add(workspace, ctx, ["A robe takes 2 bolts of blue fiber and some green fiber."], 4)
    off = run_blocking(iter_decontaminate(StageContext.open(workspace)))
    assert off is not None and off.counts == {"skipped": 1}
