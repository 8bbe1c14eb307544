"""The run-settings form of a pipeline stage: its numbers (n, votes, k, M, rounds) from task.toml, checked by
the engine's own validation, for this run only or saved to task.toml."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from engine.config import TaskDefinition, validate_task
from engine.errors import ConfigError
from engine.settings_help import setting_description
from studio.text import shown

STAGE_SETTINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "generate": (
        ("n", "generation.n_samples", "n (questions)"),
        ("votes", "generation.votes", "votes"),
    ),
    "label": (("votes", "generation.votes", "votes"),),
    "probe": (),
    "adapt": (
        ("rounds", "difficulty.rounds", "rounds"),
        ("votes", "generation.votes", "votes"),
    ),
    "score": (("k", "scoring.k", "k (solutions)"),),
    "select": (
        ("rule", "selection.rule", "rule"),
        ("m", "selection.m", "M (samples)"),
    ),
}
"""Per stage: (the stage's keyword, the task.toml setting it overrides, label)."""


def current_value(task: TaskDefinition, path: str) -> Any:
    section, name = path.split(".")
    return getattr(getattr(task, section), name)


def stage_values(
    task: TaskDefinition, stage: str, raw: dict[str, str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The stage's keywords and the task.toml changes for the form's text; ConfigError (every field in
    error, as dotted paths) when the engine's validation of the task with these values fails."""
    data = task.model_dump()
    changes: dict[str, dict[str, Any]] = {}
    for _kwarg, path, _label in STAGE_SETTINGS[stage]:
        section, name = path.split(".")
        value = raw.get(path, "").strip()
        data[section][name] = value
        changes.setdefault(section, {})[name] = value
    checked = validate_task(data, "the stage settings")
    typed = {path: current_value(checked, path) for _k, path, _l in STAGE_SETTINGS[stage]}
    kwargs = {kwarg: typed[path] for kwarg, path, _label in STAGE_SETTINGS[stage]}
    for section, values in changes.items():
        for name in values:
            values[name] = typed[f"{section}.{name}"]
    return kwargs, changes


class StageSettingsModal(ModalScreen[tuple[str, dict[str, Any], dict[str, dict[str, Any]]] | None]):
    """A stage's numbers, pre-filled from task.toml. Enter runs with them once; ctrl+s saves them to
    task.toml (a new revision) and runs; escape cancels. Fields in error are highlighted, all errors listed."""

    BINDINGS = [
        Binding("ctrl+s", "submit('save')", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, stage: str, task: TaskDefinition) -> None:
        super().__init__()
        self.stage = stage
        self.definition = task

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="stage-form"):
            yield Label(f"Run {self.stage}", classes="dialog-title")
            for _kwarg, path, label in STAGE_SETTINGS[self.stage]:
                with Horizontal(classes="setting"):
                    yield Label(label)
                    yield Input(
                        str(current_value(self.definition, path)),
                        id=f"stage-{path.replace('.', '-')}",
                        tooltip=f"{path} in task.toml: {setting_description(path)}",
                        compact=True,
                    )
            yield Static(id="stage-errors")
            yield Static(
                "[dim]enter: this run only · ctrl+s: save to task.toml (a new revision: "
                "stages then work on it, the current pool stays with its revision) · esc: cancel[/]",
                id="stage-form-help",
            )
            with Horizontal(classes="buttons"):
                yield Button("Run once (enter)", id="once", variant="primary")
                yield Button("Save to task.toml (ctrl+s)", id="save")

    def on_mount(self) -> None:
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def _raw(self) -> dict[str, str]:
        return {
            path: self.query_one(f"#stage-{path.replace('.', '-')}", Input).value
            for _kwarg, path, _label in STAGE_SETTINGS[self.stage]
        }

    def action_submit(self, how: str) -> None:
        errors = self.query_one("#stage-errors", Static)
        for field in self.query(Input):
            field.remove_class("-invalid")
        try:
            kwargs, changes = stage_values(self.definition, self.stage, self._raw())
        except ConfigError as exc:
            for path in exc.fields:
                for invalid in self.query(f"#stage-{path.replace('.', '-')}"):
                    invalid.add_class("-invalid")
            errors.update(f"[red]{shown(exc.title)}[/]\n[b]fix:[/] {shown(exc.hint)}")
            return
        self.dismiss((how, kwargs, changes))

    def on_input_submitted(self) -> None:
        self.action_submit("once")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_submit(event.button.id or "once")

    def action_cancel(self) -> None:
        self.dismiss(None)
