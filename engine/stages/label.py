"""Stage 5: label every pending sample of the current revision by majority vote (the generator's answer is vote 0)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.answers import AnswerChecker, majority_vote, task_checker
from engine.backends.base import Request, ask_many
from engine.backends.instructor import get_instructor
from engine.config import TaskDefinition
from engine.events import Event, ItemDone, ItemFailed, Progress, StageFinished, StageStarted
from engine.parsing import ParseFailure, parse_vote, vote_schema
from engine.seeds import derive_seed
from engine.stages import StageContext
from engine.stages.synthesis_common import (
    batch_size,
    fewshot_examples,
    fewshot_request,
    messages,
    record_failure,
)

STAGE = "label"


def vote_messages(task: TaskDefinition, question: str) -> list[dict[str, str]]:
    """One vote request: the instructor answers `question` as the task asks (also used by `sdrl instructor check`)."""
    return messages(
        "vote",
        description=task.description.strip(),
        output_format=task.output_format.strip(),
        question=question.strip(),
    )


def vote_request(task: TaskDefinition, question: str) -> Request:
    """One vote request: chat messages asking for JSON, or (prompting = "fewshot") the base model's prompt
    form with the demos before the question, continued as plain text."""
    if task.generation.prompting != "fewshot":
        return vote_messages(task, question)
    return fewshot_request(
        "vote_fewshot",
        description=task.description.strip(),
        output_format=task.output_format.strip(),
        examples=fewshot_examples(task),
        question=question.strip(),
    )


def read_vote(checker: AnswerChecker, reply: str) -> tuple[str, str | None]:
    """(stored text, extracted answer). A JSON vote is rendered in the output format first, then extracted like a reward."""
    parsed = parse_vote(reply)
    if isinstance(parsed, ParseFailure):
        return reply, checker.extract(reply)
    text = f"{parsed.reasoning}\n{checker.render(parsed.answer)}".strip()
    return text, checker.extract(text)


def iter_label(ctx: StageContext, votes: int | None = None) -> Iterator[Event]:
    """Pending samples of the current revision, whatever their origin; each is labelled in one transaction, once."""
    gen = ctx.task.generation
    n_votes = gen.votes if votes is None else votes
    rev = ctx.revision.id
    rows = ctx.store.query(
        "SELECT id, question, generated_answer FROM samples WHERE revision_id=? AND status='pending' ORDER BY id",
        (rev,),
    )
    counts = {
        "labelled": 0,
        "unlabelable": 0,
        "unparseable_votes": 0,
        "low_agreement": 0,
        "instructor_errors": 0,
    }
    yield StageStarted(STAGE, total=len(rows), detail={"votes": n_votes})
    if not rows:
        yield StageFinished(STAGE, counts=counts)
        return
    checker = task_checker(ctx.task)
    instructor: Any = get_instructor(ctx.task) if n_votes > 0 else None
    schema = vote_schema(ctx.task.answer_type, ctx.task.choices)
    step = max(1, batch_size(instructor, default=1) // max(n_votes, 1)) if instructor else len(rows)
    stopped = False
    done = 0
    for start in range(0, len(rows), step):
        if ctx.should_stop():
            stopped = True
            break
        batch = rows[start : start + step]
        replies: list[list[str]] = [[] for _ in batch]
        if instructor is not None:
            requests = [
                vote_request(ctx.task, row["question"]) for row in batch for _ in range(n_votes)
            ]
            try:
                flat = ask_many(
                    instructor,
                    requests,
                    temperature=gen.vote_temperature,
                    max_tokens=gen.vote_max_tokens,
                    seed=derive_seed(gen.seed, "label", batch[0]["id"]),
                    json_schema=schema,
                )
            except (ValueError, RuntimeError) as exc:  # e.g. a question longer than the context
                counts["instructor_errors"] += len(batch)
                for row in batch:  # left pending: a later run tries again
                    yield ItemFailed(STAGE, item_id=row["id"], reason=f"instructor error: {exc}")
                continue
            replies = [flat[i * n_votes : (i + 1) * n_votes] for i in range(len(batch))]
        for row, sample_replies in zip(batch, replies, strict=True):
            event = _store_label(ctx, checker, row, sample_replies, counts)
            done += 1
            yield event
            yield Progress(STAGE, done=done, total=len(rows), unit="samples")
    yield StageFinished(STAGE, counts=counts, stopped=stopped)


def _store_label(
    ctx: StageContext, checker: AnswerChecker, row: Any, replies: list[str], counts: dict[str, int]
) -> Event:
    own = row["generated_answer"]
    votes = [(own, checker.extract(own))] + [read_vote(checker, r) for r in replies]
    counts["unparseable_votes"] += sum(1 for _, a in votes if a is None)
    majority = majority_vote(checker, [a for _, a in votes])
    with ctx.store.transaction() as conn:
        # the status guard makes labelling exactly-once even if two processes race
        current = conn.execute("SELECT status FROM samples WHERE id=?", (row["id"],)).fetchone()
        if current is None or current["status"] != "pending":
            return ItemDone(STAGE, item_id=row["id"], detail={"skipped": "already labelled"})
        conn.execute("DELETE FROM votes WHERE sample_id=?", (row["id"],))
        conn.executemany(
            "INSERT INTO votes(sample_id, idx, text, answer) VALUES (?,?,?,?)",
            [(row["id"], i, text, answer) for i, (text, answer) in enumerate(votes)],
        )
        if majority.answer is None:
            conn.execute(
                "UPDATE samples SET status='unlabelable', agreement=0 WHERE id=?", (row["id"],)
            )
            record_failure(conn, ctx.revision.id, STAGE, str(row["id"]), "no parseable answer", own)
            counts["unlabelable"] += 1
            return ItemFailed(
                STAGE, item_id=row["id"], reason=f"no parseable answer in {len(votes)} votes"
            )
        rationale = next(
            text
            for text, answer in votes
            if answer is not None and checker.equivalent(answer, majority.answer)
        )
        conn.execute(
            "UPDATE samples SET status='labelled', label=?, agreement=?, rationale=? WHERE id=?",
            (majority.answer, majority.agreement, rationale, row["id"]),
        )
    counts["labelled"] += 1
    if majority.agreement < ctx.task.generation.low_agreement:
        counts["low_agreement"] += 1
    return ItemDone(
        STAGE,
        item_id=row["id"],
        detail={"label": majority.answer, "agreement": majority.agreement, "votes": len(votes)},
    )
