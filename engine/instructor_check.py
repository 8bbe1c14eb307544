"""`sdrl instructor check`: the instructor labels benchmark questions by the label stage's vote; how often is it right?

The votes are the label stage's own (same prompt, schema, extraction and majority rule), without a generator's
answer. The report (a calibration table by agreement and a suggested `low_agreement`) is stored as an artifact of
the current revision so the studio can show it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from engine.answers import majority_vote, task_checker
from engine.backends.base import ask_many
from engine.calibration import (
    TARGET_ACCURACY,
    LabelCheck,
    calibration_table,
    suggest_threshold,
)
from engine.evaluate import Item
from engine.events import Event, ItemDone, ItemFailed, Progress, StageFinished, StageStarted
from engine.parsing import vote_schema
from engine.seeds import derive_seed
from engine.stages import StageContext
from engine.stages.label import read_vote, vote_request
from engine.store import Store

STAGE = "instructor_check"


def iter_instructor_check(
    ctx: StageContext,
    benchmark: str,
    items: Sequence[Item],
    votes: int | None = None,
    target: float = TARGET_ACCURACY,
) -> Iterator[Event]:
    """Vote on every item, compare the majority with the gold answer; the report is stored (see latest_report)."""
    from engine.backends.instructor import get_instructor

    gen = ctx.task.generation
    n_votes = max(1, gen.votes if votes is None else votes)
    checker = task_checker(ctx.task)
    schema = vote_schema(ctx.task.answer_type, ctx.task.choices)
    yield StageStarted(STAGE, total=len(items), detail={"benchmark": benchmark, "votes": n_votes})
    instructor = get_instructor(ctx.task)
    checks: list[LabelCheck] = []
    errors = 0
    stopped = False
    for idx, item in enumerate(items):
        if ctx.should_stop():
            stopped = True
            break
        try:
            replies = ask_many(
                instructor,
                [vote_request(ctx.task, item.question)] * n_votes,
                temperature=gen.vote_temperature,
                max_tokens=gen.vote_max_tokens,
                seed=derive_seed(gen.seed, STAGE, idx),
                json_schema=schema,
            )
        except (ValueError, RuntimeError) as exc:  # e.g. a question longer than the context
            errors += 1
            yield ItemFailed(STAGE, item_id=idx, reason=f"instructor error: {exc}")
            continue
        majority = majority_vote(checker, [read_vote(checker, r)[1] for r in replies])
        correct = majority.answer is not None and checker.equivalent(majority.answer, item.gold)
        checks.append(LabelCheck(majority.agreement, correct))
        yield ItemDone(
            STAGE,
            item_id=idx,
            detail={
                "label": majority.answer,
                "gold": item.gold,
                "agreement": majority.agreement,
                "correct": correct,
            },
        )
        yield Progress(STAGE, done=idx + 1, total=len(items), unit="questions")
    report = make_report(benchmark, n_votes, checks, errors, target)
    if checks and not stopped:
        save_report(ctx.store, ctx.revision.id, report)
    # the table stays out of the counts (a one-line summary); readers take it from latest_report()
    yield StageFinished(
        STAGE, counts={k: v for k, v in report.items() if k != "table"}, stopped=stopped
    )


def make_report(
    benchmark: str, votes: int, checks: Sequence[LabelCheck], errors: int, target: float
) -> dict[str, Any]:
    rows = calibration_table(checks)
    return {
        "benchmark": benchmark,
        "votes": votes,
        "questions": len(checks),
        "instructor_errors": errors,
        "accuracy": sum(c.correct for c in checks) / len(checks) if checks else None,
        "target": target,
        "suggested_low_agreement": suggest_threshold(rows, target),
        "table": [asdict(r) | {"accuracy": r.accuracy} for r in rows],
    }


def save_report(store: Store, revision_id: int, report: dict[str, Any]) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO artifacts(revision_id, stage, key, value, created_at) VALUES (?,?,?,?,?)",
            (revision_id, STAGE, "report", json.dumps(report), time.time()),
        )


def latest_report(store: Store) -> dict[str, Any] | None:
    """The newest stored check of any revision (the instructor rarely changes between revisions)."""
    rows = store.query(
        "SELECT value FROM artifacts WHERE stage=? ORDER BY created_at DESC LIMIT 1", (STAGE,)
    )
    return json.loads(rows[0]["value"]) if rows else None


def report_lines(report: dict[str, Any]) -> list[str]:
    """The calibration table as plain text lines (CLI and studio show the same)."""
    lines = [
        f"instructor labels vs gold on {report['benchmark']}: {report['questions']} questions, "
        f"{report['votes']} votes each",
        "agreement >=   labels   kept   right",
    ]
    for row in report["table"]:
        acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.0%}"
        lines.append(f"{row['level']:>12.2f} {row['labels']:>8} {row['share']:>6.0%} {acc:>7}")
    overall = report["accuracy"]
    lines.append(f"overall label accuracy: {'-' if overall is None else f'{overall:.0%}'}")
    suggested = report["suggested_low_agreement"]
    if suggested is None:
        lines.append(
            f"no agreement level reaches {report['target']:.0%} right labels: the instructor is too weak "
            "for this task; use a bigger instructor"
        )
    else:
        lines.append(
            f"suggested: generation.low_agreement = {suggested:g} (labels at or above it are right "
            f">= {report['target']:.0%} of the time); set selection.drop_low_agreement = true to drop the rest"
        )
    return lines
