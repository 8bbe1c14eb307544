"""The studio's client of jobs: start a stage as a job, follow its event log on a timer, stop or resume it.

No model code runs in the studio's process. A job outlives the studio (quitting never stops it); a
screen that opens while one of its jobs runs follows it again. A job whose process dies (SIGKILL,
SIGILL, out of memory) ends as failed with its cause, and the studio stays up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widget import Widget

from engine.events import Event, EventLog
from engine.jobs import JobInfo, get_job, latest_live_job, resume_job, start_job, stop_job

STATE_POLL_S = 1.0


class JobFollower:
    """Follows one job at a time for a screen: new events go to `on_events` in batches, the end to `on_ended`."""

    def __init__(
        self,
        owner: Widget,
        on_events: Callable[[list[Event]], None],
        on_ended: Callable[[JobInfo], None] | None = None,
        interval: float = 0.2,
    ) -> None:
        self.owner = owner
        self.on_events = on_events
        self.on_ended = on_ended
        self.interval = interval
        self.job: JobInfo | None = None
        self._offset = 0
        self._since_state = 0.0

    @property
    def workspace(self) -> Any:
        return self.owner.app.workspace  # type: ignore[attr-defined]

    def attach(self, stages: tuple[str, ...] = ()) -> None:
        """Start the timer (call from on_mount); follow a job of `stages` that is already running."""
        self.owner.set_interval(self.interval, self.poll)
        live = latest_live_job(self.workspace.store, stages) if stages else None
        if live is not None:
            self.follow(live)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.live

    @property
    def name(self) -> str:
        return self.job.stage if self.job else ""

    def start(self, stage: str, options: dict[str, Any]) -> JobInfo:
        """Start `stage` as a detached job and follow it (raises RunError while that stage runs)."""
        info = start_job(self.workspace, stage, options)
        self.follow(info)
        return info

    def follow(self, info: JobInfo) -> None:
        self.job, self._offset, self._since_state = info, 0, 0.0
        self.poll()

    def stop(self) -> None:
        """Ask the followed job to stop between items; it records "stopped" and the studio sees it end."""
        if self.running and self.job is not None:
            self.job = stop_job(self.workspace, self.job.id)

    def resume(self) -> JobInfo | None:
        """Run the last followed job's stage again with the same options (finished items are skipped)."""
        if self.job is None or self.job.live:
            return None
        info = resume_job(self.workspace, self.job.id)
        self.follow(info)
        return info

    def poll(self) -> None:
        if self.job is None:
            return
        events, self._offset = EventLog(self.job.events_path).read(self._offset)
        if events:
            self.on_events(events)
        self._since_state += self.interval
        if not self.job.live or self._since_state < STATE_POLL_S:
            return
        self._since_state = 0.0
        self.job = get_job(self.workspace.store, self.job.id)
        if not self.job.live:
            events, self._offset = EventLog(self.job.events_path).read(self._offset)
            if events:
                self.on_events(events)
            if self.on_ended is not None:
                self.on_ended(self.job)
