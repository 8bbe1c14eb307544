"""Jobs: every long stage runs in its own supervised process session, apart from the terminal or studio that started it.

A job is a row in `jobs`, a folder `jobs/ID/` with its event log (`events.jsonl`) and output
(`job.log`), and a process tree `engine.jobs.supervise` -> stage worker. The supervisor records how
the worker ended, so a job killed by a signal is failed with a cause even when nobody follows it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import RunError
from engine.events import Event, EventLog
from engine.store import Store
from engine.workspace import Workspace

LIVE = ("queued", "running")
SUPERVISOR_MODULE = "engine.jobs.supervise"
QUEUED_GRACE_S = 30.0


@dataclass(frozen=True)
class JobInfo:
    id: str
    stage: str
    state: str
    options: dict[str, Any]
    folder: Path
    run_id: str | None
    pid: int | None
    supervisor_pid: int | None
    returncode: int | None
    cause: str
    hint: str
    created_at: float
    updated_at: float

    @property
    def events_path(self) -> Path:
        return self.folder / "events.jsonl"

    @property
    def log_path(self) -> Path:
        return self.folder / ("train.log" if self.stage == "train" else "job.log")

    @property
    def live(self) -> bool:
        return self.state in LIVE

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "state": self.state,
            "pid": self.pid,
            "cause": self.cause,
            "hint": self.hint,
            "returncode": self.returncode,
            "run_id": self.run_id,
            "options": self.options,
            "folder": str(self.folder),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _info(row: Any) -> JobInfo:
    return JobInfo(
        row["id"],
        row["stage"],
        row["state"],
        json.loads(row["options"]),
        Path(row["folder"]),
        row["run_id"],
        row["pid"],
        row["supervisor_pid"],
        row["returncode"],
        row["cause"],
        row["hint"],
        row["created_at"],
        row["updated_at"],
    )


def pid_runs(pid: int | None, marker: str) -> bool:
    """True while `pid` runs a command line containing `marker` (a zombie or a reused pid counts as gone)."""
    if not pid:
        return False
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and marker in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def processes_alive(info: JobInfo) -> bool:
    # a train job's worker is the training worker, named by its run; every other worker by the job id
    marker = info.run_id if info.stage == "train" and info.run_id else info.id
    return pid_runs(info.supervisor_pid, info.id) or pid_runs(info.pid, marker)


def resume_hint(info: JobInfo) -> str:
    return f"`sdrl jobs resume {info.id}` continues where it stopped"


def set_state(
    store: Store,
    job_id: str,
    state: str,
    *,
    cause: str | None = None,
    hint: str | None = None,
    only_if_live: bool = False,
    **columns: Any,
) -> bool:
    """Record a job's state (and cause, hint, pid, ...); with only_if_live, never overwrite an outcome."""
    values: dict[str, Any] = {"state": state, "updated_at": time.time(), **columns}
    if cause is not None:
        values["cause"] = cause
    if hint is not None:
        values["hint"] = hint
    sets = ", ".join(f"{k}=?" for k in values)
    where = " AND state IN ('queued','running')" if only_if_live else ""
    with store.transaction() as conn:
        cursor = conn.execute(
            f"UPDATE jobs SET {sets} WHERE id=?{where}", (*values.values(), job_id)
        )
    return cursor.rowcount > 0


def _still_running(info: JobInfo) -> bool:
    """Whether a live job really runs: a process of it is alive, or it was launched a moment ago."""
    if processes_alive(info):
        return True
    return info.supervisor_pid is None and time.time() - info.updated_at < QUEUED_GRACE_S


def _refresh(store: Store, info: JobInfo) -> JobInfo:
    """A live job none of whose processes runs any more failed (killed together with its supervisor, machine restarted)."""
    if not info.live or _still_running(info):
        return info
    set_state(
        store,
        info.id,
        "failed",
        cause=f"the {info.stage} job's processes ended without reporting (killed together with its supervisor, or the machine restarted)",
        hint=resume_hint(info),
        only_if_live=True,
    )
    return _info(store.query("SELECT * FROM jobs WHERE id=?", (info.id,))[0])


def list_jobs(store: Store, stage: str | None = None) -> list[JobInfo]:
    where, args = ("WHERE stage=? ", (stage,)) if stage is not None else ("", ())
    rows = store.query(f"SELECT * FROM jobs {where}ORDER BY created_at DESC, rowid DESC", args)
    return [_refresh(store, _info(r)) for r in rows]


def find_job(store: Store, key: str) -> JobInfo | None:
    """The job named by an id, a unique id prefix, or `latest`; None when nothing matches."""
    if key == "latest":
        rows = store.query("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1")
    else:
        rows = store.query(
            "SELECT * FROM jobs WHERE id=? OR id LIKE ? ORDER BY created_at DESC",
            (key, f"{key}%"),
        )
    if not rows:
        return None
    if len(rows) > 1 and rows[0]["id"] != key:
        raise RunError(
            f"Job id {key!r} is ambiguous ({len(rows)} jobs start with it)",
            "give more characters of the id (`sdrl jobs list`)",
        )
    return _refresh(store, _info(rows[0]))


def get_job(store: Store, key: str) -> JobInfo:
    info = find_job(store, key)
    if info is None:
        raise RunError(
            f"No job {key!r} in this workspace", "list jobs with `sdrl jobs list` (or use `latest`)"
        )
    return info


def job_for_run(store: Store, run_id: str) -> JobInfo | None:
    rows = store.query(
        "SELECT * FROM jobs WHERE stage='train' AND run_id=? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (run_id,),
    )
    return _refresh(store, _info(rows[0])) if rows else None


