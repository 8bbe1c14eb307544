"""Task: edit the task definition (form or the file itself), save it as a revision, compare and restore revisions.

A broken task.toml opens here with its errors listed, so it can be fixed in the app; saves keep the file's comments.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Any

import tomli_w
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

from engine.config import ANSWER_TYPES, parse_task, validate_task
from engine.errors import ConfigError, SdrlError
from engine.task_check import task_problems
from engine.task_file import update_task_text, write_atomically
from studio.modals import ConfirmModal, DiffModal
from studio.screens.base import StudioScreen, reports_errors
from studio.text import shown, shown_line

TEXT_FIELDS = ("description", "input_format", "output_format")


class TaskScreen(StudioScreen):
    NAME = "task"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("m", "mark_revision", "Mark"),
        Binding("d", "diff", "Diff"),
        Binding("v", "restore", "Revert"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded: dict[str, Any] = {}
        self.marked_revision: int | None = None
        self.error: SdrlError | None = None
        """Why task.toml does not load, while it does not."""
        self.problems: list[Any] = []
        """Warnings about the saved definition (engine.task_check)."""

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
            with TabPane("File", id="tab-file"):
                yield Label(
                    "task.toml as written, comments included; ctrl+s saves it as it stands",
                    classes="field-label",
                )
                yield TextArea(id="raw", compact=True, soft_wrap=False)
        yield Static(id="task-problems")
        with Horizontal(id="task-save-bar"):
            yield Input(placeholder="revision message (optional), then ctrl+s", id="message")
            yield Static(id="task-status")

    def on_mount(self) -> None:
        table = self.query_one("#revisions", DataTable)
        table.add_columns("rev", "saved", "message", "hash")
        self.action_reload()

    # -- loading ------------------------------------------------------------------------------
    def action_reload(self) -> None:
        """Read task.toml again; a broken file shows its errors (here and in a modal) and opens in the File tab."""
        try:
            text = self.workspace.task_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._show_problems(
                ConfigError(
                    f"cannot read {self.workspace.task_file}: {exc}",
                    "restore a revision (History tab, v)",
                )
            )
            return
        self.query_one("#raw", TextArea).load_text(text)
        try:
            self.loaded = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            self.loaded = {}
        self._fill_form()
        try:
            task = parse_task(text, str(self.workspace.task_file))
        except ConfigError as exc:
            self._show_problems(exc)
        else:
            self._show_problems(None, task)
        self._load_history()

    def _fill_form(self) -> None:
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

    def _show_problems(self, error: SdrlError | None, task: Any = None) -> None:
        """The errors of a broken file (and a modal), or the warnings of a valid one; nothing when all is well."""
        panel = self.query_one("#task-problems", Static)
        self.problems = []
        if error is not None:
            self.error = error
            panel.update(f"[red b]error:[/] {shown(error.title)}\n[b]fix:[/] {shown(error.hint)}")
            panel.display = True
            self.query_one("#task-tabs", TabbedContent).active = "tab-file"
            self.studio.show_error(error)
            return
        self.error = None
        self.problems = task_problems(task) if task is not None else []
        panel.update(
            "\n".join(
                f"[yellow b]warning:[/] {shown(p.title)} [dim]fix: {shown(p.hint)}[/]"
                for p in self.problems
            )
        )
        panel.display = bool(self.problems)

    def _load_history(self) -> None:
        table = self.query_one("#revisions", DataTable)
        table.clear()
        for rev in reversed(self.store.revisions()):
            mark = "*" if rev.id == self.marked_revision else " "
            when = datetime.fromtimestamp(rev.created_at).strftime("%Y-%m-%d %H:%M")
            table.add_row(
                f"{mark}{rev.id}",
                when,
                shown_line(rev.message),
                rev.content_hash[:8],
                key=str(rev.id),
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
        """Save the form (or, in the File tab, the file as written) as a new revision; comments in task.toml stay."""
        status = self.query_one("#task-status", Static)
        path = self.workspace.task_file
        try:
            if self.query_one("#task-tabs", TabbedContent).active == "tab-file":
                text = self.query_one("#raw", TextArea).text
                parse_task(text, str(path))
            else:
                data = self.form_data()
                validate_task(data, "task definition")
                if self.error is None and _normalised(data) == _normalised(self.loaded):
                    status.update("unchanged")
                    return
                text = update_task_text(
                    path.read_text(encoding="utf-8"),
                    {k: data[k] for k in (*TEXT_FIELDS, "answer_type", "demos")},
                )
                parse_task(text, str(path))  # what is written must read back as what the form shows
        except ConfigError as exc:
            status.update("[red]not saved[/]")
            self.studio.show_error(exc)
            return
        self._write(text, self.query_one("#message", Input).value.strip() or "edited in the studio")
        self.query_one("#message", Input).value = ""

    def _write(self, text: str, message: str) -> None:
        write_atomically(self.workspace.task_file, text)
        revision, _ = self.workspace.current_revision(message)
        self.action_reload()
        status = self.query_one("#task-status", Static)
        status.update(f"[green]saved revision {revision.id}[/]")
        if self.problems:
            self.notify(
                "\n".join(p.title for p in self.problems),
                title=f"saved revision {revision.id} with warnings",
                severity="warning",
            )
        else:
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
    def action_restore(self) -> None:
        """Write the highlighted revision back to task.toml, as a new revision (after a confirmation)."""
        number = self._highlighted_revision()
        revision = self.store.revision(number) if number is not None else None
        if revision is None:
            self.notify("pick a revision in the History tab", severity="warning")
            return

        def restore(ok: bool | None) -> None:
            if ok:
                self._write(revision.content, f"restored revision {revision.id}")

        self.app.push_screen(
            ConfirmModal(
                f"Restore revision {revision.id} ({revision.message or 'no message'}) as task.toml? The current file stays in the history."
            ),
            restore,
        )

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
                f"revision {left.id} {shown(left.message)}",
                left.content,
                f"revision {right.id} {shown(right.message)}",
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
