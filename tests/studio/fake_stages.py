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
