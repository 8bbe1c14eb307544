"""Pipeline stages. Each is `iter_<stage>(ctx, ...) -> Iterator[Event]` plus a thin blocking wrapper.

A stage reads what it needs from the store, writes each finished item in its own transaction keyed so
that a re-run resumes (never duplicates), checks `ctx.should_stop()` between items, and yields events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.config import TaskDefinition
from engine.events import Event, StageFinished
from engine.store import Revision, Store
from engine.workspace import Workspace


def _never() -> bool:
    return False


@dataclass
class StageContext:
    workspace: Workspace
    revision: Revision
    task: TaskDefinition
    should_stop: Callable[[], bool] = field(default=_never)

    @property
    def store(self) -> Store:
        return self.workspace.store

    @classmethod
    def open(cls, workspace: Workspace, should_stop: Callable[[], bool] = _never) -> StageContext:
        from engine.backends.base import cancel_solvers_when

        revision, task = workspace.current_revision()
        cancel_solvers_when(should_stop)  # a stop also cuts short the solver call in flight
        return cls(workspace, revision, task, should_stop)


def run_blocking(
    events: Iterable[Event], on_event: Callable[[Event], None] | None = None
) -> StageFinished | None:
    """Drain a stage's events; returns its last StageFinished."""
    last: StageFinished | None = None
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, StageFinished):
            last = event
    return last
