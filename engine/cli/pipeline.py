"""`sdrl probe|adapt|score|select|stats|run`: stages 6-9 and the whole pipeline, with a progress bar per stage."""

from __future__ import annotations

from typing import Any

import click

from engine.cli.common import echo_json, workspace_from
from engine.cli.jobs import detach_option, run_stage
from engine.selection import RULES
from engine.text import visible_line


def _quiet_option(f: Any) -> Any:
    return detach_option(
        click.option("-q", "--quiet", is_flag=True, help="No progress bars or summaries.")(f)
    )


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
def probe_cmd(ctx: click.Context, quiet: bool, detach: bool) -> None:
    """Answer each labelled sample once, greedily, with the base model (solved or unsolved)."""
    run_stage(ctx, "probe", {}, detach=detach, quiet=quiet)


@click.command("adapt")
@_rounds_option
@_quiet_option
@click.pass_context
def adapt_cmd(ctx: click.Context, rounds: int | None, quiet: bool, detach: bool) -> None:
    """Rewrite solved samples harder and unsolved ones easier, then label the rewrites by vote."""
    run_stage(ctx, "adapt", {"rounds": rounds}, detach=detach, quiet=quiet)


@click.command("score")
@click.option("-k", type=int, default=None, help="Answers per sample (default: scoring.k).")
@_quiet_option
@click.pass_context
def score_cmd(ctx: click.Context, k: int | None, quiet: bool, detach: bool) -> None:
    """Sample k answers per sample with the base model and store pass rates (resumes per sample)."""
    run_stage(ctx, "score", {"k": k}, detach=detach, quiet=quiet)


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
    detach: bool,
) -> None:
    """Select the training samples by pass rate; accepted/pinned samples always, rejected never."""
    if band is not None and rule is None:
        rule = "band"
    options = {"rule": rule, "m": m, "band": list(band) if band else None}
    run_stage(ctx, "select", options, detach=detach, quiet=quiet)


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
    detach: bool,
) -> None:
    """The whole pipeline: generate, label, probe, adapt, score and select. Run it again to resume."""
    options = {"n": n, "votes": votes, "rounds": rounds, "k": k, "m": m}
    run_stage(ctx, "run", options, detach=detach, quiet=quiet)