def _busy(store: Store, stage: str) -> JobInfo | None:
    """The running job of `stage`, if any (reads only: safe inside a transaction)."""
    for row in store.query(
        "SELECT * FROM jobs WHERE stage=? AND state IN ('queued','running')", (stage,)
    ):
        info = _info(row)
        if _still_running(info):
            return info
    return None


def _busy_error(busy: JobInfo) -> RunError:
    return RunError(
        f"A {busy.stage} job is already running in this workspace (job {busy.id}, pid {busy.pid})",
        f"follow it with `sdrl attach {busy.id}` or stop it with `sdrl jobs stop {busy.id}`",
    )


def _run_ended(store: Store, run_id: str) -> bool:
    status = store.scalar("SELECT status FROM runs WHERE id=?", (run_id,))
    return status not in (None, "queued", "running")


def ensure_idle(store: Store, stage: str, *, settle_s: float = 15.0) -> None:
    """Raise a clear error while a job of `stage` runs in this workspace (one at a time per stage).

    A training job whose run has ended is given `settle_s` for its supervisor to record the outcome.
    """
    deadline = time.time() + settle_s
    while (busy := _busy(store, stage)) is not None:
        if not (busy.run_id and _run_ended(store, busy.run_id) and time.time() < deadline):
            raise _busy_error(busy)
        time.sleep(0.1)


def start_job(
    workspace: Workspace,
    stage: str,
    options: dict[str, Any] | None = None,
    *,
    run_id: str | None = None,
    folder: Path | None = None,
    tied: bool = False,
) -> JobInfo:
    """Record a job and launch its supervisor in a new process session; refused while the stage already runs.

    `tied`: the job dies with the calling process (a CLI following it in the foreground, as a stage
    in the terminal always did); otherwise it outlives the terminal, the SSH session and the studio.
    """
    from engine.jobs.stages import JOB_STAGES

    if stage not in JOB_STAGES:
        raise RunError(f"Unknown job stage {stage!r}", f"one of: {', '.join(JOB_STAGES)}")
    store = workspace.store
    job_id = uuid.uuid4().hex[:8]
    folder = folder or workspace.root / "jobs" / job_id
    list_jobs(store, stage)  # records jobs whose processes died as failed
    ensure_idle(store, stage)
    with store.transaction() as conn:
        # checked again under the write lock: two launches cannot both pass
        busy = _busy(store, stage)
        if busy is not None:
            raise _busy_error(busy)
        now = time.time()
        conn.execute(
            "INSERT INTO jobs(id, stage, state, options, folder, run_id, created_at, updated_at) "
            "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
            (job_id, stage, json.dumps(options or {}), str(folder), run_id, now, now),
        )
    folder.mkdir(parents=True, exist_ok=True)
    _spawn_supervisor(workspace, job_id, folder, tied=tied)
    return get_job(store, job_id)


def _spawn_supervisor(workspace: Workspace, job_id: str, folder: Path, *, tied: bool) -> None:
    repo = str(Path(__file__).resolve().parent.parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p),
    }
    command = [sys.executable, "-m", SUPERVISOR_MODULE, str(workspace.root), job_id]
    with open(folder / "supervisor.log", "ab") as log:
        proc = subprocess.Popen(
            command + (["--tied"] if tied else []),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: closing the terminal or SSH does not reach it
            cwd=workspace.root,
            env=env,
        )
    with workspace.store.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET supervisor_pid=?, updated_at=? WHERE id=? AND supervisor_pid IS NULL",
            (proc.pid, time.time(), job_id),
        )


def stop_job(workspace: Workspace, key: str, *, wait: float = 0.0) -> JobInfo:
    """Ask a job to stop (SIGTERM to its process group: a solver call in flight ends at its next token); optionally wait for it to end."""
    info = get_job(workspace.store, key)
    if not info.live:
        raise RunError(
            f"Job {info.id} is not running (state {info.state})",
            "nothing to stop; `sdrl jobs list` shows all jobs",
        )
    if info.stage == "train" and info.folder.is_dir():
        (info.folder / "stop").touch()  # the training worker also checks for this file
    signal_job(info, signal.SIGTERM)
    deadline = time.time() + wait
    while wait and time.time() < deadline:
        info = get_job(workspace.store, info.id)
        if not info.live:
            break
        time.sleep(0.2)
    return info


def signal_job(info: JobInfo, sig: int) -> None:
    """Send `sig` to the job's whole process group (the supervisor leads it; the worker is in it)."""
    if info.supervisor_pid and processes_alive(info):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(info.supervisor_pid, sig)


def resume_job(workspace: Workspace, key: str, *, tied: bool = False) -> JobInfo:
    """Start the same stage with the same options again; the stage skips what is done."""
    info = get_job(workspace.store, key)
    if info.live:
        raise RunError(
            f"Job {info.id} is still {info.state} (pid {info.pid})",
            f"follow it with `sdrl attach {info.id}`",
        )
    if info.stage == "train":
        from engine.runs import resume_run

        resume_run(workspace, info.run_id or "")
        job = job_for_run(workspace.store, info.run_id or "")
        assert job is not None
        return job
    return start_job(workspace, info.stage, info.options, tied=tied)


def latest_live_job(store: Store, stages: tuple[str, ...]) -> JobInfo | None:
    """The newest job of one of `stages` that still runs (what a screen shows when it opens)."""
    for info in list_jobs(store):
        if info.stage in stages and info.live:
            return info
    return None


def follow_job(
    workspace: Workspace,
    key: str,
    *,
    poll: float = 0.25,
    from_start: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Event]:
    """Yield the job's events as they are written, until it has ended (or `should_stop()`)."""
    info = get_job(workspace.store, key)
    return EventLog(info.events_path).follow(
        lambda: get_job(workspace.store, info.id).live,
        from_start=from_start,
        poll=poll,
        should_stop=should_stop,
    )
