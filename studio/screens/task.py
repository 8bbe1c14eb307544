"""Task: edit the task definition, save it as a revision, and compare any two revisions side by side."""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from typing import Any

import tomli_w
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import (
    DataTable,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from engine.config import ANSWER_TYPES, validate_task
from engine.errors import ConfigError
from studio.modals import DiffModal
from studio.screens.base import StudioScreen, reports_errors

TEXT_FIELDS = ("description", "input_format", "output_format")


def write_atomically(path: os.PathLike[str], text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a task.toml."""
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class TaskScreen(StudioScreen):
    NAME = "task"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save revision"),
        Binding("ctrl+r", "reload", "Reload file"),
        Binding("m", "mark_revision", "Mark rev"),
        Binding("d", "diff", "Diff"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded: dict[str, Any] = {}
        self.marked_revision: int | None = None

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="task-tabs"):
            with TabPane("Definition", id="tab-definition"), VerticalScroll(id="task-form"):
                yield Label("answer type", classes="field-label")
                yield Select(
                    [(t, t) for t in ANSWER_TYPES],
                    id="answer_type",
                    allow_blank=False,
                    compact=True,
                )
                for name in TEXT_FIELDS:
                    yield Label(name.replace("_", " "), classes="field-label")
                    yield TextArea(id=name, soft_wrap=True, compact=True)
            with TabPane("Demos", id="tab-demos"):
                yield Label(
                    "demonstrations as TOML [[demos]] tables (input = ..., output = ...)",
                    classes="field-label",
                )
                yield TextArea(id="demos", compact=True)
            with TabPane("History", id="tab-history"):
                yield Label(
                    "m marks a revision, d diffs it against the highlighted one (or the previous)",
                    classes="field-label",
                )
                yield DataTable(id="revisions", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="task-save-bar"):
            yield Input(placeholder="revision message (optional), then ctrl+s", id="message")
            yield Static(id="task-status")

    def on_mount(self) -> None:
        table = self.query_one("#revisions", DataTable)
        table.add_columns("rev", "saved", "message", "hash")
        self.action_reload()

    # -- loading ------------------------------------------------------------------------------
    def action_reload(self) -> None:
        try:
            self.loaded = tomllib.loads(self.workspace.task_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            self.studio.show_error(
                ConfigError(
                    f"cannot read {self.workspace.task_file}: {exc}",
                    "fix the file by hand or restore a revision with `sdrl task show -r N`",
                )
            )
            self.loaded = {}
        for name in TEXT_FIELDS:
            self.query_one(f"#{name}", TextArea).load_text(
                str(self.loaded.get(name, "")).strip("\n")
            )
        answer_type = self.loaded.get("answer_type")
        if answer_type in ANSWER_TYPES:
            self.query_one("#answer_type", Select).value = answer_type
        demos = self.loaded.get("demos", [])
        self.query_one("#demos", TextArea).load_text(
            tomli_w.dumps({"demos": demos}, multiline_strings=True) if demos else ""
        )
        self._load_history()

    def _load_history(self) -> None:
        table = self.query_one("#revisions", DataTable)
        table.clear()
        for rev in reversed(self.store.revisions()):
            mark = "*" if rev.id == self.marked_revision else " "
            when = datetime.fromtimestamp(rev.created_at).strftime("%Y-%m-%d %H:%M")
            table.add_row(
                f"{mark}{rev.id}", when, rev.message, rev.content_hash[:8], key=str(rev.id)
            )
        latest = self.store.latest_revision()
        self.query_one("#task-status", Static).update(f"revision {latest.id if latest else '-'}")

    # -- saving -------------------------------------------------------------------------------
    def form_data(self) -> dict[str, Any]:
        """The task as the form shows it: the loaded file with the edited fields replaced."""
        data = dict(self.loaded)
        for name in TEXT_FIELDS:
            data[name] = self.query_one(f"#{name}", TextArea).text
        data["answer_type"] = self.query_one("#answer_type", Select).value
        demos_text = self.query_one("#demos", TextArea).text
        try:
            data["demos"] = tomllib.loads(demos_text).get("demos", [])
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"the demos are not valid TOML: {exc}",
                'write each demo as a [[demos]] table with input = "..." and output = "..."',
            ) from exc
        return data

    def action_save(self) -> None:
        status = self.query_one("#task-status", Static)
        try:
            data = self.form_data()
            validate_task(data, "task definition")
        except ConfigError as exc:
            status.update("[red]not saved[/]")
            self.studio.show_error(exc)
            return
        if _normalised(data) == _normalised(self.loaded):
            status.update("unchanged")
            return
        message = self.query_one("#message", Input).value.strip() or "edited in the studio"
        write_atomically(self.workspace.task_file, tomli_w.dumps(data, multiline_strings=True))
        revision, _ = self.workspace.current_revision(message)
        self.loaded = data
        self.query_one("#message", Input).value = ""
        self._load_history()
        status.update(f"[green]saved revision {revision.id}[/]")
        self.notify(f"saved revision {revision.id}", timeout=2)

    # -- history ------------------------------------------------------------------------------
    def _highlighted_revision(self) -> int | None:
        table = self.query_one("#revisions", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None

    def action_mark_revision(self) -> None:
        rev = self._highlighted_revision()
        self.marked_revision = None if rev == self.marked_revision else rev
        row = self.query_one("#revisions", DataTable).cursor_row
        self._load_history()
        self.query_one("#revisions", DataTable).move_cursor(row=row)

    @reports_errors
    def action_diff(self) -> None:
        current = self._highlighted_revision()
        if current is None:
            latest = self.store.latest_revision()
            current = latest.id if latest else None
        if current is None:
            return
        other = self.marked_revision if self.marked_revision not in (None, current) else current - 1
        left, right = (
            self.store.revision(min(other, current)),
            self.store.revision(max(other, current)),
        )
        if left is None or right is None or left.id == right.id:
            self.notify("need two revisions to compare", severity="warning")
            return
        self.app.push_screen(
            DiffModal(
                f"revision {left.id} {escape(left.message)}",
                left.content,
                f"revision {right.id} {escape(right.message)}",
                right.content,
            )
        )


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name in TEXT_FIELDS:
        out[name] = str(out.get(name, "")).strip()
    out["demos"] = [{k: str(v).strip() for k, v in d.items()} for d in out.get("demos", [])]
    return out


SCREEN = TaskScreen
