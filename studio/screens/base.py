"""What every studio screen shares: the navigation bar, the footer, store access and worker-failure routing."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from engine.errors import SdrlError
from engine.store import Store
from engine.workspace import Workspace

if TYPE_CHECKING:
    from studio.app import StudioApp

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(action: F) -> F:
    """A key handler that calls the engine: a user-fixable failure goes to the error modal, not the crash screen."""

    @functools.wraps(action)
    def wrapper(self: StudioScreen, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(self, *args, **kwargs)
        except SdrlError as exc:
            self.studio.show_error(exc)
            return None

    return cast(F, wrapper)


NAV = ("Task", "Preview", "Samples", "Pipeline", "Train", "Eval")


class NavBar(Static):
    """One line: the workspace, and the six screens with their number keys (the current one highlighted)."""

    def __init__(self, current: str) -> None:
        super().__init__(id="nav")
        self.current = current

    def on_mount(self) -> None:
        parts = []
        for index, name in enumerate(NAV, start=1):
            if name.lower() == self.current:
                parts.append(f"[reverse b] {index} {name} [/]")
            else:
                parts.append(f" [b]{index}[/] {name} ")
        self.update(f"[b]sdrl[/] {self.app.sub_title} │" + "".join(parts) + " │ [b]^p[/] palette")


class StudioScreen(Screen[None]):
    NAME = ""

    def compose(self) -> ComposeResult:
        yield NavBar(self.NAME)
        yield from self.compose_body()
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @on(events.Mount)
    def _after_mount(self) -> None:
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        if self.studio.first_paint_at is None:
            self.studio.first_paint_at = time.time()  # read by bench/studio.py

    @property
    def studio(self) -> StudioApp:
        return cast("StudioApp", self.app)

    @property
    def workspace(self) -> Workspace:
        return self.studio.workspace

    @property
    def store(self) -> Store:
        return self.workspace.store

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.studio.show_error(event.worker.error)
        if event.state in (WorkerState.ERROR, WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.worker_finished(event.worker)

    def worker_finished(self, worker: Worker[object]) -> None:
        """Hook: a worker of this screen ended (successfully or not)."""
