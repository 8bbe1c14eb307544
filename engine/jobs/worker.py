"""`python -m engine.jobs.worker WORKSPACE JOB`: run one job's stage and record its events and outcome.

SIGTERM or SIGINT stops the stage between items (state "stopped"); a run-level error is recorded as
the job's cause with its fix (state "failed"). Death by a signal is recorded by the supervisor.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import traceback
from pathlib import Path

from engine.errors import Interrupted, SdrlError
from engine.events import Event, EventLog, ModelLoading, StageFinished, Token, to_dict
from engine.jobs import JobInfo, get_job, resume_hint, set_state
from engine.jobs.stages import model_of, stage_function
from engine.stages import StageContext
from engine.store import Store, discard_unused_revisions
from engine.workspace import Workspace


class JobRecorder:
    """Appends each event to the job's event log and (all but streamed tokens) to the store."""

    def __init__(self, store: Store, info: JobInfo) -> None:
        self.store = store
        self.job_id = info.id
        self.log = EventLog(info.events_path)
        self.seq = int(
            store.scalar("SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id=?", (info.id,))
        )

    def __call__(self, event: Event) -> None:
        self.log.append(event)
        if isinstance(event, Token):
            return
        self.seq += 1
        data = to_dict(event)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO job_events(job_id, seq, type, data) VALUES (?, ?, ?, ?)",
                (self.job_id, self.seq, data["type"], json.dumps(data, default=str)),
            )


def run_job(root: Path, job_id: str) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    workspace = Workspace(root)
    store = workspace.store
    info = get_job(store, job_id)
    record = JobRecorder(store, info)
    last: StageFinished | None = None
    try:
        ctx = StageContext.open(workspace, should_stop=stop.is_set)
        model = model_of(info.stage, ctx.task, info.options)
        if model:
            record(ModelLoading(info.stage, model=model))
        for event in stage_function(info.stage)(ctx, **info.options):
            record(event)
            if isinstance(event, StageFinished):
                last = event
    except Interrupted:  # a stop cut the solver call in flight short: finished items are kept
        set_state(store, job_id, "stopped", hint=resume_hint(info), returncode=0)
        workspace.close()
        return 0
    except SdrlError as exc:
        # before the state: a follower that sees "failed" must find no new task revision behind
        discard_unused_revisions()
        set_state(store, job_id, "failed", cause=exc.title, hint=exc.hint, returncode=exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the job must record any failure before it ends
        traceback.print_exc()
        cause = f"{type(exc).__name__}: {exc}"
        hint = f"see {info.log_path}; fix the cause, then {resume_hint(info)}"
        set_state(store, job_id, "failed", cause=cause, hint=hint, returncode=1)
        return 1
    stopped = stop.is_set() or (last is not None and last.stopped)
    set_state(
        store,
        job_id,
        "stopped" if stopped else "finished",
        hint=resume_hint(info) if stopped else "",
        returncode=0,
    )
    workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_job(Path(sys.argv[1]), sys.argv[2]))
