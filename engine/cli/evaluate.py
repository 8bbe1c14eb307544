"""`sdrl eval`: greedy accuracy of base and adapter on a benchmark file or the held-out split, and side-by-side comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.common import StopFlag, echo_json, render_events, workspace_from
from engine.text import visible_line

if TYPE_CHECKING:
    from engine.evaluate import Comparison


def _print_comparison(c: Comparison) -> None:
    click.echo(
        f"base eval #{c.base_id}: {c.base_accuracy:.1%}   adapter eval #{c.other_id}: {c.other_accuracy:.1%}   ({c.n} items)"
    )
    for title, items in (("fixed", c.fixed), ("broken", c.broken)):
        click.echo(f"{title} ({len(items)}):")
        for idx, question in items:
            click.echo(f"  [{idx}] {visible_line(question, 100)}")


@click.command("eval")
@click.option(
    "--benchmark",
    "benchmark",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A built-in benchmark (gsm8k: GSM8K's test split) or a jsonl file.",
)
@click.option(
    "--split", type=click.Choice(["val"]), help="Evaluate on the held-out synthetic split instead."
)
@click.option("--map", "mapping", default=None, help="Field names: question=FIELD,answer=FIELD.")
@click.option("--run", "run_id", default=None, help="Also evaluate this run's trained adapter.")
@click.option(
    "--model", default=None, help="Base model (default: the run's base, else models.base)."
)
@click.option("--limit", type=int, default=None, help="Only the first N items.")
@click.option(
    "--max-tokens",
    type=int,
    default=None,
    help="Tokens per answer (default: difficulty.probe_max_tokens).",
)
@click.option("--no-base", is_flag=True, help="With --run, skip the base-model evaluation.")
@click.option(
    "--compare",
    "compare_ids",
    is_flag=True,
    help="Compare the latest base and adapter evaluations (or --ids A B).",
)
@click.option(
    "--ids",
    type=int,
    nargs=2,
    default=None,
    help="With --compare: the two eval ids (base, adapter).",
)
@click.option("--list", "list_evals", is_flag=True, help="List stored evaluations.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    benchmark: Path | None,
    split: str | None,
    mapping: str | None,
    run_id: str | None,
    model: str | None,
    limit: int | None,
    max_tokens: int | None,
    no_base: bool,
    compare_ids: bool,
    ids: tuple[int, int] | None,
    list_evals: bool,
    as_json: bool,
) -> None:
    """Greedy accuracy with the task's answer checker. Checkpoints are never chosen on the benchmark: a run's final adapter is used."""
    from engine.answers import task_checker
    from engine.benchmarks import resolve_benchmark
    from engine.errors import RunError
    from engine.evaluate import (
        compare,
        iter_eval,
        load_benchmark,
        parse_mapping,
        val_items,
    )
    from engine.queries import evals, latest_pair
    from engine.runs import get_run

    ws = workspace_from(ctx)
    if list_evals:
        rows = evals(ws.store)
        if as_json:
            echo_json(
                [
                    {
                        k: r[k]
                        for k in ("id", "run_id", "benchmark", "model", "adapter", "n", "accuracy")
                    }
                    for r in rows
                ]
            )
        for r in rows if not as_json else []:
            click.echo(
                f"#{r['id']}  {'adapter ' + str(r['run_id']) if r['adapter'] else 'base':<30} {r['accuracy']:.1%} of {r['n']}  {visible_line(r['benchmark'])}"
            )
        return
    if compare_ids and not (benchmark or split):
        base_id, other_id = ids or latest_pair(ws.store)
        _output(compare(ws, base_id, other_id), as_json)
        return
    if bool(benchmark) == bool(split):
        raise RunError(
            "Give exactly one of --benchmark FILE or --split val",
            "e.g. sdrl eval --benchmark gsm8k --limit 100",
        )
    revision, task = ws.current_revision()
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
        name, items = val_items(ws, task, revision.id, run_id)
        items = items[:limit] if limit else items
    overlap = _report_overlap(ws, task, revision.id, run_id, items, as_json)
    tokens = max_tokens or task.difficulty.probe_max_tokens
    stop = StopFlag().install()
    ids_done: dict[str, int] = {}
    for label, this_adapter in (("base", None), ("adapter", adapter)):
        if (label == "base" and adapter is not None and no_base) or (
            label == "adapter" and adapter is None
        ):
            continue
        finished = render_events(
            iter_eval(
                ws,
                task,
                name,
                items,
                model_spec=model,
                adapter=this_adapter,
                run_id=run_id,
                max_tokens=tokens,
                should_stop=stop,
            ),
            quiet=as_json,
        )
        if finished is None or finished.stopped:
            raise RunError("Evaluation stopped before the end; nothing was stored", "run it again")
        ids_done[label] = finished.counts["eval_id"]
        if not as_json:
            click.echo(
                f"{label}: {finished.counts['accuracy']:.1%} ({finished.counts['correct']}/{finished.counts['n']})  eval #{finished.counts['eval_id']}"
            )
    if "base" in ids_done and "adapter" in ids_done:
        _output(compare(ws, ids_done["base"], ids_done["adapter"]), as_json, overlap)
    elif as_json:
        echo_json({**ids_done, "overlap": overlap})


def _report_overlap(
    ws: Any, task: Any, revision_id: int, run_id: str | None, items: Any, as_json: bool
) -> dict[str, Any]:
    """Count the items that share an n-gram with the training set; say so, and warn on stderr when any do."""
    from engine.evaluate import benchmark_overlap, training_questions

    n = task.generation.decontaminate_ngram
    source, questions = training_questions(ws, task, revision_id, run_id)
    if source is None:
        if not as_json:
            click.echo(
                "overlap: not checked (no training set recorded: no selection, or an old run)"
            )
        return {"items": None, "of": len(items), "ngram": n, "training_set": None}
    count = benchmark_overlap(items, questions, n)
    if not as_json:
        click.echo(
            f"overlap: {count} of {len(items)} items share a {n}-word sequence with the training set ({source}, {len(questions)} questions)"
        )
    if count:
        click.echo(
            f"warning: {count} evaluated item{'s' if count != 1 else ''} overlap the training set ({source}): "
            "the accuracy is not a clean held-out measure; `sdrl generate` now marks such samples contaminated "
            "(every evaluated benchmark is checked), then select and train again",
            err=True,
        )
    return {"items": count, "of": len(items), "ngram": n, "training_set": source}


def _output(cmp: Comparison, as_json: bool, overlap: dict[str, Any] | None = None) -> None:
    if as_json:
        from dataclasses import asdict

        echo_json({**asdict(cmp), **({"overlap": overlap} if overlap is not None else {})})
    else:
        _print_comparison(cmp)
