"""`sdrl task show|edit|save|log|diff`: the task definition and its revisions."""

from __future__ import annotations

import difflib
import os
import shlex
import subprocess
import tempfile
import textwrap
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from engine.cli.common import echo_json, workspace_from
from engine.config import parse_task
from engine.errors import ConfigError, SdrlError
from engine.settings_help import section_descriptions, settings_help
from engine.store import Revision
from engine.text import visible, visible_line
from engine.workspace import Workspace


@click.group("task")
def task_group() -> None:
    """Show, edit, save, list and diff revisions of the task definition."""


def _get(workspace: Workspace, number: int) -> Revision:
    revision = workspace.store.revision(number)
    if revision is None:
        last = workspace.store.latest_revision()
        raise SdrlError(
            f"No revision {number}",
            f"revisions run from 1 to {last.id if last else 0}; see `sdrl task log`",
        )
    return revision


@task_group.command("show")
@click.option(
    "-r",
    "--revision",
    type=int,
    default=None,
    help="Show this revision (default: the current one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the validated definition as JSON.")
@click.option(
    "--help-settings",
    is_flag=True,
    help="List every setting of task.toml with its type, default and meaning (no workspace needed).",
)
@click.pass_context
def show_cmd(ctx: click.Context, revision: int | None, as_json: bool, help_settings: bool) -> None:
    """Print the task definition (TOML)."""
    if help_settings:
        print_settings_help(as_json)
        return
    workspace = workspace_from(ctx)
    if revision is None:
        current, task = workspace.current_revision()
    else:
        current = _get(workspace, revision)
        task = parse_task(current.content, f"revision {current.id}")
    if as_json:
        echo_json({"revision": current.id, **task.model_dump()})
    else:
        click.echo(visible(current.content), nl=False)


def print_settings_help(as_json: bool) -> None:
    """Every setting, grouped by [section], each with type, default and its docstring from engine/config.py."""
    rows = settings_help()
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    sections = {**section_descriptions(), "demos": "one human example (repeat the table per demo)"}
    current = None
    for row in rows:
        if row.section != current:
            current = row.section
            heading = f"[[{current}]]" if current == "demos" else f"[{current}]"
            click.echo(f"\n{heading}  {sections[current]}" if current else "top level")
        click.echo(f"  {row.name}: {row.type} = {row.default}")
        click.echo(
            textwrap.fill(row.description, 100, initial_indent=" " * 6, subsequent_indent=" " * 6)
        )


@task_group.command("save")
@click.option("-m", "--message", default="", help="What changed.")
@click.pass_context
def save_cmd(ctx: click.Context, message: str) -> None:
    """Validate task.toml and record it as a new revision (if it changed)."""
    workspace = workspace_from(ctx)
    before = workspace.store.latest_revision()
    revision, _ = workspace.current_revision(message)
    if before is not None and before.id == revision.id:
        click.echo(f"unchanged: revision {revision.id} is current")
    else:
        click.echo(f"saved revision {revision.id}")


def _editor() -> list[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


@task_group.command("edit")
@click.option("-m", "--message", default="", help="What changed.")
@click.pass_context
def edit_cmd(ctx: click.Context, message: str) -> None:
    """Open task.toml in $EDITOR; a valid result becomes a new revision, an invalid one changes nothing."""
    workspace = workspace_from(ctx)
    workspace.current_revision()  # refuse to start from an invalid file, and record unsaved edits first
    original = workspace.task_file.read_text(encoding="utf-8")
    with tempfile.NamedTemporaryFile(
        "w", suffix=".toml", prefix="task-", delete=False, encoding="utf-8"
    ) as fh:
        fh.write(original)
        scratch = Path(fh.name)
    try:
        try:
            result = subprocess.run([*_editor(), str(scratch)], check=False)
        except FileNotFoundError as exc:
            raise SdrlError(
                f"Editor {_editor()[0]!r} not found",
                "set $EDITOR to an installed editor, e.g. EDITOR=nano",
            ) from exc
        if result.returncode != 0:
            raise SdrlError(
                f"The editor exited with status {result.returncode}; nothing was saved",
                "run `sdrl task edit` again",
            )
        edited = scratch.read_text(encoding="utf-8")
        if edited == original:
            click.echo("no changes")
            return
        try:
            parse_task(edited, str(workspace.task_file))
        except ConfigError as exc:
            keep = workspace.root / "task.toml.rejected"
            keep.write_text(edited, encoding="utf-8")
            raise ConfigError(
                exc.title, f"{exc.hint}; your edit is kept in {keep}, task.toml is unchanged"
            ) from exc
        tmp = workspace.task_file.with_suffix(".toml.tmp")
        tmp.write_text(edited, encoding="utf-8")
        tmp.replace(workspace.task_file)
        revision, _ = workspace.current_revision(message)
        click.echo(f"saved revision {revision.id}")
    finally:
        scratch.unlink(missing_ok=True)


@task_group.command("log")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def log_cmd(ctx: click.Context, as_json: bool) -> None:
    """List revisions, newest last."""
    workspace = workspace_from(ctx)
    revisions = workspace.store.revisions()
    if as_json:
        echo_json(
            [
                {
                    "id": r.id,
                    "created_at": r.created_at,
                    "hash": r.content_hash,
                    "message": r.message,
                }
                for r in revisions
            ]
        )
        return
    for r in revisions:
        when = datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{r.id:>4}  {when}  {r.content_hash[:8]}  {visible_line(r.message)}")


@task_group.command("diff")
@click.argument("a", type=int)
@click.argument("b", type=int)
@click.pass_context
def diff_cmd(ctx: click.Context, a: int, b: int) -> None:
    """Unified diff of revision A against revision B."""
    workspace = workspace_from(ctx)
    left, right = _get(workspace, a), _get(workspace, b)
    lines = difflib.unified_diff(
        left.content.splitlines(keepends=True),
        right.content.splitlines(keepends=True),
        fromfile=f"revision {a}",
        tofile=f"revision {b}",
    )
    text = "".join(lines)
    click.echo(visible(text) if text else f"revisions {a} and {b} are identical", nl=not text)


@task_group.command("check")
@click.pass_context
def check_cmd(ctx: click.Context) -> None:
    """Validate task.toml, warn about formats, demos and checker that disagree, and check that the models exist."""
    from engine.answers import task_checker
    from engine.models import resolve_model
    from engine.task_check import task_problems

    workspace = workspace_from(ctx)
    task = workspace.task()
    task_checker(task)
    problems = task_problems(task)
    for problem in problems:
        click.echo(f"warning: {visible_line(problem.title)}", err=True)
        click.echo(f"  fix: {visible_line(problem.hint)}", err=True)
    for role, spec in (("instructor", task.models.instructor), ("base", task.models.base)):
        if role == "instructor" and task.models.instructor_backend == "openai":
            click.echo(f"{role:<10} {task.models.openai_base_url} (openai-compatible server)")
            continue
        ref = resolve_model(spec)
        click.echo(f"{role:<10} {visible_line(ref.spec)} -> {visible_line(ref.path)} ({ref.kind})")
    click.echo(
        f"task.toml is valid, with {len(problems)} warning(s)" if problems else "task.toml is valid"
    )
