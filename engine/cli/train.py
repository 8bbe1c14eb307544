"""`sdrl train`, `sdrl runs list|show|stop|resume`: training runs (each one a job) from the terminal."""

from __future__ import annotations

import time
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from engine.cli.common import echo_json, render_events, workspace_from
from engine.events import Event, Metric, Progress
from engine.text import visible, visible_line

SHOWN_METRICS = (
    "reward_mean",
    "reward_std",
    "kl",
    "loss",
    "zero_std_share",
    "completion_length",
    "step_time",
    "tokens_per_s",
)


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`key=value` pairs for [training]; values are TOML literals (numbers, booleans, lists) or bare strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value
    return out


def _print_preflight(pre: Any) -> None:
    for key, value in pre.facts.items():
        click.echo(f"  {key:<26} {visible_line(value)}")
    for p in pre.problems:
        click.secho(
            f"{p.level}: {visible(p.title)}", fg="red" if p.level == "blocker" else "yellow"
        )
        click.echo(f"  fix: {visible(p.hint)}")
    colour = {"ok": "green", "warning": "yellow", "blocker": "red"}[pre.level]
    click.secho(f"preflight: {pre.level}", fg=colour)


def follow_run(ctx: click.Context, run_id: str) -> None:
    from engine.runs import follow, get_run

    ws = workspace_from(ctx)
    latest: dict[str, float] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, Metric):
            latest[event.name] = event.value
        elif isinstance(event, Progress) and latest:
            shown = "  ".join(f"{k}={latest[k]:.3g}" for k in SHOWN_METRICS if k in latest)
            click.echo(f"step {event.done}/{event.total}  {shown}", err=True)

    try:
        render_events(follow(ws, run_id), on_event=on_event)
    except KeyboardInterrupt:
        click.echo(
            f"\ndetached; the run goes on. Follow it again with `sdrl attach {run_id}`", err=True
        )
        return
    info = get_run(ws.store, run_id)
    click.echo(
        f"run {info.id}: {info.status} at step {info.step}/{info.total_steps}"
        + (f"\n{visible(info.message)}" if info.message else "")
    )


@click.command("train")
@click.option("--check", is_flag=True, help="Only run the preflight checks; spend no compute.")
@click.option(
    "--detach", "-d", is_flag=True, help="Return at once; the run goes on in the background."
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a [training] setting, e.g. --set max_steps=5.",
)
@click.option(
    "--model", default=None, help="Base model to train (default: models.base of task.toml)."
)
@click.option(
    "--accelerate-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Launch with `accelerate launch` and this config (multi-GPU; see docs/scale-out.md).",
)
@click.option(
    "--num-processes",
    type=int,
    default=None,
    help="Processes to train on (DDP through accelerate: one per GPU, or CPU processes with gloo); "
    "without --accelerate-config a DDP config is chosen.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Launch despite a preflight blocker that would waste the run (no learning signal, memory estimate).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output (preflight, or the run id)."
)
@click.pass_context
def train_cmd(
    ctx: click.Context,
    check: bool,
    detach: bool,
    as_json: bool,
    settings: tuple[str, ...],
    model: str | None,
    accelerate_config: Path | None,
    num_processes: int | None,
    force: bool,
) -> None:
    """Train a LoRA adapter with GRPO on the latest selection (train split), in its own process."""
    from engine.runs import prepare, start_run

    ws = workspace_from(ctx)
    overrides = parse_overrides(settings)
    if check:
        pre = prepare(ws, overrides, model).preflight
        if as_json:
            echo_json(
                {"ok": pre.ok, "facts": pre.facts, "problems": [asdict(p) for p in pre.problems]}
            )
        else:
            _print_preflight(pre)
        pre.raise_if_failed()
        return
    run_id = start_run(
        ws,
        overrides,
        model=model,
        accelerate_config=accelerate_config,
        num_processes=num_processes,
        force=force,
    )
    if as_json:
        echo_json({"run_id": run_id, "folder": str(ws.runs_dir / run_id)})
        if detach:
            return
    click.echo(f"started run {run_id} (folder {ws.runs_dir / run_id})", err=as_json)
    if detach:
        click.echo(f"follow it with `sdrl attach {run_id}`, stop it with `sdrl runs stop {run_id}`")
        return
    follow_run(ctx, run_id)


@click.group("runs")
def runs_group() -> None:
    """List, show, stop and resume training runs."""


@runs_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def runs_list(ctx: click.Context, as_json: bool) -> None:
    """All training runs, newest first."""
    from engine.runs import list_runs

    runs = list_runs(workspace_from(ctx).store)
    if as_json:
        echo_json(
            [
                {
                    "id": r.id,
                    "status": r.status,
                    "step": r.step,
                    "total_steps": r.total_steps,
                    "base_model": r.base_model,
                }
                for r in runs
            ]
        )
        return
    if not runs:
        click.echo("no runs yet; start one with `sdrl train`")
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        click.echo(
            f"{r.id}  {r.status:<9} step {r.step}/{r.total_steps or '?'}  {when}  {visible_line(r.base_model)}"
        )


@runs_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def runs_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Status, folder and the latest metrics of a run."""
    from engine.runs import get_run, run_metrics
    from engine.training.run_folder import tracker_commands

    ws = workspace_from(ctx)
    info = get_run(ws.store, run_id)
    metrics = run_metrics(ws.store, info.id)
    trackers = tracker_commands(info.folder)
    last = {name: values[-1][1] for name, values in metrics.items()}
    if as_json:
        echo_json(
            {
                "id": info.id,
                "status": info.status,
                "step": info.step,
                "total_steps": info.total_steps,
                "folder": str(info.folder),
                "message": info.message,
                "metrics": last,
                "trackers": trackers,
            }
        )
        return
    click.echo(
        f"run {info.id}: {info.status}, step {info.step}/{info.total_steps or '?'}, pid {info.pid}"
    )
    click.echo(f"folder {visible_line(info.folder)}\nbase   {visible_line(info.base_model)}")
    if info.message:
        click.echo(visible(info.message))
    for name in sorted(last):
        click.echo(f"  {name:<24} {last[name]:.4g}")
    for command in trackers:
        click.echo(f"open the tracker's logs: {command}")


@runs_group.command("stop")
@click.argument("run_id")
@click.option(
    "--wait", default=60.0, show_default=True, help="Seconds to wait for the run to save and stop."
)
@click.pass_context
def runs_stop(ctx: click.Context, run_id: str, wait: float) -> None:
    """Stop a run after its current step (a checkpoint is saved; `resume` continues)."""
    from engine.runs import stop_run

    info = stop_run(workspace_from(ctx), run_id, wait=wait)
    click.echo(f"run {info.id}: {info.status}")


@runs_group.command("resume")
@click.argument("run_id")
@click.option("--detach", "-d", is_flag=True, help="Return at once.")
@click.pass_context
def runs_resume(ctx: click.Context, run_id: str, detach: bool) -> None:
    """Continue a stopped or failed run from its last checkpoint."""
    from engine.runs import resume_run

    run_id = resume_run(workspace_from(ctx), run_id)
    click.echo(f"resumed run {run_id}")
    if not detach:
        follow_run(ctx, run_id)
