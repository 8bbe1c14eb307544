"""The whole pipeline as one stage: generate, label, adapt (with probe), score and select, stopping between stages."""

from __future__ import annotations

from collections.abc import Iterator

from engine.events import Event
from engine.stages import StageContext


def iter_pipeline(
    ctx: StageContext,
    n: int | None = None,
    votes: int | None = None,
    rounds: int | None = None,
    k: int | None = None,
    m: int | None = None,
) -> Iterator[Event]:
    from engine.stages.adapt import iter_adapt
    from engine.stages.generate import iter_generate
    from engine.stages.score import iter_score
    from engine.stages.select import iter_select

    yield from iter_generate(ctx, n=n, votes=votes)
    if ctx.should_stop():
        return
    # probe and score share one loaded base model (engine.backends.solver.shared_solver), loaded only if needed
    yield from iter_adapt(ctx, rounds, votes=votes)
    if ctx.should_stop():
        return
    yield from iter_score(ctx, k)
    if ctx.should_stop():
        return
    yield from iter_select(ctx, None, m)
