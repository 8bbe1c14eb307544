"""`sdrl probe|adapt|score|select|stats|run`: stages 6-9 and the whole pipeline, with a progress bar per stage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from engine.cli.common import StopFlag, echo_json, render_events, workspace_from
from engine.events import Event
from engine.selection import RULES
from engine.text import visible_line


def _context(ctx: click.Context) -> Any:
    from engine.stages import StageContext

    return StageContext.open(workspace_from(ctx), should_stop=StopFlag().install())


def _quiet_option(f: Any) -> Any:
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars or summaries.")(f)


_rounds_option = click.option(
    "--rounds",
    "-r",
    type=click.IntRange(min=0),
    default=None,
    help="Adaptation rounds (default: difficulty.rounds).",
)


@click.command("probe")
@_quiet_option
@click.pass_context
def probe_cmd(ctx: click.Context, quiet: bool) -> None:
    """Answer each labelled sample once, greedily, with the base model (solved or unsolved)."""
    from engine.stages.probe import iter_probe

    render_events(iter_probe(_context(ctx)), quiet=quiet)


@click.command("adapt")
@_rounds_option
@_quiet_option
@click.pass_context
def adapt_cmd(ctx: click.Context, rounds: int | None, quiet: bool) -> None:
    """Rewrite solved samples harder and unsolved ones easier, then label the rewrites by vote."""
    from engine.stages.adapt import iter_adapt

    render_events(iter_adapt(_context(ctx), rounds), quiet=quiet)


@click.command("score")
@click.option("-k", type=int, default=None, help="Answers per sample (default: scoring.k).")
@_quiet_option
@click.pass_context
def score_cmd(ctx: click.Context, k: int | None, quiet: bool) -> None:
    """Sample k answers per sample with the base model and store pass rates (resumes per sample)."""
    from engine.stages.score import iter_score

    render_events(iter_score(_context(ctx), k), quiet=quiet)


_RULE = click.Choice(RULES)


@click.command("select")
@click.option(
    "--rule",
    type=_RULE,
    default=None,
    help="paper: 0<p<1 hardest first (default); band; easy; hard; all.",
)
@click.option(
    "-m", type=int, default=None, help="How many samples to select (default: selection.m)."
)
@click.option(
    "--band",
    nargs=2,
    type=float,
    default=None,
    metavar="LO HI",
    help="Pass-rate band for --rule band.",
)
@_quiet_option
@click.pass_context
def select_cmd(
    ctx: click.Context,
    rule: str | None,
    m: int | None,
    band: tuple[float, float] | None,
    quiet: bool,
) -> None:
    """Select the training samples by pass rate; accepted/pinned samples always, rejected never."""
    from engine.stages.select import iter_select

    if band is not None and rule is None:
        rule = "band"
    render_events(iter_select(_context(ctx), rule, m, band), quiet=quiet)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def stats_cmd(ctx: click.Context, as_json: bool) -> None:
    """Pass-rate histograms before/after adaptation, probe and rewrite counts, and the latest selection."""
    from engine.stats import compute_stats

    workspace = workspace_from(ctx, writable=False)
    revision, _ = workspace.current_revision()
    stats = compute_stats(workspace.store, revision.id)
    if as_json:
        echo_json(stats)
        return
    _print_stats(stats)


def _bar_line(label: str, counts: list[int]) -> str:
    return f"  {label:<8}" + " ".join(f"{c:>4}" for c in counts)


def _print_stats(stats: dict[str, Any]) -> None:
    s = stats["samples"]
    click.echo(f"revision {stats['revision']}  model {visible_line(stats['model'])}")
    click.echo(f"samples  {s['total']} total, {s['labelled']} labelled, {s['scored']} scored")
    click.echo(f"probe    {stats['probe']['solved']} solved, {stats['probe']['unsolved']} unsolved")
    for direction, counts in stats["rewrites"].items():
        click.echo(f"{direction:<8} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    pr = stats["pass_rate"]
    click.echo("pass-rate histogram (bins of 0.1 from 0 to 1)")
    click.echo(_bar_line("before", pr["before_adaptation"]))
    click.echo(_bar_line("after", pr["after_adaptation"]))
    sel = stats["selection"]
    if sel is None:
        click.echo("selection none (run `sdrl select`)")
        return
    p, a = sel["pass_rate"], sel["agreement"]
    click.echo(f"selection #{sel['id']} rule {sel['rule']}: {sel['train']} train, {sel['val']} val")
    if p["n"]:
        click.echo(f"  pass rate min {p['min']:.3f} median {p['median']:.3f} max {p['max']:.3f}")
    if a["n"]:
        click.echo(
            f"  label agreement mean {a['mean']:.2f}, {a['below_threshold']} below {a['threshold']}"
        )


@click.command("run")
@click.option(
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="Samples to generate (default: generation.n_samples).",
)
@click.option(
    "--votes",
    type=click.IntRange(min=1),
    default=None,
    help="Instructor votes per label (default: generation.votes).",
)
@_rounds_option
@click.option(
    "-k", type=int, default=None, help="Answers per sample when scoring (default: scoring.k)."
)
@click.option("-m", type=int, default=None, help="Samples to select (default: selection.m).")
@_quiet_option
@click.pass_context
def run_cmd(
    ctx: click.Context,
    n: int | None,
    votes: int | None,
    rounds: int | None,
    k: int | None,
    m: int | None,
    quiet: bool,
) -> None:
    """The whole pipeline: generate, label, probe, adapt, score and select. Run it again to resume."""
    stage_ctx = _context(ctx)
    render_events(_pipeline(stage_ctx, n, votes, rounds, k, m), quiet=quiet)


def _pipeline(
    ctx: Any, n: int | None, votes: int | None, rounds: int | None, k: int | None, m: int | None
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
