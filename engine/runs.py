"""Training runs that live apart from the terminal: start (detached process), list, show, stop, resume and follow."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import TrainingSettings, validate_settings
from engine.errors import RunError
from engine.events import Event, EventLog
from engine.store import Store
from engine.workspace import Workspace

if TYPE_CHECKING:
    from engine.config import TaskDefinition
    from engine.store import Revision
    from engine.training.data import Row
    from engine.training.preflight import Preflight

LIVE = ("queued", "running")
WORKER_MODULE = "engine.training.worker"


@dataclass(frozen=True)
class RunInfo:
    id: str
    status: str
    step: int
    total_steps: int | None
    pid: int | None
    folder: Path
    base_model: str
    created_at: float
    updated_at: float
    message: str
    revision_id: int | None
    selection_id: int | None

    @property
    def adapter(self) -> Path:
        return self.folder / "adapter"


def _info(row: Any) -> RunInfo:
    return RunInfo(
        row["id"],
        row["status"],
        row["step"],
        row["total_steps"],
        row["pid"],
        Path(row["folder"]),
        row["base_model"],
        row["created_at"],
        row["updated_at"],
        row["message"],
        row["revision_id"],
        row["selection_id"],
    )


def process_alive(pid: int | None) -> bool:
    """True while the worker process `pid` runs (a zombie or an unrelated process reusing the pid counts as gone)."""
    if not pid:
        return False
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and WORKER_MODULE in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _refresh(store: Store, info: RunInfo) -> RunInfo:
    """A live status whose process is gone becomes failed (killed, out of memory, machine restarted)."""
    if info.status == "queued" and not info.pid and time.time() - info.updated_at < 30:
        return info  # launched a moment ago; the pid is being recorded
    if info.status in LIVE and not process_alive(info.pid):
        from engine.training.run_folder import checkpoint_step, latest_checkpoint

        checkpoint = latest_checkpoint(info.folder)
        message = (
            "the training process ended without reporting (killed?); `sdrl runs resume "
            + info.id
            + (
                f"` continues from the checkpoint at step {checkpoint_step(checkpoint)}"
                if checkpoint is not None
                else "` starts it again from step 0 (no checkpoint was saved)"
            )
        )
        with store.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status='failed', message=?, updated_at=? WHERE id=? AND status IN ('queued','running')",
                (message, time.time(), info.id),
            )
        return get_run(store, info.id, refresh=False)
    return info


def list_runs(store: Store) -> list[RunInfo]:
    from engine.queries import train_runs

    return [_refresh(store, _info(r)) for r in train_runs(store)]


def get_run(store: Store, run_id: str, *, refresh: bool = True) -> RunInfo:
    from engine.queries import runs_matching

    rows = runs_matching(store, run_id)
    if not rows:
        raise RunError(f"No run {run_id!r} in this workspace", "list runs with `sdrl runs list`")
    if len(rows) > 1 and rows[0]["id"] != run_id:
        raise RunError(
            f"Run id {run_id!r} is ambiguous ({len(rows)} runs start with it)",
            "give more characters of the id",
        )
    info = _info(rows[0])
    return _refresh(store, info) if refresh else info


def run_metrics(store: Store, run_id: str) -> dict[str, list[tuple[int, float]]]:
    """name -> [(step, value)] in step order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in store.query(
        "SELECT step, name, value FROM run_metrics WHERE run_id=? ORDER BY step", (run_id,)
    ):
        out.setdefault(r["name"], []).append((r["step"], r["value"]))
    return out


def training_settings(base: TrainingSettings, overrides: dict[str, Any] | None) -> TrainingSettings:
    """`base` with `overrides` applied and validated (CLI options and the studio's form alike)."""
    return validate_settings(
        TrainingSettings, {**base.model_dump(), **(overrides or {})}, "the training settings"
    )


@dataclass(frozen=True)
class Prepared:
    """What a launch or a `--check` works from: the task with the overrides applied, its preflight,
    and the training rows of the selection they come from."""

    revision: Revision
    task: TaskDefinition
    preflight: Preflight
    selection_id: int
    rows: list[Row]


def prepare(
    workspace: Workspace, overrides: dict[str, Any] | None = None, model: str | None = None
) -> Prepared:
    """The current revision's task with `overrides`, its preflight for `model`, and the selected training rows."""
    from engine.training.data import selected_rows
    from engine.training.preflight import preflight

    revision, task = workspace.current_revision()
    task = task.model_copy(update={"training": training_settings(task.training, overrides)})
    selection_id, rows = selected_rows(workspace.store, task, revision.id, ("train",))
    return Prepared(
        revision, task, preflight(task, rows, model or task.models.base), selection_id, rows
    )


