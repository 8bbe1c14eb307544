"""The studio application: six screens (modes) over one workspace, keys for everything, one error modal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from engine.jobs.stages import PIPELINE_STAGES
from engine.workspace import Workspace
from studio import SCREENS
from studio.modals import ErrorModal, describe_error

PALETTE_ACTIONS = (
    *(
        (
            f"Run {stage}",
            f"start the {stage} stage now (Pipeline)",
            "pipeline",
            f"run_stage('{stage}')",
        )
        for stage in PIPELINE_STAGES
    ),
    ("Preview questions", "generate a few questions now (Preview, g)", "preview", "generate"),
    (
        "Check training",
        "preflight: what would stop or waste a run (Train, c)",
        "train",
        "preflight",
    ),
    (
        "Launch training",
        "a detached training run with the form's settings (Train, l)",
        "train",
        "launch",
    ),
    ("Start eval", "evaluate the base model or a run on a benchmark (Eval, l)", "eval", "launch"),
    ("Export dataset", "the selected samples to exports/ as JSONL", "", "app.export_dataset"),
    ("Save task revision", "validate and save task.toml (Task, ctrl+s)", "task", "save"),
)
"""(title, help, screen or "" for here, action): what the palette can do besides the current screen's keys."""


def _lazy(name: str) -> Callable[[], Screen]:
    """Screen modules are imported when a screen is first shown, so the first paint loads only one."""

    def make() -> Screen:
        import importlib

        module = importlib.import_module(f"studio.screens.{name}")
        return module.SCREEN()  # type: ignore[no-any-return]

    return make


def opening_screen(workspace: Workspace) -> str:
    """Task for a workspace with nothing generated yet (or a task.toml that does not load), else Pipeline."""
    from engine.errors import SdrlError

    try:
        workspace.task()
    except SdrlError:
        return "task"
    from engine.queries.overview import has_samples

    return "pipeline" if has_samples(workspace.store) else "task"


class StudioApp(App[None]):
    TITLE = "sdrl studio"
    CSS_PATH = Path(__file__).with_name("studio.tcss")
    MODES = {name: _lazy(name) for name in SCREENS}
    BINDINGS = [
        *(
            Binding(str(i), f"switch_mode('{name}')", name.title(), show=False)
            for i, name in enumerate(SCREENS, start=1)
        ),
        Binding("f1", "toggle_keys", "Keys"),
        Binding("f2", "change_theme", "Theme", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self, workspace: Workspace, start: str = "pipeline", poll_interval: float = 1.0
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.start_mode = start
        self.poll_interval = poll_interval
        self.first_paint_at: float | None = None
        """Seconds between store polls for live views (runs, stage counts); raise it on slow links."""

    def on_mount(self) -> None:
        self.sub_title = self.workspace.root.name
        self.switch_mode(self.start_mode)

    @property
    def revision_id(self) -> int:
        latest = self.workspace.store.latest_revision()
        return latest.id if latest else 0

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette lists every key binding of the current screen and the app, plus Textual's own."""
        builtin = list(super().get_system_commands(screen))
        yield from builtin
        titles = {command.title for command in builtin}
        for index, name in enumerate(SCREENS, start=1):
            yield SystemCommand(
                f"Go to {name.title()}", f"key {index}", partial(self.switch_mode, name)
            )
        for title, help_text, mode, action in PALETTE_ACTIONS:
            yield SystemCommand(title, help_text, partial(self.run_on, mode, action))
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if (
                not binding.description
                or binding.action in seen
                or binding.description in titles
                or binding.action.startswith("switch_mode")
            ):
                continue
            seen.add(binding.action)
            help_text = binding.tooltip or f"key {binding.key_display or key}"
            yield SystemCommand(
                binding.description,
                help_text,
                partial(self.run_action, binding.action, active.node),
            )

    async def run_on(self, mode: str, action: str) -> None:
        """Go to a screen (unless `mode` is empty) and run one of its actions there (a palette command)."""
        if mode:
            await self.switch_mode(mode)
        await self.screen.run_action(action)

    @work(thread=True, exit_on_error=False, group="export")
    def export_dataset(self) -> None:
        """Write the selected dataset to exports/ (as `sdrl export dataset`), in a thread with its own connection."""
        from engine.errors import SdrlError
        from engine.export import export_dataset

        workspace = Workspace(self.workspace.root)
        try:
            path, rows = export_dataset(workspace, workspace.root / "exports")
        except SdrlError as exc:
            self.call_from_thread(self.show_error, exc)
            return
        finally:
            workspace.close()
        self.call_from_thread(self.notify, f"wrote {rows} rows to {path}", title="dataset exported")

    def action_export_dataset(self) -> None:
        self.export_dataset()

    def show_error(self, error: BaseException) -> None:
        self.show_error_text(*describe_error(error))

    def show_error_text(self, title: str, hint: str) -> None:
        self.push_screen(ErrorModal(title, hint))

    async def action_quit(self) -> None:
        # jobs are processes of their own and keep going; only the preview worker is ours, killed at once
        for screen in self._all_screens():
            close = getattr(screen, "close_worker", None)
            if close is not None:
                close()
        self.exit()

    def _all_screens(self) -> list[Screen]:
        screens = list(self.screen_stack)
        for stack in self._screen_stacks.values():
            screens += [s for s in stack if s not in screens]
        return screens
