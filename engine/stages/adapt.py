"""Stage 7, difficulty adaptation: a harder rewrite of each solved sample, an easier one of each unsolved, labelled by vote."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import Any

from engine.backends.base import Solver
from engine.errors import StageError
from engine.events import Event, ItemDone, ItemFailed, Progress, StageFinished, StageStarted
from engine.parsing import ParseFailure
from engine.pool import NewSample, PoolSample, insert_sample, pool
from engine.seeds import derive_seed
from engine.stages import StageContext, run_blocking
from engine.stages.probe import iter_probe, require_pool

STAGE = "adapt"
MAX_ATTEMPTS = 2
"""Instructor tries per rewrite slot, across runs too (attempts are failure rows); then the slot is given up."""


def slot_key(direction: str, round_: int, parent_id: int) -> str:
    return f"{direction}:{round_}:{parent_id}"


def rewrite_messages(
    ctx: StageContext, parent: PoolSample, direction: str, output: str
) -> list[dict[str, str]]:
    from engine.stages.synthesis_common import messages

    task = ctx.task
    original = json.dumps({"input": parent.question, "output": output}, ensure_ascii=False)
    return messages(
        f"rewrite_{direction}",
        description=task.description.strip(),
        input_format=task.input_format.strip() or "(free form)",
        output_format=task.output_format.strip(),
        original=original,
    )


def iter_adapt(
    ctx: StageContext,
    rounds: int | None = None,
    *,
    solver: Solver | None = None,
    votes: int | None = None,
) -> Iterator[Event]:
    """R rounds of probe -> rewrite -> dedup -> decontaminate -> label; round r rewrites the samples of round r-1.

    Resumes per slot. Rewrites are checked against the benchmarks like generated samples (a rewrite can
    turn into a benchmark question)."""
    from engine.stages.dedup import iter_decontaminate, iter_dedup
    from engine.stages.label import iter_label

    rounds = ctx.task.difficulty.rounds if rounds is None else rounds
    if rounds < 0:
        raise StageError(
            f"rounds = {rounds} is negative", "pass --rounds 0 (no adaptation) or more"
        )
    require_pool(ctx)
    for r in range(1, rounds + 1):
        parents = [s for s in pool(ctx.store, ctx.revision.id) if s.round == r - 1]
        if not parents:
            break
        yield from iter_probe(ctx, solver=solver, sample_ids=[s.id for s in parents])
        if ctx.should_stop():
            return
        finished = yield from _rewrite_round(ctx, r, parents)
        if finished.stopped or ctx.should_stop():
            return
        yield from iter_dedup(ctx)
        yield from iter_decontaminate(ctx)
        yield from iter_label(ctx, votes=votes)


def _rewrite_round(
    ctx: StageContext, r: int, parents: list[PoolSample]
) -> Generator[Event, None, StageFinished]:
    from engine.backends.instructor import get_instructor
    from engine.backends.solver import model_key
    from engine.stages.generate import assemble_output
    from engine.stages.synthesis_common import (
        ask_for_samples,
        attempt_key,
        failed_attempts,
        generation_schema,
        record_failure,
    )

    task, store, rev = ctx.task, ctx.store, ctx.revision.id
    key = model_key(task)
    solved = {
        row["sample_id"]: bool(row["correct"])
        for row in store.query(
            "SELECT p.sample_id, p.correct FROM probes p JOIN samples s ON s.id=p.sample_id WHERE s.revision_id=? AND p.model=?",
            (rev, key),
        )
    }
    existing = {
        row["slot_key"]
        for row in store.query(
            "SELECT slot_key FROM samples WHERE revision_id=? AND round=?", (rev, r)
        )
    }
    tries = failed_attempts(store, rev, STAGE)
    outputs = {
        row["id"]: row["generated_answer"]
        for row in store.query(
            "SELECT id, generated_answer FROM samples WHERE revision_id=?", (rev,)
        )
    }
    todo: list[tuple[PoolSample, str, str]] = []
    for p in parents:
        if p.id not in solved:
            continue  # probe failed (label not checkable): no direction to rewrite in
        direction = "harder" if solved[p.id] else "easier"
        slot = slot_key(direction, r, p.id)
        if slot not in existing and tries.get(slot, 0) < MAX_ATTEMPTS:
            todo.append((p, direction, slot))
    counts: dict[str, Any] = {
        "round": r,
        "harder": 0,
        "easier": 0,
        "failed": 0,
        "already": len(existing),
        "gave_up": sum(1 for v in tries.values() if v >= MAX_ATTEMPTS),
    }
    yield StageStarted(STAGE, total=len(todo), detail={"round": r})
    instructor: Any = get_instructor(task) if todo else None
    schema = generation_schema(task)
    settings = task.difficulty
    stopped = False
    for done, (parent, direction, slot) in enumerate(todo, 1):
        if ctx.should_stop():
            stopped = True
            break
        output = outputs.get(parent.id) or ""
        if parent.edited_at is not None or not output:
            from engine.answers import task_checker

            output = task_checker(task).render(parent.label or "")
        result = None
        for attempt in range(tries.get(slot, 0), MAX_ATTEMPTS):
            [(reply, parsed)] = ask_for_samples(
                instructor,
                [rewrite_messages(ctx, parent, direction, output)],
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=derive_seed(task.generation.seed, "adapt", parent.id, attempt),
                json_schema=schema,
            )
            if not isinstance(parsed, ParseFailure):
                result = parsed
                break
            with store.transaction() as conn:
                record_failure(conn, rev, STAGE, attempt_key(slot, attempt), parsed.reason, reply)
            counts["failed"] += 1
            yield ItemFailed(STAGE, item_id=slot, reason=f"{parsed.reason} {parsed.detail}".strip())
        if result is not None:
            sample = NewSample(
                direction,
                slot,
                result.input,
                assemble_output(ctx, result),
                round=r,
                parent_id=parent.id,
                passage_id=parent.passage_id,
            )
            with store.transaction() as conn:
                sample_id = insert_sample(conn, rev, sample)
            counts[direction] += 1
            yield ItemDone(
                STAGE,
                item_id=sample_id or slot,
                detail={"slot": slot, "parent": parent.id, "direction": direction},
            )
        yield Progress(STAGE, done=done, total=len(todo))
    finished = StageFinished(STAGE, counts=counts, stopped=stopped)
    yield finished
    return finished


def adapt(ctx: StageContext, rounds: int | None = None, **options: Any) -> StageFinished | None:
    return run_blocking(iter_adapt(ctx, rounds, **options))
