"""Pipeline: start, follow and stop each stage; difficulty adaptation; pass-rate histograms; the selection band."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import WorkerState

from engine import queries
from engine.errors import SdrlError
from engine.events import (
    ItemFailed,
    ModelLoading,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.jobs import JobInfo
from engine.jobs.stages import PIPELINE_STAGES
from engine.progress import RateMeter, eta_text
from engine.task_file import update_task_text, write_atomically
from engine.workspace import Workspace
from studio.modals import ConfirmModal, ErrorModal
from studio.runner import JobFollower
from studio.screens.base import StudioScreen, reports_errors
from studio.selection_view import RULES, preview_selection
from studio.stage_form import STAGE_SETTINGS, StageSettingsModal
from studio.text import shown
from studio.widgets.histogram import Histogram

BAND_STEP = 0.05
PIPELINE_JOBS = (*PIPELINE_STAGES, "run")


class PipelineScreen(StudioScreen):
    NAME = "pipeline"
    AUTO_FOCUS = "#stages"
    BINDINGS = [
        Binding("enter", "start", "Open"),
        Binding("s", "stop", "Stop"),
        Binding(
            "r", "resume_job", "Resume job", show=False
        ),  # named on the stage line when it applies
        Binding("left_square_bracket", "band(0, -1)", "Band lo-", key_display="["),
        Binding("right_square_bracket", "band(0, 1)", "lo+", key_display="]"),
        Binding("minus", "band(1, -1)", "Band hi-", key_display="-"),
        Binding("plus,equals_sign", "band(1, 1)", "hi+", key_display="+"),
        Binding("b", "cycle_rule", "Rule"),
        Binding("ctrl+s", "confirm_selection", "Save"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runner = JobFollower(self, self.on_stage_events, self.on_job_ended)
        self.meter = RateMeter()
        self.rule = "band"
        self.band = (0.0, 1.0)
        self.selection_size = 500
        """selection.m: how many samples the selection keeps."""
        self.pool: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}
        self._pool_refreshed = 0.0
        self.loaded = False
        self._views_loading = False
        self._views_stale = False
        self.selected_count = 0
        self.validation_share = 0.0
        self.seed = 0

    def compose_body(self) -> ComposeResult:
        yield OptionList(*(Option(name, id=name) for name in PIPELINE_STAGES), id="stages")
        yield ProgressBar(id="stage-progress", show_eta=False)
        yield Static("idle: pick a stage and press enter", id="stage-info")
        with Horizontal(id="pipeline-charts"):
            yield Histogram("before adaptation", id="hist-before")
            yield Histogram("after adaptation", id="hist-after")
            yield Static(id="band-panel")

    def on_mount(self) -> None:
        self.runner.attach(
            PIPELINE_JOBS
        )  # a job started earlier (or elsewhere) is shown live again
        # an idle bar would animate (and never settle in a snapshot)
        self.query_one(ProgressBar).display = False
        try:
            selection = self.workspace.task().selection
            self.rule, self.selection_size = selection.rule, selection.m
            self.band = (selection.band[0], selection.band[1])
            self.validation_share, self.seed = selection.validation_share, selection.seed
        except Exception:  # noqa: BLE001 - an invalid task.toml is reported on the Task screen
            pass
        # after the first paint: a big pool must not delay it
        self.set_timer(0.25, self.refresh_counts)
        self.set_interval(self.studio.poll_interval, self._poll)
        self.query_one("#stages", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_counts()

    def _poll(self) -> None:
        if self.runner.running:
            self.refresh_counts()

    # -- store views --------------------------------------------------------------------------
    def refresh_counts(self) -> None:
        """Re-read stage counts, the scored pool and the adaptation counts in a thread (a big pool takes a moment)."""
        if self._views_loading:  # one read at a time; ask for one more when it ends
            self._views_stale = True
            return
        self._views_loading, self._views_stale = True, False
        root, rid = self.workspace.root, self.studio.revision_id

        def load() -> dict[str, Any]:
            from engine.stats import compute_stats
            from engine.status import workspace_status

            workspace = Workspace(root)  # its own connection: never share one across threads
            try:
                try:
                    status: dict[str, Any] | None = workspace_status(workspace)
                except SdrlError:
                    status = None  # an invalid task.toml is reported on the Task screen
                stats = compute_stats(workspace.store, rid)
                rewrites = stats["rewrites"]
                return {
                    "status": status,
                    "pool": queries.scored_pool(workspace.store, rid, stats["model"]),
                    "counts": {
                        **stats["probe"],
                        "harder": rewrites["harder"]["produced"],
                        "easier": rewrites["easier"]["produced"],
                    },
                    "before": stats["pass_rate"]["before_adaptation"],
                    "after": stats["pass_rate"]["after_adaptation"],
                }
            finally:
                workspace.close()

        self.run_worker(
            load, name="views", group="views", exclusive=True, thread=True, exit_on_error=False
        )

    def worker_finished(self, worker: Any) -> None:
        if worker.name != "views":
            return
        # the read is over whatever its outcome: the next refresh must run, not wait forever
        self._views_loading = False
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            self.show_views(worker.result)
        if self._views_stale:
            self.refresh_counts()

    def show_views(self, views: dict[str, Any]) -> None:
        if views["status"] is not None:
            options = self.query_one("#stages", OptionList)
            stages = views["status"]["stages"]
            for name in PIPELINE_STAGES:
                counts = stages.get(name if name != "adapt" else "probe", {})
                if name == "adapt":
                    counts = {
                        k: v
                        for k, v in stages["generate"].items()
                        if k in ("origin_harder", "origin_easier")
                    }
                summary = ", ".join(
                    f"{k.removeprefix('origin_')} {v}"
                    for k, v in counts.items()
                    if not isinstance(v, str)
                )
                options.replace_option_prompt(name, f"{name:<9} {summary}")
        self.pool = views["pool"]
        peak = max([*views["before"], *views["after"], 1])  # one y axis for both: heights compare
        for hist_id, key in (("#hist-before", "before"), ("#hist-after", "after")):
            hist = self.query_one(hist_id, Histogram)
            hist.peak = peak
            hist.counts = tuple(views[key])
        self._counts = views["counts"]
        self.loaded = True
        self.update_band()

    def update_band(self) -> None:
        train, val = preview_selection(
            self.pool, self.rule, self.band, self.selection_size, self.validation_share, self.seed
        )
        band = self.band if self.rule == "band" else None
        for hist in self.query(Histogram):
            hist.band = band
        c = self._counts
        self.query_one("#band-panel", Static).update(
            f"[b]selection[/] rule [b]{self.rule}[/] (b)\n"
            f"band [b]{self.band[0]:.2f} – {self.band[1]:.2f}[/]  ([ ] lo, - + hi)\n"
            f"scored {len(self.pool)} · would select [b]{train + val}[/]\n(train {train}, val {val}; M={self.selection_size})\n"
            f"[b]adaptation[/] solved {c.get('solved', 0)} · unsolved {c.get('unsolved', 0)}\n"
            f"harder {c.get('harder', 0)} · easier {c.get('easier', 0)} produced\n"
            "ctrl+s saves the selection"
        )
        self.selected_count = train + val

    # -- band ---------------------------------------------------------------------------------
    def action_band(self, edge: int, direction: int) -> None:
        lo, hi = self.band
        if edge == 0:
            lo = round(min(hi, max(0.0, lo + direction * BAND_STEP)), 2)
        else:
            hi = round(max(lo, min(1.0, hi + direction * BAND_STEP)), 2)
        self.band, self.rule = (lo, hi), "band"
        self.update_band()

    def action_cycle_rule(self) -> None:
        self.rule = (
            RULES[(RULES.index(self.rule) + 1) % len(RULES)] if self.rule in RULES else RULES[0]
        )
        self.update_band()

    @reports_errors
    def action_confirm_selection(self) -> None:
        def save(ok: bool | None) -> None:
            if ok:
                self._start("select", rule=self.rule, band=self.band, m=self.selection_size)

        self.app.push_screen(
            ConfirmModal(
                f"Save a selection: rule {self.rule}, band {self.band[0]:.2f}–{self.band[1]:.2f}, "
                f"{self.selected_count} samples? Training uses the newest selection."
            ),
            save,
        )

    # -- stages -------------------------------------------------------------------------------
    @reports_errors
    def action_start(self) -> None:
        highlighted = self.query_one("#stages", OptionList).highlighted_option
        if highlighted is not None and highlighted.id:
            self.open_stage_form(highlighted.id)

    @reports_errors
    def open_stage_form(self, stage: str) -> None:
        """Enter on a stage: its numbers from task.toml in a form; run once with them, or save them first."""
        if not STAGE_SETTINGS.get(stage):
            self._start(stage)  # nothing to set (probe)
            return

        def chosen(result: tuple[str, dict[str, Any], dict[str, dict[str, Any]]] | None) -> None:
            if result is None:
                return
            how, kwargs, changes = result
            if how == "save":
                self.save_settings(stage, changes)
            self._start(stage, **kwargs)

        self.app.push_screen(StageSettingsModal(stage, self.workspace.task()), chosen)

    @reports_errors
    def save_settings(self, stage: str, changes: dict[str, dict[str, Any]]) -> None:
        path = self.workspace.task_file
        write_atomically(path, update_task_text(path.read_text(encoding="utf-8"), changes))
        summary = ", ".join(
            f"{s}.{k} = {v}" for s, values in changes.items() for k, v in values.items()
        )
        revision, _ = self.workspace.current_revision(f"{stage} settings: {summary}")
        self.notify(f"saved to task.toml as revision {revision.id}: {summary}", timeout=4)

    def action_run_stage(self, stage: str) -> None:
        """Start a stage by name with task.toml's settings (the palette's "Run <stage>")."""
        self.query_one("#stages", OptionList).highlighted = PIPELINE_STAGES.index(stage)
        self._start(stage)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open_stage_form(event.option.id)

    @reports_errors
    def _start(self, stage: str, **options: Any) -> None:
        if self.runner.running:
            self.notify(f"{self.runner.name} is still running; stop it first", severity="warning")
            return
        if "band" in options:
            options["band"] = list(options["band"])
        info = self.runner.start(stage, options)  # a job: its own process, outlives the studio
        self.meter = RateMeter()
        self.query_one("#stage-info", Static).update(f"{stage}: starting job {info.id}…")

    def action_stop(self) -> None:
        if self.runner.running:
            self.runner.stop()
            self.query_one("#stage-info", Static).update(
                f"{self.runner.name}: stopping; finished items are kept…"
            )

    @reports_errors
    def action_resume_job(self) -> None:
        if self.runner.running or self.runner.job is None:
            self.notify("no stopped or failed job to resume", severity="warning")
            return
        info = self.runner.resume()
        if info is not None:
            self.meter = RateMeter()
            self.query_one("#stage-info", Static).update(
                f"{info.stage}: resuming as job {info.id}…"
            )

    def on_job_ended(self, job: JobInfo) -> None:
        info = self.query_one("#stage-info", Static)
        if job.state == "failed":
            info.update(
                f"[red]{job.stage}: failed[/] · {shown(job.cause)} · [b]r[/] resumes job {job.id}"
            )
            self.studio.push_screen(ErrorModal(job.cause, job.hint))
        elif job.state == "stopped":
            info.update(f"{job.stage}: stopped · [b]r[/] resumes job {job.id}")
        self.refresh_counts()

    def on_stage_events(self, events: list[Any]) -> None:
        info = self.query_one("#stage-info", Static)
        bar = self.query_one(ProgressBar)
        last_progress = next((e for e in reversed(events) if isinstance(e, Progress)), None)
        failed = sum(isinstance(e, ItemFailed) for e in events)
        for event in events:
            self.meter.add(event)
            if isinstance(event, ModelLoading):
                info.update(f"{event.stage}: loading {shown(event.model)}…")
            elif isinstance(event, StageStarted):
                bar.display = True
                bar.update(total=event.total, progress=0)
            elif isinstance(event, StageWarning):
                self.notify(
                    shown(event.message + (f"\n{event.hint}" if event.hint else "")),
                    severity="warning",
                )
        if last_progress is not None:
            stage = last_progress.stage
            rate = self.meter.rate(stage)
            bar.display = True
            bar.update(total=last_progress.total, progress=last_progress.done)
            info.update(
                f"{stage}: {last_progress.done}/{last_progress.total or '?'} "
                f"{last_progress.unit} · {rate:.2f}/s · {eta_text(self.meter.eta_seconds(stage))}"
                + (f" · {failed} failed" if failed else "")
            )
        finished = next((e for e in events if isinstance(e, StageFinished)), None)
        if finished is not None:
            counts = ", ".join(f"{k} {v}" for k, v in finished.counts.items())
            info.update(
                f"{finished.stage}: {'stopped' if finished.stopped else 'finished'} · {counts}"
            )
        # the pool query reads every scored sample: at most every two seconds while a stage runs
        now = time.monotonic()
        if finished is not None or (last_progress is not None and now - self._pool_refreshed > 2.0):
            self._pool_refreshed = now
            self.refresh_counts()


SCREEN = PipelineScreen
