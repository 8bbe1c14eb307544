"""`sdrl instructor check`: is the instructor good enough for the task? Label accuracy vs gold by agreement level."""

from __future__ import annotations

import click

from engine.cli.common import StopFlag, echo_json, render_events, workspace_from


@click.group("instructor")
def instructor_group() -> None:
    """Check the instructor model before spending compute."""


@click.command("check")
@click.option(
    "--benchmark",
    "benchmark",
    required=True,
    help="A built-in benchmark (gsm8k) or a jsonl file with questions and gold answers.",
)
@click.option("--map", "mapping", default=None, help="Field names: question=FIELD,answer=FIELD.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Questions to label."
)
@click.option(
    "--votes",
    type=click.IntRange(min=1),
    default=None,
    help="Votes per question (default: generation.votes).",
)
@click.option(
    "--target",
    type=click.FloatRange(0.0, 1.0),
    default=0.8,
    show_default=True,
    help="Label accuracy a suggested low_agreement threshold must reach.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check_cmd(
    ctx: click.Context,
    benchmark: str,
    mapping: str | None,
    limit: int,
    votes: int | None,
    target: float,
    as_json: bool,
) -> None:
    """The instructor labels LIMIT benchmark questions by the label stage's vote; prints a calibration table."""
    from engine.answers import task_checker
    from engine.benchmarks import resolve_benchmark
    from engine.errors import RunError
    from engine.evaluate import load_benchmark, parse_mapping
    from engine.instructor_check import iter_instructor_check, latest_report, report_lines
    from engine.stages import StageContext

    ws = workspace_from(ctx)
    stage = StageContext.open(ws, should_stop=StopFlag().install())
    name, path = resolve_benchmark(benchmark)
    items = load_benchmark(path, task_checker(stage.task), parse_mapping(mapping), limit)
    finished = render_events(
        iter_instructor_check(stage, name, items, votes, target), quiet=as_json
    )
    if finished is None or finished.stopped:
        raise RunError("The check stopped before the end; nothing was stored", "run it again")
    report = latest_report(ws.store)
    assert report is not None  # stored by the check that just finished
    if as_json:
        echo_json(report)
        return
    for line in report_lines(report):
        click.echo(line)


instructor_group.add_command(check_cmd)
