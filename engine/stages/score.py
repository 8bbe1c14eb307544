"""Stage 8, pass-rate scoring: k sampled answers per sample; a sample's rollouts and score land in one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

from engine.answers import is_correct, task_checker
from engine.backends.base import Solver
from engine.errors import StageError
from engine.events import (
    Event,
    ItemDone,
    Metric,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.pool import stale
from engine.seeds import derive_seed
from engine.selection import histogram, pass_rate
from engine.stages import StageContext, run_blocking
from engine.stages.probe import EMPTY_HINT, require_pool, split_checkable

STAGE = "score"


class Rollout(NamedTuple):
    """One sampled answer, in the column order of the `rollouts` table."""

    sample_id: int
    model: str
    idx: int
    text: str
    answer: str | None
    correct: int


def iter_score(
    ctx: StageContext,
    k: int | None = None,
    *,
    solver: Solver | None = None,
    batch_size: int | None = None,
) -> Iterator[Event]:
    """Score every labelled, not-rejected sample not yet scored with this base model and k; resumes per sample."""
    from engine.backends.solver import model_key, shared_solver, solve_prompts

    task = ctx.task
    k = task.scoring.k if k is None else k
    if k < 1:
        raise StageError(
            f"k = {k}: scoring needs at least one answer per sample",
            "pass -k 1 or more (the paper used 64)",
        )
    samples = require_pool(ctx)
    key = model_key(task)
    done = {
        r["sample_id"]: (r["k"], r["created_at"])
        for r in ctx.store.query(
            "SELECT c.sample_id, c.k, c.created_at FROM scores c JOIN samples s ON s.id = c.sample_id "
            "WHERE s.revision_id=? AND c.model=?",
            (ctx.revision.id, key),
        )
    }
    todo = [s for s in samples if s.id not in done or done[s.id][0] != k or stale(done[s.id][1], s)]
    checker = task_checker(task)
    settings = task.scoring
    already = len(samples) - len(todo)
    yield StageStarted(STAGE, total=len(todo), detail={"model": key, "k": k, "already": already})
    counts = {"scored": 0, "failed": 0, "already": already, "rollouts": 0, "empty": 0}
    checkable = yield from split_checkable(ctx, STAGE, checker, todo)
    counts["failed"] = len(todo) - len(checkable)
    if checkable and solver is None:
        solver = shared_solver(task)
    size = batch_size or settings.batch_size
    seen_text = False
    stopped = False
    rates: list[float] = []
    # a chunk is what the solver computes in one call anyway: each sample is committed as soon as
    # its k answers exist, and a stop is seen between chunks, not after a whole batch
    cap = getattr(solver, "max_batch", None)
    chunk = size if cap is None else max(1, min(size, cap // k))
    for start in range(0, len(checkable), chunk):
        if ctx.should_stop():
            stopped = True
            break
        batch = checkable[start : start + chunk]
        assert solver is not None
        prompts = solve_prompts(task, [s.question for s in batch], solver)
        outputs = solver.generate(
            prompts,
            n=k,
            temperature=settings.temperature,
            top_p=settings.top_p,
            max_tokens=settings.max_tokens,
            seed=derive_seed(task.generation.seed, "score", batch[0].id),
        )
        seen_text = seen_text or any(t.strip() for texts in outputs for t in texts)
        if not seen_text:
            raise StageError(
                f"The base model ({key}) produced no text for {len(batch)} questions x {k}",
                EMPTY_HINT,
            )
        for s, texts in zip(batch, outputs, strict=True):
            if len(texts) != k:
                raise StageError(
                    f"The solver returned {len(texts)} answers instead of k={k}",
                    "report this as a bug",
                )
            rows = [
                Rollout(
                    s.id,
                    key,
                    idx,
                    text,
                    checker.extract(text),
                    int(is_correct(checker, text, s.label or "")),
                )
                for idx, text in enumerate(texts)
            ]
            passed = sum(r.correct for r in rows)
            rate = pass_rate(passed, k)
            with ctx.store.transaction() as conn:
                conn.execute("DELETE FROM rollouts WHERE sample_id=? AND model=?", (s.id, key))
                conn.executemany(
                    "INSERT INTO rollouts(sample_id, model, idx, text, answer, correct) VALUES (?,?,?,?,?,?)",
                    rows,
                )
                conn.execute(
                    "INSERT OR REPLACE INTO scores(sample_id, model, k, passed, pass_rate, created_at) VALUES (?,?,?,?,?,?)",
                    (s.id, key, k, passed, rate, time.time()),
                )
            rates.append(rate)
            counts["scored"] += 1
            counts["rollouts"] += k
            counts["empty"] += sum(1 for t in texts if not t.strip())
            yield ItemDone(
                STAGE, item_id=s.id, detail={"passed": passed, "k": k, "pass_rate": rate}
            )
        yield Progress(STAGE, done=counts["scored"] * k, total=len(checkable) * k, unit="rollouts")
    if counts["empty"]:
        yield StageWarning(
            STAGE,
            message=f"{counts['empty']} of {counts['rollouts']} answers were empty",
            hint=EMPTY_HINT,
        )
    if rates:
        yield Metric(STAGE, name="mean_pass_rate", value=sum(rates) / len(rates))
    counts["histogram"] = histogram(rates)  # type: ignore[assignment]
    if rates:
        from engine.stats import save_stats

        save_stats(ctx.store, ctx.revision.id)
    yield StageFinished(STAGE, counts=counts, stopped=stopped)


def score(ctx: StageContext, k: int | None = None, **options: object) -> StageFinished | None:
    return run_blocking(iter_score(ctx, k, **options))  # type: ignore[arg-type]