def start_run(
    workspace: Workspace,
    overrides: dict[str, Any] | None = None,
    *,
    model: str | None = None,
    accelerate_config: Path | None = None,
    num_processes: int | None = None,
    force: bool = False,
) -> str:
    """Check, snapshot the config and data into a new run folder, and launch the worker detached. Returns the run id.

    With `accelerate_config` the worker runs under `accelerate launch` (multi-GPU DDP / DeepSpeed, docs/scale-out.md);
    `num_processes` > 1 alone picks DDP over the GPUs, or over CPU processes (gloo) without a GPU.
    `force` launches despite forceable preflight blockers (zero learning signal, a memory estimate).
    """
    from engine.training.configs import default_accelerate_config, planned_steps

    if num_processes and num_processes > 1 and accelerate_config is None:
        accelerate_config = default_accelerate_config()
    from engine.jobs import ensure_idle
    from engine.training.data import write_rows

    ensure_idle(workspace.store, "train")

    prepared = prepare(workspace, overrides, model)
    prepared.preflight.raise_if_failed(force=force)
    revision, task, selection_id, rows = (
        prepared.revision,
        prepared.task,
        prepared.selection_id,
        prepared.rows,
    )
    base = model or task.models.base
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
    run_dir = workspace.runs_dir / run_id
    run_dir.mkdir(parents=True)
    total = planned_steps(task.training, len(rows))
    config = {
        "run_id": run_id,
        "base_model": base,
        "revision_id": revision.id,
        "selection_id": selection_id,
        "total_steps": total,
        "task": task.model_dump(mode="json"),
        "preflight": prepared.preflight.facts,
        "launch": {
            "accelerate_config": str(Path(accelerate_config).resolve())
            if accelerate_config
            else None,
            "num_processes": num_processes,
        },
    }
    (run_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    write_rows(run_dir / "train.jsonl", rows)
    now = time.time()
    with workspace.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, folder, config, revision_id, selection_id, base_model, total_steps) "
            "VALUES (?, 'train', 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                now,
                now,
                str(run_dir),
                json.dumps(config),
                revision.id,
                selection_id,
                base,
                total,
            ),
        )
    _spawn(workspace, run_id, run_dir)
    return run_id


def worker_command(
    workspace: Workspace, run_id: str, launch: dict[str, Any] | None = None
) -> list[str]:
    """The worker's command line: plain python, or `accelerate launch` with a config from assets/accelerate/."""
    launch = launch or {}
    command = [sys.executable, "-m"]
    if launch.get("accelerate_config"):
        command += ["accelerate.commands.launch", "--config_file", launch["accelerate_config"]]
        if launch.get("num_processes"):
            command += ["--num_processes", str(launch["num_processes"])]
        command += ["-m"]
    return command + [WORKER_MODULE, str(workspace.root), run_id]


def _spawn(workspace: Workspace, run_id: str, run_dir: Path) -> None:
    """Launch the run as a `train` job: a supervisor starts the worker and records how it ended."""
    from engine.jobs import start_job

    start_job(workspace, "train", run_id=run_id, folder=run_dir)


def stop_run(workspace: Workspace, run_id: str, *, wait: float = 0.0) -> RunInfo:
    """Ask a run to stop after its current step (it saves a checkpoint first); optionally wait for it."""
    info = get_run(workspace.store, run_id)
    if info.status not in LIVE:
        raise RunError(
            f"Run {info.id} is not running (status {info.status})",
            "nothing to stop; `sdrl runs list` shows all runs",
        )
    if info.folder.is_dir():
        (info.folder / "stop").touch()
    if info.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
    deadline = time.time() + wait
    while wait and time.time() < deadline:
        info = get_run(workspace.store, info.id)
        if info.status not in LIVE:
            break
        time.sleep(0.5)
    return info


def resume_run(workspace: Workspace, run_id: str) -> str:
    """Relaunch a stopped or failed run; the worker continues from its last checkpoint with the same step numbers."""
    info = get_run(workspace.store, run_id)
    if info.status in LIVE:
        raise RunError(
            f"Run {info.id} is still {info.status} (pid {info.pid})",
            f"follow it with `sdrl attach {info.id}`",
        )
    if info.status == "finished":
        raise RunError(
            f"Run {info.id} has finished",
            "start a new run with `sdrl train` (e.g. with more steps)",
        )
    if not (info.folder / "config.json").is_file():
        raise RunError(
            f"The folder of run {info.id} ({info.folder}) is missing or incomplete",
            "start a new run with `sdrl train`",
        )
    from engine.jobs import ensure_idle

    ensure_idle(workspace.store, "train")  # also lets the stopped run's supervisor finish its books
    (info.folder / "stop").unlink(missing_ok=True)
    with workspace.store.transaction() as conn:
        conn.execute(
            "UPDATE runs SET status='queued', pid=NULL, message='resuming', updated_at=? WHERE id=?",
            (time.time(), info.id),
        )
    _spawn(workspace, info.id, info.folder)
    return info.id


def follow(
    workspace: Workspace,
    run_id: str,
    *,
    poll: float = 0.5,
    from_start: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Event]:
    """Yield the run's events as they are written, until its process is gone (or `should_stop()`)."""
    info = get_run(workspace.store, run_id)
    return EventLog(info.folder / "events.jsonl").follow(
        lambda: get_run(workspace.store, info.id).status in LIVE,
        from_start=from_start,
        poll=poll,
        should_stop=should_stop,
    )
