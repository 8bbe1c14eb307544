"""Stand-in stages for studio tests, run in real job and preview worker processes through SDRL_STAGES."""

from __future__ import annotations

from collections.abc import Iterator

from engine.errors import StageError
from engine.events import (
    Event,
    ItemDone,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
    Token,
)
from engine.stages import StageContext


def iter_preview(ctx: StageContext, k: int = 3, seed: int | None = None) -> Iterator[Event]:
    yield StageStarted("preview", total=k)
    for i in range(k):
        for piece in ('{"input": "How many', ' apples?", ', '"output": "#### 4"}'):
            yield Token("preview", item_id=i, text=piece)
        yield ItemDone(
            "preview",
            item_id=i,
            detail={
                "input": f"How many apples? ({i})",
                "output": "#### 4",
                "passage": f"passage {i} about apples (revision {ctx.revision.id})",
                "passage_id": None,
            },
        )
    yield StageFinished("preview", counts={"previewed": k})


def iter_generate(
    ctx: StageContext, n: int | None = None, votes: int | None = None
) -> Iterator[Event]:
    yield StageStarted("generate", total=4)
    for done in range(1, 5):
        yield Progress("generate", done=done, total=4)
    yield StageFinished("generate", counts={"generated": 4, "revision": ctx.revision.id})


def iter_generate_failing(ctx: StageContext, **options: object) -> Iterator[Event]:
    raise StageError("Nothing to generate from", "add documents with `sdrl corpus add`")
    yield  # pragma: no cover


def stages_env(**stages: str) -> str:
    """SDRL_STAGES naming functions of this module, e.g. stages_env(generate="iter_generate")."""
    return ",".join(f"{name}=tests.studio.fake_stages:{attr}" for name, attr in stages.items())


def iter_hostile_preview(ctx: StageContext, k: int = 3, seed: int | None = None) -> Iterator[Event]:
    """A preview whose every text is hostile (control characters, markup): tests/studio/test_hostile_text.py."""
    from tests.hostile import hostile

    yield StageStarted("preview", total=1)
    yield StageWarning("preview", message=hostile("warning"))
    yield Token("preview", item_id=0, text=hostile("token"))
    detail = {
        "input": hostile("q"),
        "output": hostile("a"),
        "passage": hostile("p"),
        "passage_id": None,
    }
    yield ItemDone("preview", item_id=0, detail=detail)
    yield StageFinished("preview", counts={"previewed": 1})


def iter_score_reporting(ctx: StageContext, k: int | None = None, **_: object) -> Iterator[Event]:
    """A score stage that reports the k it was given and the revision it ran on (the stage form's tests)."""
    yield StageStarted("score", total=1)
    yield StageFinished(
        "score",
        counts={"k": k if k is not None else ctx.task.scoring.k, "revision": ctx.revision.id},
    )


def iter_eval_recording(
    ctx: StageContext,
    benchmark: str | None = None,
    limit: int | None = None,
    run_id: str | None = None,
    **_: object,
) -> Iterator[Event]:
    """An eval job that stores a base and a trained eval of `benchmark` with `limit` items (the Eval screen's test)."""
    n = limit or 4
    yield StageStarted("eval", total=n)
    with ctx.store.transaction() as conn:
        for adapter, correct in ((None, n // 2), ("runs/x/adapter", n)):
            conn.execute(
                "INSERT INTO evals(run_id, benchmark, model, adapter, n, correct, accuracy, created_at) "
                "VALUES (?,?,?,?,?,?,?,0)",
                (
                    run_id if adapter else None,
                    benchmark,
                    "gemma3-270m",
                    adapter,
                    n,
                    correct,
                    correct / n,
                ),
            )
    yield StageFinished("eval", counts={"n": n})
