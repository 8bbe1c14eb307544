"""`sdrl generate`, `sdrl label`, `sdrl preview`: stages 1-5 from the terminal, with progress and Ctrl-C that keeps work."""

from __future__ import annotations

import click

from engine.cli.common import StopFlag, workspace_from
from engine.cli.jobs import detach_option, run_stage
from engine.events import ItemDone, ItemFailed, StageStarted, StageWarning, Token
from engine.text import visible, visible_line


def _context(ctx: click.Context, stop: StopFlag):  # type: ignore[no-untyped-def]
    from engine.stages import StageContext

    return StageContext.open(workspace_from(ctx), should_stop=stop)


@click.command("generate")
@click.option(
    "-n",
    "n",
    type=click.IntRange(1),
    default=None,
    help="Number of samples (default: generation.n_samples).",
)
@click.option(
    "--votes",
    type=click.IntRange(1),
    default=None,
    help="Votes per sample (default: generation.votes).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@detach_option
@click.pass_context
def generate_cmd(
    ctx: click.Context, n: int | None, votes: int | None, quiet: bool, detach: bool
) -> None:
    """Generate and label samples (stages 1-5) as a job; run it again to resume."""
    if run_stage(ctx, "generate", {"n": n, "votes": votes}, detach=detach, quiet=quiet):
        _summary(ctx)


@click.command("label")
@click.option(
    "--votes",
    type=click.IntRange(1),
    default=None,
    help="Votes per sample (default: generation.votes).",
)
@click.option("-q", "--quiet", is_flag=True)
@detach_option
@click.pass_context
def label_cmd(ctx: click.Context, votes: int | None, quiet: bool, detach: bool) -> None:
    """Label every pending sample of the current revision by majority vote (as a job)."""
    if run_stage(ctx, "label", {"votes": votes}, detach=detach, quiet=quiet):
        _summary(ctx)


def _summary(ctx: click.Context) -> None:
    from engine.queries.overview import status_counts

    workspace = workspace_from(ctx)
    revision, _ = workspace.current_revision()
    counts = status_counts(workspace.store, revision.id)
    click.echo("samples: " + (", ".join(f"{k} {n}" for k, n in counts.items()) or "none"))


@click.command("preview")
@click.option(
    "-n",
    "k",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="How many questions to preview.",
)
@click.option(
    "--keep", is_flag=True, help="Store the previewed samples in the pool (origin manual, pending)."
)
@click.option(
    "--seed", type=int, default=None, help="Seed for passage choice and sampling (default: time)."
)
@click.pass_context
def preview_cmd(ctx: click.Context, k: int, keep: bool, seed: int | None) -> None:
    """Stream a few generated questions, token by token, with their passages; nothing is stored unless --keep."""
    from engine.stages.preview import iter_preview, keep_preview

    stop = StopFlag().install()
    stage_ctx = _context(ctx, stop)
    kept = 0
    for event in iter_preview(stage_ctx, k, seed=seed):
        if (
            isinstance(event, StageStarted)
            or event.stage != "preview"
            and not isinstance(event, StageWarning)
        ):
            continue
        if isinstance(event, Token):
            click.echo(visible(event.text), nl=False)
        elif isinstance(event, ItemDone):
            click.echo("")
            d = event.detail
            click.secho(
                f"--- question {int(event.item_id) + 1} (passage {d['passage_id']}): {visible_line(d['passage'], 300)}",
                dim=True,
            )
            click.echo(f"Q: {visible(d['input'])}\nA: {visible(d['output'])}\n")
            if keep:
                keep_preview(stage_ctx, d)
                kept += 1
        elif isinstance(event, ItemFailed):
            click.echo("")
            click.secho(
                f"--- question {int(event.item_id) + 1}: unparseable reply ({visible_line(event.reason)})\n",
                fg="yellow",
            )
        elif isinstance(event, StageWarning):
            click.secho(f"warning: {visible_line(event.message)}", fg="yellow", err=True)
    if keep:
        click.echo(f"kept {kept} previewed samples (pending; run `sdrl label` to label them)")
