"""Stage 4: N new samples, one passage and one instructor call each; plus `iter_generate`, the whole chain of stages 1-5."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.answers import task_checker
from engine.backends.base import Request
from engine.backends.instructor import get_instructor
from engine.corpus.ingest import iter_ingest
from engine.events import (
    Event,
    ItemDone,
    ItemFailed,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.parsing import GeneratedSample, ParseFailure
from engine.pool import NewSample, insert_sample
from engine.seeds import derive_seed
from engine.stages import StageContext
from engine.stages.claims import SlotClaims
from engine.stages.dedup import iter_decontaminate, iter_dedup
from engine.stages.keywords import iter_keywords
from engine.stages.label import iter_label
from engine.stages.pattern import iter_pattern, stored_pattern
from engine.stages.retrieval import iter_retrieval, stored_order
from engine.stages.synthesis_common import (
    ask_for_samples,
    attempt_key,
    batch_size,
    failed_attempts,
    fewshot_examples,
    fewshot_request,
    format_demos,
    generation_schema,
    messages,
    record_failure,
)

STAGE = "generate"
MAX_ATTEMPTS = 3
"""Tries per slot (across runs too: attempts are failure rows); then the slot is given up and counted."""


def generation_messages(ctx: StageContext, passage: str) -> list[dict[str, str]]:
    task = ctx.task
    pattern = stored_pattern(ctx)
    return messages(
        "generate",
        description=task.description.strip(),
        input_format=task.input_format.strip() or "(free form)",
        output_format=task.output_format.strip(),
        pattern=f"Pattern of good examples: {pattern}\n" if pattern else "",
        demos=("\nExamples (do not copy them):" + format_demos(task)) if task.demos else "",
        passage=passage[: task.generation.passage_chars]
        if passage
        else "(no passage: write from general knowledge)",
    )


def generation_request(ctx: StageContext, passage: str, seed: int | None = None) -> Request:
    """The request for one new sample: chat messages asking for JSON, or (prompting = "fewshot") the demos
    to continue below facts from the passage; `seed` orders the demos."""
    task = ctx.task
    if task.generation.prompting != "fewshot":
        return generation_messages(ctx, passage)
    passage = passage[: task.generation.passage_chars].strip()
    return fewshot_request(
        "generate_fewshot",
        description=task.description.strip(),
        facts=f"Facts you may use:\n{passage}\n\n" if passage else "",
        examples=fewshot_examples(task, seed),
    )


def assemble_output(ctx: StageContext, sample: GeneratedSample) -> str:
    """The output with its final answer in the output format (appended from the answer field when missing)."""
    checker = task_checker(ctx.task)
    if checker.extract(sample.output) is None and sample.answer:
        return f"{sample.output}\n{checker.render(sample.answer)}"
    return sample.output


def iter_generate_samples(ctx: StageContext, n: int | None = None) -> Iterator[Event]:
    """Fill slots initial:0..n-1 that have no sample yet; each sample is one transaction."""
    gen = ctx.task.generation
    n = gen.n_samples if n is None else n
    rev = ctx.revision.id
    done_slots = {
        r[0]
        for r in ctx.store.query(
            "SELECT slot_key FROM samples WHERE revision_id=? AND slot_key LIKE 'initial:%'", (rev,)
        )
    }
    attempts = failed_attempts(ctx.store, rev, STAGE)
    todo = [
        i
        for i in range(n)
        if f"initial:{i}" not in done_slots and attempts.get(f"initial:{i}", 0) < MAX_ATTEMPTS
    ]
    counts = {
        "generated": 0,
        "parse_failures": 0,
        "gave_up": 0,
        "existing": len([i for i in range(n) if f"initial:{i}" in done_slots]),
    }
    counts["gave_up"] = sum(
        1 for i in range(n) if f"initial:{i}" not in done_slots and i not in todo
    )
    yield StageStarted(STAGE, total=n)
    order = stored_order(ctx) or []
    texts = (
        {
            r["id"]: r["text"]
            for r in ctx.store.query(
                "SELECT id, text FROM passages WHERE id IN (SELECT value FROM json_each(?))",
                (str(order),),
            )
        }
        if order
        else {}
    )
    instructor = get_instructor(ctx.task)
    schema = generation_schema(ctx.task)
    stopped = False
    pending = list(todo)
    claims = SlotClaims(ctx.workspace.root, STAGE, rev)
    elsewhere = 0
    try:
        while pending:
            if ctx.should_stop():
                stopped = True
                break
            batch, pending, skipped = _claim_batch(ctx, claims, pending, batch_size(instructor))
            elsewhere += skipped
            if not batch:
                continue
            yield from _generate_batch(
                ctx, instructor, schema, claims, batch, order, texts, attempts, pending, counts, n
            )
    finally:
        claims.release_all()
    if elsewhere:
        counts["claimed_elsewhere"] = elsewhere
    yield StageFinished(STAGE, counts=counts, stopped=stopped)


def _claim_batch(
    ctx: StageContext, claims: SlotClaims, pending: list[int], size: int
) -> tuple[list[int], list[int], int]:
    """(slots claimed for the next call, slots still pending, slots another process holds or made)."""
    batch: list[int] = []
    skipped = 0
    rest = list(pending)
    while rest and len(batch) < size:
        slot = rest.pop(0)
        key = f"initial:{slot}"
        if not claims.claim(key):
            skipped += 1
            continue
        made = ctx.store.scalar(
            "SELECT 1 FROM samples WHERE revision_id=? AND slot_key=?", (ctx.revision.id, key)
        )
        if made:  # another process finished it after this one started
            claims.release(key)
            skipped += 1
            continue
        batch.append(slot)
    return batch, rest, skipped


def _generate_batch(
    ctx: StageContext,
    instructor: Any,
    schema: dict[str, Any],
    claims: SlotClaims,
    batch: list[int],
    order: list[int],
    texts: dict[int, str],
    attempts: dict[str, int],
    pending: list[int],
    counts: dict[str, int],
    n: int,
) -> Iterator[Event]:
    """Generate the claimed slots of `batch` (one instructor call) and write each sample in its own
    transaction; a parse failure is recorded and its slot goes back to `pending` for a later try."""
    gen = ctx.task.generation
    rev = ctx.revision.id
    passage_ids = [order[i % len(order)] if order else None for i in batch]
    tries = [attempts.get(f"initial:{i}", 0) for i in batch]
    prompts = [
        generation_request(
            ctx, texts.get(pid, "") if pid else "", derive_seed(gen.seed, "demos", slot, tried)
        )
        for slot, pid, tried in zip(batch, passage_ids, tries, strict=True)
    ]
    replies = ask_for_samples(
        instructor,
        prompts,
        temperature=gen.temperature,
        max_tokens=gen.max_tokens,
        seed=derive_seed(gen.seed, "generate", batch[0], tries[0]),
        json_schema=schema,
    )
    for slot, passage_id, tried, (reply, parsed) in zip(
        batch, passage_ids, tries, replies, strict=True
    ):
        key = f"initial:{slot}"
        if isinstance(parsed, ParseFailure):
            counts["parse_failures"] += 1
            with ctx.store.transaction() as conn:
                record_failure(conn, rev, STAGE, attempt_key(key, tried), parsed.reason, reply)
            attempts[key] = tried + 1
            claims.release(key)
            yield ItemFailed(STAGE, item_id=key, reason=f"{parsed.reason} {parsed.detail}".strip())
            if tried + 1 < MAX_ATTEMPTS:
                pending.append(slot)  # retried later in this run, a bounded number of times
            else:
                counts["gave_up"] += 1
            continue
        sample = NewSample(
            "initial",
            key,
            parsed.input,
            assemble_output(ctx, parsed),
            passage_id=passage_id,
        )
        with ctx.store.transaction() as conn:
            sample_id = insert_sample(conn, rev, sample)
        claims.release(key)
        counts["generated"] += 1
        yield ItemDone(
            STAGE, item_id=sample_id or key, detail={"slot": key, "question": parsed.input}
        )
        done = counts["existing"] + counts["generated"]
        yield Progress(STAGE, done=done, total=n, unit="samples")


def iter_prepare(ctx: StageContext) -> Iterator[Event]:
    """Corpus folder ingest (incremental), keywords, retrieval and pattern: what generation and previews need."""
    if ctx.workspace.corpus_dir.is_dir():
        yield from _ingest_events(ctx)
    yield from iter_keywords(ctx)
    yield from iter_retrieval(ctx)
    yield from iter_pattern(ctx)


def _ingest_events(ctx: StageContext) -> Iterator[Event]:
    gen = ctx.task.generation
    ws = ctx.workspace
    for event in iter_ingest(
        ctx.store,
        ws.index_dir,
        [ws.corpus_dir],
        chunk_chars=gen.chunk_chars,
        overlap=gen.chunk_overlap,
        jsonl_field=gen.jsonl_text_field,
        root=ws.root,
        should_stop=ctx.should_stop,
    ):
        if isinstance(event, ItemFailed):
            yield StageWarning(
                event.stage, message=f"corpus file {event.item_id} skipped: {event.reason}"
            )
        else:
            yield event


def iter_generate(
    ctx: StageContext, n: int | None = None, votes: int | None = None
) -> Iterator[Event]:
    """Stages 1-5: prepare, generate, remove duplicates and contaminated samples, then label by vote.

    Duplicates are removed before labelling so no votes are spent on them; every step resumes.
    """
    yield from iter_prepare(ctx)
    for stage in (
        iter_generate_samples(ctx, n),
        iter_dedup(ctx),
        iter_decontaminate(ctx),
        iter_label(ctx, votes=votes),
    ):
        if ctx.should_stop():
            return
        yield from stage
