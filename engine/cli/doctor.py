"""`sdrl doctor`: what works on this machine, and how to fix what does not."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from engine.cli.common import echo_json
from engine.doctor import run_checks
from engine.workspace import is_workspace


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def doctor_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check that the bundled models load, llama.cpp works, and which torch device, GPU and vLLM exist."""
    root = Path((ctx.find_root().obj or {}).get("workspace") or ".")
    checks = []
    for check in run_checks(root.resolve() if is_workspace(root) else None):
        checks.append(check)
        if not as_json:
            mark = (
                click.style("ok  ", fg="green")
                if check.ok
                else click.style(
                    "--  " if check.optional else "FAIL", fg="yellow" if check.optional else "red"
                )
            )
            click.echo(f"{mark} {check.name:<30} {check.detail}")
            if not check.ok and check.hint:
                click.echo(f"     fix: {check.hint}")
    if as_json:
        echo_json([asdict(c) for c in checks])
    if any(not c.ok and not c.optional for c in checks):
        sys.exit(1)
