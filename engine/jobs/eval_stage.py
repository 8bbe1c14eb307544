"""The eval job: greedy accuracy of the base model and/or a run's adapter on a benchmark file or the val split."""

from __future__ import annotations

from collections.abc import Iterator

from engine.errors import RunError
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
    from engine.answers import task_checker
    from engine.benchmarks import resolve_benchmark
    from engine.evaluate import iter_eval, load_benchmark, parse_mapping, val_items
    from engine.runs import get_run

    task, ws = ctx.task, ctx.workspace
    adapter = None
    if run_id:
        info = get_run(ws.store, run_id)
        if not (info.adapter / "adapter_config.json").is_file():
            raise RunError(
                f"Run {info.id} has no final adapter (status {info.status})",
                f"let it finish, or `sdrl runs resume {info.id}`",
            )
        adapter, run_id = info.adapter, info.id
        model = model or info.base_model
    model = model or task.models.base
    if benchmark:
        name, path = resolve_benchmark(benchmark)
        items = load_benchmark(path, task_checker(task), parse_mapping(mapping), limit)
    else:
        name, items = val_items(ws, task, ctx.revision.id, run_id)
        items = items[:limit] if limit else items
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
