"""Stage 6, difficulty probe: one greedy answer per labelled sample; solved or not, stored in `probes`."""

from __future__ import annotations

import time
from collections.abc import Collection, Generator, Iterator

from engine.answers import AnswerChecker, is_correct, task_checker
from engine.backends.base import Solver
from engine.errors import StageError
from engine.events import Event, ItemDone, ItemFailed, Progress, StageFinished, StageStarted
from engine.pool import PoolSample, label_checkable, pool, stale
from engine.stages import StageContext, run_blocking
from engine.stages.synthesis_common import record_failure

STAGE = "probe"
EMPTY_HINT = (
    'check models.base and models.prompt_format (a chat model may need "chat", a base model "plain"), '
    "and that difficulty.probe_max_tokens / scoring.max_tokens are not tiny"
)


def split_checkable(
    ctx: StageContext,
    stage: str,
    checker: AnswerChecker,
    todo: list[PoolSample],
) -> Generator[Event, None, list[PoolSample]]:
    """The samples of `todo` whose label the checker can read (the generator's return value: use
    `checkable = yield from split_checkable(...)`); each of the rest is recorded and yielded as ItemFailed."""
    checkable: list[PoolSample] = []
    for s in todo:
        if label_checkable(checker, s.label):
            checkable.append(s)
            continue
        reason = f"label {s.label!r} cannot be checked as a {ctx.task.answer_type} answer"
        with ctx.store.transaction() as conn:
            record_failure(conn, ctx.revision.id, stage, f"sample:{s.id}", reason, s.label or "")
        yield ItemFailed(stage, item_id=s.id, reason=reason)
    return checkable


def require_pool(ctx: StageContext) -> list[PoolSample]:
    samples = pool(ctx.store, ctx.revision.id)
    if not samples:
        raise StageError(
            f"No labelled samples in task revision {ctx.revision.id}",
            "run `sdrl generate` (or `sdrl run`) first; a changed task.toml starts a new revision with an empty pool",
        )
    return samples


def iter_probe(
    ctx: StageContext,
    *,
    solver: Solver | None = None,
    sample_ids: Collection[int] | None = None,
    batch_size: int | None = None,
) -> Iterator[Event]:
    """Probe every labelled, not-rejected sample (or those in `sample_ids`) not yet probed by this base model."""
    from engine.backends.solver import model_key, shared_solver, solve_prompts

    task = ctx.task
    samples = require_pool(ctx)
    if sample_ids is not None:
        wanted = set(sample_ids)
        samples = [s for s in samples if s.id in wanted]
    key = model_key(task)
    done = {
        r["sample_id"]: r["created_at"]
        for r in ctx.store.query(
            "SELECT p.sample_id, p.created_at FROM probes p JOIN samples s ON s.id = p.sample_id "
            "WHERE s.revision_id=? AND p.model=?",
            (ctx.revision.id, key),
        )
    }
    todo = [s for s in samples if s.id not in done or stale(done[s.id], s)]
    checker = task_checker(task)
    yield StageStarted(
        STAGE, total=len(todo), detail={"model": key, "already": len(samples) - len(todo)}
    )
    counts = {
        "probed": 0,
        "solved": 0,
        "unsolved": 0,
        "failed": 0,
        "already": len(samples) - len(todo),
    }
    checkable = yield from split_checkable(ctx, STAGE, checker, todo)
    counts["failed"] = len(todo) - len(checkable)
    if checkable and solver is None:
        solver = shared_solver(task)
    size = batch_size or task.scoring.batch_size
    seen_text = False
    stopped = False
    for start in range(0, len(checkable), size):
        if ctx.should_stop():
            stopped = True
            break
        batch = checkable[start : start + size]
        assert solver is not None
        prompts = solve_prompts(task, [s.question for s in batch], solver)
        texts = [
            r[0]
            for r in solver.generate(
                prompts, n=1, temperature=0.0, max_tokens=task.difficulty.probe_max_tokens
            )
        ]
        seen_text = seen_text or any(t.strip() for t in texts)
        if not seen_text:
            raise StageError(
                f"The base model ({key}) produced no text for {len(batch)} questions", EMPTY_HINT
            )
        for s, text in zip(batch, texts, strict=True):
            correct = is_correct(checker, text, s.label or "")
            with ctx.store.transaction() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO probes(sample_id, model, text, answer, correct, created_at) VALUES (?,?,?,?,?,?)",
                    (s.id, key, text, checker.extract(text), int(correct), time.time()),
                )
            counts["probed"] += 1
            counts["solved" if correct else "unsolved"] += 1
            yield ItemDone(STAGE, item_id=s.id, detail={"correct": correct})
        yield Progress(STAGE, done=counts["probed"] + counts["failed"], total=len(todo))
    yield StageFinished(STAGE, counts=counts, stopped=stopped)


def probe(ctx: StageContext, **options: object) -> StageFinished | None:
    return run_blocking(iter_probe(ctx, **options))  # type: ignore[arg-type]
