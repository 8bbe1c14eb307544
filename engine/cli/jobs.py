"""Stages as jobs from the terminal: start one (detached or followed), `sdrl jobs list|show|stop|resume|logs`, `sdrl attach`.

A followed job is tied to its terminal as a stage always was: Ctrl-C stops it between items (exit
130), a second Ctrl-C or killing the CLI ends it. `--detach` leaves it running on its own.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from engine.cli.common import echo_json, render_events, workspace_from
from engine.errors import RunError
from engine.events import Event
from engine.text import visible, visible_line
from engine.workspace import Workspace

STOPPED_EXIT = 130


def detach_option(f: Any) -> Any:
    return click.option(
        "--detach",
        "-d",
        is_flag=True,
        help="Start the stage as a background job and return at once (`sdrl attach` follows it).",
    )(f)


def run_stage(
    ctx: click.Context,
    stage: str,
    options: dict[str, Any],
    *,
    detach: bool,
    quiet: bool = False,
    on_event: Callable[[Event], None] | None = None,
) -> Any:
    """Start `stage` as a job; follow it unless `detach`. Returns the ended JobInfo (None when detached)."""
    from engine.jobs import start_job

    workspace = workspace_from(ctx)
    options = {k: v for k, v in options.items() if v is not None}
    info = start_job(workspace, stage, options, tied=not detach)
    if detach:
        click.echo(f"started {stage} job {info.id} (pid {info.supervisor_pid})")
        click.echo(
            f"follow it with `sdrl attach {info.id}`, stop it with `sdrl jobs stop {info.id}`"
        )
        return None
    return follow_to_end(workspace, info.id, quiet=quiet, on_event=on_event, owner=True)


def follow_to_end(
    workspace: Workspace,
    job_id: str,
    *,
    quiet: bool = False,
    on_event: Callable[[Event], None] | None = None,
    owner: bool = False,
) -> Any:
    """Follow a job until it ends and report how it ended (exit 130 stopped, 2 failed, 128+N killed by signal N).

    `owner`: Ctrl-C stops the job (a second one aborts); otherwise Ctrl-C only detaches the follower.
    """
    from engine.jobs import follow_job, get_job, stop_job

    interrupted: list[int] = []

    def on_sigint(signum: int, frame: Any) -> None:
        if not owner:
            raise KeyboardInterrupt
        if interrupted:
            raise KeyboardInterrupt  # second press: abort; the tied job ends with this process
        interrupted.append(signum)
        click.echo("\nstopping; finished items are kept (press again to abort)...", err=True)
        with contextlib.suppress(RunError):  # it may have ended meanwhile
            stop_job(workspace, job_id)

    previous = signal.signal(signal.SIGINT, on_sigint)
    if owner:
        signal.signal(signal.SIGTERM, on_sigint)
    try:
        render_events(follow_job(workspace, job_id), quiet=quiet, on_event=on_event)
    except KeyboardInterrupt:
        if owner:
            raise
        click.echo(
            f"\ndetached; the job goes on. Follow it again with `sdrl attach {job_id}`", err=True
        )
        return get_job(workspace.store, job_id)
    finally:
        signal.signal(signal.SIGINT, previous)
    info = get_job(workspace.store, job_id)
    while info.live:  # the log ended first; the supervisor is writing the outcome
        time.sleep(0.1)
        info = get_job(workspace.store, job_id)
    return report_outcome(info)


def report_outcome(info: Any) -> Any:
    """Say how a job ended; exits non-zero unless it finished."""
    if info.state == "finished":
        return info
    if info.state == "stopped":
        click.echo(
            f"{info.stage} job {info.id}: stopped; progress is saved, `sdrl jobs resume {info.id}` "
            "(or the same command) continues",
            err=True,
        )
        sys.exit(STOPPED_EXIT)
    click.secho(f"error: {visible(info.cause)}", fg="red", err=True)
    if info.hint:
        click.echo(f"  fix: {visible(info.hint)}", err=True)
    code = info.returncode
    if code is not None and code < 0:
        sys.exit(128 - code)  # the shell's convention for death by signal N
    sys.exit(code if code and code > 0 else 1)


def _line(info: Any) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.created_at))
    cause = f"  {info.cause}" if info.state == "failed" else ""
    run = f" run {info.run_id}" if info.run_id else ""
    return f"{info.id}  {info.stage:<9} {info.state:<9} pid {info.pid or '-':<7} {when}{run}{cause}"


@click.group("jobs")
def jobs_group() -> None:
    """List, show, stop, resume jobs and read their logs (an id prefix or `latest` names a job)."""


@jobs_group.command("list")
@click.option("--stage", default=None, help="Only jobs of this stage.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def jobs_list(ctx: click.Context, stage: str | None, as_json: bool) -> None:
    """All jobs, newest first: stage, state, pid and the cause of a failure."""
    from engine.jobs import list_jobs

    jobs = list_jobs(workspace_from(ctx).store, stage)
    if as_json:
        echo_json([j.as_dict() for j in jobs])
        return
    if not jobs:
        click.echo("no jobs yet; start one with e.g. `sdrl generate --detach`")
    for info in jobs:
        click.echo(_line(info))


@jobs_group.command("show")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def jobs_show(ctx: click.Context, job: str, as_json: bool) -> None:
    """One job: stage, state, pid, options, folder, and why it failed with the fix."""
    from engine.jobs import get_job

    info = get_job(workspace_from(ctx).store, job)
    if as_json:
        echo_json(info.as_dict())
        return
    click.echo(_line(info))
    click.echo(
        f"options {visible_line(str(info.options))}\nfolder  {visible_line(str(info.folder))}"
    )
    if info.cause:
        click.echo(f"cause   {visible(info.cause)}")
    if info.hint:
        click.echo(f"fix     {visible(info.hint)}")


@jobs_group.command("stop")
@click.argument("job")
@click.option(
    "--wait", default=60.0, show_default=True, help="Seconds to wait for the job to stop."
)
@click.pass_context
def jobs_stop(ctx: click.Context, job: str, wait: float) -> None:
    """Stop a job now (a base-model call in flight ends at its next token; training: after the current step); `sdrl jobs resume` continues."""
    from engine.jobs import stop_job

    info = stop_job(workspace_from(ctx), job, wait=wait)
    click.echo(f"{info.stage} job {info.id}: {info.state}")
    if info.live:
        raise RunError(
            f"Job {info.id} did not stop within {wait:g} s",
            f"it stops after its current item; check again with `sdrl jobs show {info.id}`",
        )


@jobs_group.command("resume")
@click.argument("job")
@detach_option
@click.pass_context
def jobs_resume(ctx: click.Context, job: str, detach: bool) -> None:
    """Run a stopped or failed job's stage again with the same options; finished items are skipped."""
    from engine.jobs import resume_job

    workspace = workspace_from(ctx)
    info = resume_job(workspace, job, tied=not detach)
    click.echo(f"resumed {info.stage} as job {info.id}")
    if not detach:
        _attach(ctx, info.id, owner=info.stage != "train")


@jobs_group.command("logs")
@click.argument("job")
@click.pass_context
def jobs_logs(ctx: click.Context, job: str) -> None:
    """The job's output (warnings, tracebacks): its job.log (train.log for training)."""
    from engine.jobs import get_job

    info = get_job(workspace_from(ctx).store, job)
    if info.log_path.is_file():
        click.echo(visible(info.log_path.read_text(encoding="utf-8", errors="replace")), nl=False)


def _attach(ctx: click.Context, key: str, *, owner: bool = False) -> None:
    from engine.cli.train import follow_run
    from engine.jobs import find_job

    workspace = workspace_from(ctx)
    info = find_job(workspace.store, key)
    if info is None:
        follow_run(ctx, key)  # not a job: a run id (or prefix)
    elif info.stage == "train":
        follow_run(ctx, info.run_id or "")
    else:
        follow_to_end(workspace, info.id, owner=owner)


@click.command("attach")
@click.argument("job")
@click.pass_context
def attach_cmd(ctx: click.Context, job: str) -> None:
    """Follow a job or a training run live (an id, a unique prefix, or `latest`); Ctrl-C detaches."""
    _attach(ctx, job)
