"""The eval job: greedy accuracy of the base model and/or a run's adapter on a benchmark file or the val split."""

from __future__ import annotations

from collections.abc import Iterator

from engine.events import Event
from engine.stages import StageContext


def eval_passes(run_id: str | None, no_base: bool) -> list[str]:
    """Which evaluations run, in order: "base", "adapter" or both."""
    passes = [] if (run_id and no_base) else ["base"]
    return passes + (["adapter"] if run_id else [])


def iter_eval_job(
    ctx: StageContext,
    benchmark: str | None = None,
    split: str | None = None,
    mapping: str | None = None,
    run_id: str | None = None,
    model: str | None = None,
    limit: int | None = None,
    max_tokens: int | None = None,
    no_base: bool = False,
) -> Iterator[Event]:
    from engine.evaluate import eval_items, iter_eval, run_with_adapter

    task, ws = ctx.task, ctx.workspace
    adapter = None
    if run_id:
        info = run_with_adapter(ws, run_id)
        adapter, run_id = info.adapter, info.id
        model = model or info.base_model
    model = model or task.models.base
    name, items = eval_items(
        ws, task, ctx.revision.id, benchmark=benchmark, mapping=mapping, limit=limit, run_id=run_id
    )
    tokens = max_tokens or task.difficulty.probe_max_tokens
    for label in eval_passes(run_id, no_base):
        yield from iter_eval(
            ws,
            task,
            name,
            items,
            model_spec=model,
            adapter=adapter if label == "adapter" else None,
            run_id=run_id,
            max_tokens=tokens,
            should_stop=ctx.should_stop,
        )
        if ctx.should_stop():
            return
