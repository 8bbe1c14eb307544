"""Train: settings with validation, preflight, launch a detached run, list runs, attach to one and follow it live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Label, Static

from engine import queries
from engine.config import TrainingSettings
from engine.errors import ConfigError, RunError
from engine.events import (
    EventLog,
    ItemDone,
    ModelLoading,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.runs import list_runs, resume_run, stop_run, training_settings
from engine.settings_help import setting_description
from engine.workspace import Workspace
from studio import train_client
from studio.modals import ConfirmModal
from studio.screens.base import StudioScreen, reports_errors
from studio.text import shown, shown_line
from studio.widgets.charts import Curve, MetricChart, metric_scale

SETTINGS = (
    "learning_rate",
    "max_steps",
    "group_size",
    "prompts_per_step",
    "lora_rank",
    "kl_coef",
    "epochs",
)
CURVES = (
    ("reward_mean", "reward"),
    ("kl", "KL"),
    ("loss", "loss"),
    ("completion_length", "length"),
    ("zero_std_share", "zero-var"),
)


def parse_settings(values: dict[str, str], base: TrainingSettings) -> dict[str, Any]:
    """Overrides from the form; raises ConfigError naming the field when a value is invalid."""
    overrides: dict[str, Any] = {}
    for name, raw in values.items():
        raw = raw.strip()
        if raw in ("", "none", "None") and name == "max_steps":
            overrides[name] = None
        elif raw:
            overrides[name] = raw
    settings = training_settings(base, overrides)
    return {name: getattr(settings, name) for name in values}


class TrainScreen(StudioScreen):
    NAME = "train"
    AUTO_FOCUS = "#runs"
    BINDINGS = [
        Binding("l", "launch", "Launch"),
        Binding("F", "force_launch", "Force launch", show=False),
        Binding("c", "preflight", "Check"),
        Binding("enter", "follow", "Open"),
        Binding("s", "stop_run", "Stop"),
        Binding("R", "resume_run", "Resume"),
        Binding("e", "edit_settings", "Edit"),
        Binding("escape", "focus_runs", "Back", show=False),
        Binding("t", "next_chart", "Chart"),
        Binding("comma", "cursor_step(-1)", "Step-", key_display="<"),
        Binding("full_stop", "cursor_step(1)", "Step+", key_display=">"),
        Binding("C", "compare", "Compare"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None
        self.series: dict[str, list[float]] = {}
        self._after_rowid = 0
        self._log_offset = 0
        self._runs_seen: tuple[Any, ...] = ()
        self.samples: list[dict[str, Any]] = []
        self.loading_model: str | None = None
        """The model the attached run is loading (its log says so until the trainer starts)."""
        self.points: dict[str, list[tuple[int, float]]] = {}
        """(step, value) per metric of the attached run."""
        self.compare_id: str | None = None
        self.compare_points: dict[str, list[tuple[int, float]]] = {}
        self.cursor_step: int | None = None
        """The step whose values the charts show; None follows the newest step."""
        self.chart_index = 0

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="train-body"):
            with Vertical(id="train-left"):
                with VerticalScroll(id="train-form"):
                    for name in SETTINGS:
                        with Horizontal(classes="setting"):
                            yield Label(name.replace("_", " "))
                            yield Input(
                                id=f"set-{name}",
                                compact=True,
                                tooltip=setting_description(f"training.{name}"),
                            )
                    yield Static(id="preflight")
                yield DataTable(id="runs", cursor_type="row")
            with Vertical(id="dashboard"):
                yield Static("no run attached: pick one in the list and press enter", id="run-info")
                yield Static(id="curve-values")
                with Vertical(id="curves"):
                    for key, title in CURVES:
                        yield MetricChart(key, title, id=f"chart-{key}")
                yield Static(id="completions")

    def on_mount(self) -> None:
        try:
            base = self.workspace.task().training
        except Exception:  # noqa: BLE001 - an invalid task.toml is reported on the Task screen
            base = TrainingSettings()
        for name in SETTINGS:
            value = getattr(base, name)
            self.query_one(f"#set-{name}", Input).value = "" if value is None else str(value)
        self.query_one("#runs", DataTable).add_columns("run", "status", "step")
        self.refresh_runs()
        self.set_interval(self.studio.poll_interval, self.poll)
        self.query_one("#runs", DataTable).focus()

    def action_edit_settings(self) -> None:
        self.query_one(f"#set-{SETTINGS[0]}", Input).focus()

    def action_focus_runs(self) -> None:
        self.query_one("#runs", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.attach(event.row_key.value)

    # -- settings -----------------------------------------------------------------------------
    def _form(self) -> dict[str, str]:
        return {name: self.query_one(f"#set-{name}", Input).value for name in SETTINGS}

    def overrides(self) -> dict[str, Any]:
        """The form's settings checked by the engine; every field in error is highlighted (and all listed)."""
        base = self.workspace.task().training
        try:
            settings = parse_settings(self._form(), base)
        except ConfigError as exc:
            named = {path.split(".")[-1] for path in exc.fields}
            for name in SETTINGS:
                self.query_one(f"#set-{name}", Input).set_class(name in named, "-invalid")
            raise
        for name in SETTINGS:
            self.query_one(f"#set-{name}", Input).remove_class("-invalid")
        return settings

    def on_input_changed(self, event: Input.Changed) -> None:
        if not (event.input.id or "").startswith("set-"):
            return
        name = event.input.id.removeprefix("set-")  # type: ignore[union-attr]
        try:
            parse_settings({name: event.value}, TrainingSettings())
            event.input.remove_class("-invalid")
        except ConfigError:
            event.input.add_class("-invalid")

    @reports_errors
    def action_preflight(self, then: str = "") -> None:
        """Run the preflight (`sdrl train --check` in a child process: it imports torch); `then` = "launch" decides the launch on its level."""
        overrides = self.overrides()
        root = self.workspace.root
        self.query_one("#preflight", Static).update("preflight: checking…")

        def check() -> Any:
            # in a child process: the checks import torch, which never loads in the studio
            return train_client.training_preflight(root, overrides)

        self.run_worker(check, name=f"preflight{then}", thread=True, exit_on_error=False)

    def show_preflight(self, pre: Any) -> None:
        colour = {"ok": "green", "warning": "yellow"}.get(pre.level, "red")
        lines = [f"[{colour} b]preflight: {pre.level}[/]"]
        for p in pre.problems:
            tone = "red" if p.level == "blocker" else "yellow"
            lines.append(
                f"[{tone}]{p.level}: {shown(p.title)}[/]\n  [dim]what to do: {shown(p.hint)}[/]"
            )
        lines += [f"[dim]{k}: {v}[/]" for k, v in pre.facts.items()]
        self.query_one("#preflight", Static).update("\n".join(lines))

    def worker_finished(self, worker: Any) -> None:
        if worker.name in ("preflight", "preflightlaunch") and worker.result is not None:
            self.show_preflight(worker.result)
            if worker.name == "preflightlaunch":
                self.decide_launch(worker.result)
        elif worker.name == "launch" and worker.result:
            self.notify(f"launched run {worker.result}; it keeps going if you quit")
            self.attach(worker.result)
            self.refresh_runs()

    def decide_launch(self, pre: Any) -> None:
        """ok launches; a warning asks first; a blocker is refused, with what to do (F forces a forceable one)."""
        problems = "\n".join(f"• {p.title}\n  what to do: {p.hint}" for p in pre.problems)
        if pre.level == "ok":
            self.launch_now()
        elif pre.level == "warning":

            def answered(ok: bool | None) -> None:
                if ok:
                    self.launch_now()

            self.app.push_screen(
                ConfirmModal(f"Preflight warns:\n{problems}\n\nLaunch anyway?"), answered
            )
        else:
            forceable = all(p.forceable for p in pre.problems if p.level == "blocker")
            self.studio.show_error(
                RunError(
                    f"Launch refused: the preflight found a blocker\n{problems}",
                    "follow what to do above"
                    + (
                        ", or force the launch with F (it will likely waste the run)"
                        if forceable
                        else ""
                    ),
                )
            )

    @reports_errors
    def action_launch(self) -> None:
        """Preflight first: the launch follows from its level (decide_launch)."""
        self.action_preflight(then="launch")

    @reports_errors
    def action_force_launch(self) -> None:
        self.launch_now(force=True)

    @reports_errors
    def launch_now(self, force: bool = False) -> None:
        overrides = self.overrides()
        root = self.workspace.root

        def launch() -> str:
            # `sdrl train --detach`: the run is a job of its own, the studio only launches it
            return train_client.launch_training(root, overrides, force=force)

        self.run_worker(launch, name="launch", thread=True, exit_on_error=False)

    # -- runs ---------------------------------------------------------------------------------
    def _highlighted_run(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def refresh_runs(self) -> None:
        rows = [(r.id, r.status, r.step, r.total_steps) for r in list_runs(self.store)]
        if tuple(rows) == self._runs_seen:
            return
        self._runs_seen = tuple(rows)
        table = self.query_one("#runs", DataTable)
        cursor = table.cursor_row
        table.clear()
        for run_id, status, step, total in rows:
            table.add_row(run_id, status, f"{step}/{total or '?'}", key=run_id)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    @reports_errors
    def action_follow(self) -> None:
        run_id = self._highlighted_run()
        if run_id is None:
            self.notify("no runs yet: launch one with l or `sdrl train`", severity="warning")
            return
        self.attach(run_id)

    def attach(self, run_id: str) -> None:
        self.run_id = run_id
        self.series = {}
        self.points = {}
        self.samples = []
        self.loading_model = None
        self.cursor_step = None
        self._after_rowid = 0
        self._log_offset = 0
        if self.compare_id == run_id:
            self.compare_id, self.compare_points = None, {}
        self.poll()
        self.draw_curves()  # a run without metrics yet must not keep the previous run's curves

    # -- charts -------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self.call_after_refresh(self._lay_out_charts)

    def _lay_out_charts(self) -> None:
        """All five charts when each gets 8 rows (two columns on a wide screen), else the chosen one (t) fills the space."""
        curves = self.query_one("#curves")
        width, height = curves.size
        grid = width >= 80 and height >= 8 * 3
        curves.set_class(grid, "-grid")
        all_fit = grid or height >= 8 * len(CURVES)
        for index, (key, _title) in enumerate(CURVES):
            self.query_one(f"#chart-{key}", MetricChart).display = (
                all_fit or index == self.chart_index
            )

    def action_next_chart(self) -> None:
        self.chart_index = (self.chart_index + 1) % len(CURVES)
        self._lay_out_charts()

    def action_cursor_step(self, delta: int) -> None:
        steps = sorted({s for pts in self.points.values() for s, _ in pts})
        if not steps:
            return
        current = self.cursor_step if self.cursor_step is not None else steps[-1]
        index = min(range(len(steps)), key=lambda i: abs(steps[i] - current)) + delta
        self.cursor_step = steps[max(0, min(len(steps) - 1, index))]
        self.draw_curves()

    @reports_errors
    def action_compare(self) -> None:
        """Draw the highlighted run beside the attached one; again on the same run (or the attached one) clears it."""
        other = self._highlighted_run()
        if other is None or other in (self.run_id, self.compare_id):
            self.compare_id, self.compare_points = None, {}
        else:
            self.compare_id = other
            rows, _ = queries.run_metrics_since(self.store, other, 0)
            self.compare_points = {}
            for step, name, value in rows:
                self.compare_points.setdefault(name, []).append((step, value))
        self.draw_curves()

    def _scale_limits(self) -> tuple[float, int]:
        try:
            training = self.workspace.task().training
        except Exception:  # noqa: BLE001 - an invalid task.toml is reported on the Task screen
            training = TrainingSettings()
        max_reward = 1.0 + training.format_reward
        return max_reward, training.max_completion_tokens

    def draw_curves(self) -> None:
        max_reward, max_length = self._scale_limits()
        values_line = []
        for key, title in CURVES:
            curves = [Curve(self.run_id or "", self.points.get(key, []))]
            if self.compare_id:
                curves.append(Curve(self.compare_id, self.compare_points.get(key, [])))
            every = [v for c in curves for _, v in c.points]
            scale = metric_scale(key, every, max_reward=max_reward, max_length=max_length)
            chart = self.query_one(f"#chart-{key}", MetricChart)
            chart.show(curves, self.cursor_step, scale)
            values_line.append(
                chart.headline().replace(f"{title} @ step {self.cursor_step}", title)
            )
        at = f"step {self.cursor_step}" if self.cursor_step is not None else "newest step"
        compare = f" · [orange1]vs {shown(self.compare_id)}[/]" if self.compare_id else ""
        self.query_one("#curve-values", Static).update(
            f"[b]{at}[/]{compare} · " + " · ".join(shown(v) for v in values_line)
        )

    def _confirm_then(self, question: str, fn: Callable[[Workspace, str], Any]) -> None:
        run_id = self.run_id or self._highlighted_run()
        if run_id is None:
            self.notify("no run selected", severity="warning")
            return
        root = self.workspace.root

        def act() -> Any:
            workspace = Workspace(root)
            try:
                return fn(workspace, run_id)
            finally:
                workspace.close()

        def go(ok: bool | None) -> None:
            if ok:
                self.run_worker(act, name=fn.__name__, thread=True, exit_on_error=False)

        self.app.push_screen(ConfirmModal(question.format(run_id=run_id)), go)

    @reports_errors
    def action_stop_run(self) -> None:
        self._confirm_then("Stop run {run_id}? It saves a checkpoint and can be resumed.", stop_run)

    @reports_errors
    def action_resume_run(self) -> None:
        self._confirm_then("Resume run {run_id} from its last checkpoint?", resume_run)

    # -- live dashboard -----------------------------------------------------------------------
    def poll(self) -> None:
        """One throttled tick: new metric rows and new log lines only, then one repaint."""
        self.refresh_runs()
        if self.run_id is None:
            return
        run = queries.run(self.store, self.run_id)
        if run is None:
            return
        new, self._after_rowid = queries.run_metrics_since(
            self.store, self.run_id, self._after_rowid
        )
        for step, name, value in new:
            self.series.setdefault(name, []).append(value)
            self.points.setdefault(name, []).append((step, value))
        events, self._log_offset = EventLog(Path(run["folder"]) / "events.jsonl").read(
            self._log_offset
        )
        for event in events:
            if isinstance(event, ItemDone) and event.detail.get("kind") == "sample":
                self.samples = (self.samples + [event.detail])[-3:]
            elif isinstance(event, StageWarning):
                self.notify(event.message, severity="warning")
            elif isinstance(event, StageFinished):
                self.refresh_runs()
            elif isinstance(event, ModelLoading):
                self.loading_model = event.model
            elif isinstance(event, StageStarted):
                self.loading_model = None  # the model is loaded: the trainer has started
        loading = (
            f" · loading {shown(self.loading_model)}…"
            if self.loading_model and run["status"] in ("queued", "running")
            else ""
        )
        self.query_one("#run-info", Static).update(
            f"[b]{run['id']}[/] {run['status']} · step {run['step']}/{run['total_steps'] or '?'} · "
            f"{shown(run['base_model'])}{loading}"
            + (f"\n[dim]{shown(run['message'])}[/]" if run["message"] else "")
        )
        if new:
            self.draw_curves()
        if events:
            lines = []
            for s in self.samples:
                reward = sum(v for v in s.get("rewards", {}).values() if v is not None)
                lines.append(
                    f"[b]step {s.get('step')} reward {reward:.2f}[/] {shown_line(s.get('completion', ''), 160)}"
                )
            self.query_one("#completions", Static).update(
                "\n".join(lines) or "[dim]no sampled completions yet[/]"
            )


SCREEN = TrainScreen
