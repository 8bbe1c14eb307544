"""`python -m engine.jobs.supervise WORKSPACE JOB [--tied]`: run a job's worker and record how it ended.

The supervisor imports no model code, so it outlives a worker that dies by SIGKILL (out of memory),
SIGILL (a llama.cpp build for another CPU) or SIGSEGV, and writes the cause into the job's row and
event log. `--tied`: die with the parent (a CLI following the job in the foreground).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.crash import describe_exit
from engine.errors import SdrlError
from engine.jobs import JobInfo, get_job, resume_hint, set_state
from engine.jobs.stages import model_of, native_engine
from engine.store import Store
from engine.workspace import Workspace

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Linux: the kernel sends `sig` to this process when its parent ends (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def worker_command(workspace: Workspace, info: JobInfo) -> list[str]:
    if info.stage == "train":
        from engine.runs import worker_command as train_command

        config = json.loads((info.folder / "config.json").read_text(encoding="utf-8"))
        return train_command(workspace, info.run_id or "", config.get("launch"))
    return [sys.executable, "-m", "engine.jobs.worker", str(workspace.root), info.id]


def describe_model(workspace: Workspace, info: JobInfo) -> tuple[str, str]:
    """("the score job (gemma3-270m)", "transformers"): what ran and which native engine ran it."""
    try:
        task = workspace.task()
    except SdrlError:
        return f"the {info.stage} job", "the model code"
    model = model_of(info.stage, task, info.options)
    what = f"the {info.stage} job" + (f" ({model})" if model else "")
    return what, native_engine(info.stage, task)


def record_train_outcome(store: Store, info: JobInfo, returncode: int) -> None:
    """A train job ends as its run did; a run left live by a dead worker is failed with the cause."""
    rows = store.query("SELECT status, message FROM runs WHERE id=?", (info.run_id,))
    status, message = (rows[0]["status"], rows[0]["message"]) if rows else ("failed", "")
    if status in ("finished", "stopped", "failed"):
        title, _, hint = message.partition("\n  fix: ")
        set_state(
            store,
            info.id,
            status,
            cause=title if status == "failed" else "",
            hint=hint,
            returncode=returncode,
        )


def record_death(workspace: Workspace, info: JobInfo, returncode: int) -> None:
    store = workspace.store
    what, engine = describe_model(workspace, info)
    death = describe_exit(returncode, what, engine)
    if death is not None:
        cause, hint = death.title, f"{death.hint}; {resume_hint(info)}"
    elif returncode == 0:
        cause, hint = f"{what} ended without recording an outcome", resume_hint(info)
    else:
        cause, hint = f"{what} exited with status {returncode}", f"see {info.log_path}"
    if info.stage == "train":
        with store.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status='failed', message=?, updated_at=? WHERE id=? AND status IN ('queued','running')",
                (f"{cause}\n  fix: {hint}", time.time(), info.run_id),
            )
    set_state(
        store, info.id, "failed", cause=cause, hint=hint, returncode=returncode, only_if_live=True
    )


def supervise(root: Path, job_id: str, tied: bool) -> int:
    if tied:
        die_with_parent()
        if os.getppid() == 1:
            return 1  # the follower ended before we could tie ourselves to it
    workspace = Workspace(root)
    store = workspace.store
    info = get_job(store, job_id)
    stop_requested: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        stop_requested.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(
                signal.SIGTERM
            )  # the worker stops between items and records "stopped"

    child: subprocess.Popen[bytes] | None = None
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    with open(info.log_path, "ab") as log:
        child = subprocess.Popen(
            worker_command(workspace, info),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            preexec_fn=die_with_parent,  # a killed supervisor takes its worker along
        )
    set_state(store, info.id, "running", pid=child.pid, only_if_live=True)
    if info.run_id:
        with store.transaction() as conn:
            conn.execute("UPDATE runs SET pid=? WHERE id=?", (child.pid, info.run_id))
    returncode = child.wait()
    info = get_job(store, job_id)
    if info.stage == "train":
        record_train_outcome(store, info, returncode)
    elif not info.live:
        set_state(store, info.id, info.state, returncode=returncode)
    info = get_job(store, job_id)
    if info.live:
        record_death(workspace, info, returncode)
    workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(supervise(Path(sys.argv[1]), sys.argv[2], "--tied" in sys.argv[3:]))
