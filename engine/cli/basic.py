"""`sdrl init` and `sdrl status`."""

from __future__ import annotations

import click

from engine.cli.common import echo_json, workspace_from
from engine.status import workspace_status
from engine.text import visible_line
from engine.workspace import DEFAULT_TEMPLATE, init_workspace, template_names


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "-t",
    "--template",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="Template to start from: " + ", ".join(template_names()) + ".",
)
def init_cmd(directory: str, template: str) -> None:
    """Create a workspace in DIRECTORY (task.toml, database, corpus/, runs/)."""
    workspace = init_workspace(directory, template)
    click.echo(f"created workspace {workspace.root} from template {template!r}")
    click.echo(f"next: cd {directory} && sdrl task edit   (or: sdrl-studio {directory})")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Counts per stage for the current task revision, and the latest run."""
    workspace = workspace_from(ctx, writable=False)
    status = workspace_status(workspace)
    if as_json:
        echo_json(status)
        return
    click.echo(f"workspace  {visible_line(status['workspace'])}")
    click.echo(
        f"task       {visible_line(status['task'])} (revision {status['revision']}, {status['revisions']} in all)"
    )
    click.echo(
        f"corpus     {status['corpus']['documents']} documents, {status['corpus']['passages']} passages"
    )
    for stage, counts in status["stages"].items():
        text = ", ".join(f"{k} {v}" for k, v in counts.items())
        click.echo(f"{stage:<10} {text}")
    run = status["latest_run"]
    if run:
        click.echo(
            f"latest run {run['id']} {run['status']} step {run['step']}/{run['total_steps'] or '?'}"
        )
    else:
        click.echo("latest run none")
