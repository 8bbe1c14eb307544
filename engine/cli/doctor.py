"""`sdrl doctor`: what works on this machine, and how to fix what does not."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from engine.cli.common import echo_json
from engine.doctor import PROBE_TIMEOUT_S, run_checks
from engine.workspace import is_workspace


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=PROBE_TIMEOUT_S,
    show_default=True,
    help="Seconds each model check may take.",
)
@click.pass_context
def doctor_cmd(ctx: click.Context, as_json: bool, timeout: float) -> None:
    """Check that the configured models load and generate (each in a child process, so a crash is
    reported, not suffered), llama.cpp, the torch device, GPU and vLLM, and free disk space.
    Exits 1 when a check fails."""
    root = Path((ctx.find_root().obj or {}).get("workspace") or ".")
    checks = []
    for check in run_checks(root.resolve() if is_workspace(root) else None, timeout):
        checks.append(check)
        if not as_json:
            mark = (
                click.style("ok  ", fg="green")
                if check.ok
                else click.style(
                    "--  " if check.optional else "FAIL", fg="yellow" if check.optional else "red"
                )
            )
            click.echo(f"{mark} {check.name:<36} {check.detail}")
            if not check.ok and check.hint:
                click.echo(f"     fix: {check.hint}")
    if as_json:
        echo_json([asdict(c) for c in checks])
    if any(not c.ok and not c.optional for c in checks):
        sys.exit(1)
