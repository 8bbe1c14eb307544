"""`sdrl eval run|list|compare`: greedy accuracy of base and adapter on a benchmark or the held-out split, stored evals, side-by-side comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.common import echo_json, workspace_from
from engine.cli.jobs import detach_option, run_stage
from engine.events import Event, StageFinished
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


def legacy_args(args: list[str]) -> list[str]:
    """Map the old flag-selected modes onto the subcommands (`--list`, `--compare`, else `run`)."""
    if "--list" in args:
        return ["list", *(a for a in args if a != "--list")]
    if "--compare" in args and "--benchmark" not in args and "--split" not in args:
        rest = [a for a in args if a not in ("--compare", "--ids")]
        return ["compare", *rest]
    return ["run", *(a for a in args if a != "--compare")]  # a run with --run compares by itself


class EvalGroup(click.Group):
    """`eval run|list|compare`, accepting the older flag forms (see eval_group's help)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = legacy_args(args)
        return super().parse_args(ctx, args)


@click.group("eval", cls=EvalGroup)
def eval_group() -> None:
    """Greedy accuracy of the base model and trained adapters: run an evaluation, list them, compare two.

    The flag forms of older versions still work: `eval --benchmark ...` is `eval run ...`,
    `eval --list` is `eval list`, `eval --compare [--ids A B]` is `eval compare [A B]`."""


@eval_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List stored evaluations."""
    from engine.queries import evals

    rows = evals(workspace_from(ctx).store)
    if as_json:
        keys = ("id", "run_id", "benchmark", "model", "adapter", "n", "accuracy")
        echo_json([{k: r[k] for k in keys} for r in rows])
        return
    for r in rows:
        who = "adapter " + str(r["run_id"]) if r["adapter"] else "base"
        click.echo(
            f"#{r['id']}  {who:<30} {r['accuracy']:.1%} of {r['n']}  {visible_line(r['benchmark'])}"
        )


@eval_group.command("compare")
@click.argument("ids", type=int, nargs=2, required=False, metavar="[BASE_ID ADAPTER_ID]")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def compare_cmd(ctx: click.Context, ids: tuple[int, int] | None, as_json: bool) -> None:
    """Items the adapter fixed and broke, between two evals of one benchmark (default: the latest pair)."""
    from engine.evaluate import compare
    from engine.queries import latest_pair

    ws = workspace_from(ctx)
    base_id, other_id = ids or latest_pair(ws.store)
    _output(compare(ws, base_id, other_id), as_json)


@eval_group.command("run")
@click.option(
    "--benchmark",
    "benchmark",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A built-in benchmark (gsm8k: GSM8K's test split) or a jsonl file.",
)
@click.option(
    "--split",
    type=click.Choice(["val"]),
    help="Evaluate on the held-out synthetic split instead: with --run, of the selection that run was trained from.",
)
@click.option("--map", "mapping", default=None, help="Field names: question=FIELD,answer=FIELD.")
@click.option("--run", "run_id", default=None, help="Also evaluate this run's trained adapter.")
@click.option(
    "--model", default=None, help="Base model (default: the run's base, else models.base)."
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N items.")
@click.option(
    "--max-tokens",
    type=int,
    default=None,
    help="Tokens per answer (default: difficulty.probe_max_tokens).",
)
@click.option("--no-base", is_flag=True, help="With --run, skip the base-model evaluation.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@detach_option
@click.pass_context
def run_cmd(
    ctx: click.Context,
    benchmark: Path | None,
    split: str | None,
    mapping: str | None,
    run_id: str | None,
    model: str | None,
    limit: int | None,
    max_tokens: int | None,
    no_base: bool,
    as_json: bool,
    detach: bool,
) -> None:
    """Greedy accuracy with the task's answer checker. Checkpoints are never chosen on the benchmark: a run's final adapter is used.

    Prints how many items share an n-gram (generation.decontaminate_ngram words) with the training set and warns when any do.
    """
    from engine.errors import RunError
    from engine.evaluate import compare, eval_items, run_with_adapter
    from engine.jobs.eval_stage import eval_passes

    ws = workspace_from(ctx)
    if bool(benchmark) == bool(split):
        raise RunError(
            "Give exactly one of --benchmark FILE or --split val",
            "e.g. sdrl eval run --benchmark gsm8k --limit 100",
        )
    if run_id:
        run_id = run_with_adapter(ws, run_id).id
    revision, task = ws.current_revision()
    _, items = eval_items(
        ws, task, revision.id, benchmark=benchmark, mapping=mapping, limit=limit, run_id=run_id
    )
    overlap = _report_overlap(ws, task, revision.id, run_id, items, as_json)
    options = {
        # a file is named absolutely (the job runs in the workspace); a built-in by its name
        "benchmark": str(benchmark.resolve() if benchmark.exists() else benchmark)
        if benchmark
        else None,
        "split": split,
        "mapping": mapping,
        "run_id": run_id,
        "model": model,
        "limit": limit,
        "max_tokens": max_tokens,
        "no_base": no_base,
    }
    finished: list[StageFinished] = []

    def collect(event: Event) -> None:
        if isinstance(event, StageFinished) and event.stage == "eval":
            finished.append(event)

    if not run_stage(ctx, "eval", options, detach=detach, quiet=as_json, on_event=collect):
        return
    ids_done: dict[str, int] = {}
    for label, done in zip(eval_passes(run_id, no_base), finished, strict=False):
        ids_done[label] = done.counts["eval_id"]
        if not as_json:
            click.echo(
                f"{label}: {done.counts['accuracy']:.1%} ({done.counts['correct']}/{done.counts['n']})  eval #{done.counts['eval_id']}"
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
