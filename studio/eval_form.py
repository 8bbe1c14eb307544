"""The form that starts an eval: benchmark (a built-in name or a file), how many items, and which run's adapter."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from engine.errors import SdrlError
from studio.text import shown

BASE_ONLY = "(base model only)"


def eval_options(benchmark: str, limit: str, run_id: str | None) -> dict[str, Any]:
    """Options of an eval job from the form's text; SdrlError when the benchmark or the limit will not do."""
    from engine.benchmarks import resolve_benchmark

    name = benchmark.strip()
    resolve_benchmark(name)  # a clear error now rather than a failed job later
    try:
        count = int(limit.strip()) if limit.strip() else None
    except ValueError:
        count = 0
    if count is not None and count < 1:
        raise SdrlError(
            f"limit {limit.strip()!r} is not a whole number of items",
            "give 1 or more, or leave it empty for all",
        )
    return {"benchmark": name, "limit": count, "run_id": run_id}


class EvalFormModal(ModalScreen[dict[str, Any] | None]):
    """Benchmark, limit and run; enter starts the eval job, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, runs: list[str]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        from engine.benchmarks import builtin_benchmarks

        builtins = ", ".join(builtin_benchmarks()) or "none"
        with Vertical(id="dialog", classes="stage-form"):
            yield Label("Start an eval", classes="dialog-title")
            with Horizontal(classes="setting"):
                yield Label("benchmark")
                yield Input(
                    "gsm8k",
                    id="eval-benchmark",
                    compact=True,
                    tooltip=f"built-in: {builtins}, or a .jsonl file",
                )
            with Horizontal(classes="setting"):
                yield Label("limit")
                yield Input(
                    "50", id="eval-limit", compact=True, tooltip="first N items; empty for all"
                )
            with Horizontal(classes="setting"):
                yield Label("run")
                yield Select(
                    [(BASE_ONLY, BASE_ONLY), *((r, r) for r in self.runs)],
                    value=self.runs[0] if self.runs else BASE_ONLY,
                    allow_blank=False,
                    id="eval-run",
                    compact=True,
                )
            yield Static(id="eval-form-errors")
            yield Static(
                "[dim]with a run: the base model and the run's adapter, item by item · enter starts · esc cancels[/]"
            )
            with Horizontal(classes="buttons"):
                yield Button("Start (enter)", id="start", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#eval-benchmark", Input).focus()

    def action_start(self) -> None:
        run = self.query_one("#eval-run", Select).value
        try:
            options = eval_options(
                self.query_one("#eval-benchmark", Input).value,
                self.query_one("#eval-limit", Input).value,
                None if run == BASE_ONLY else str(run),
            )
        except SdrlError as exc:
            self.query_one("#eval-form-errors", Static).update(
                f"[red]{shown(exc.title)}[/]\n[b]fix:[/] {shown(exc.hint)}"
            )
            return
        self.dismiss(options)

    def on_input_submitted(self) -> None:
        self.action_start()

    def on_button_pressed(self) -> None:
        self.action_start()

    def action_cancel(self) -> None:
        self.dismiss(None)
