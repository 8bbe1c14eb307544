"""What a training run's folder holds: its config snapshot and its checkpoints."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TENSORBOARD_FOLDER = "tensorboard"
WANDB_FOLDER = "wandb"


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint (one whose trainer state was written), or None."""
    folder = run_dir / "checkpoints"
    found = [
        (int(m.group(1)), p)
        for p in folder.glob("checkpoint-*")
        if (m := CHECKPOINT.match(p.name)) and (p / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None


def incomplete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders whose trainer state was never written (a save cut short by a kill or a
    full disk): resume ignores them, and they only take space."""
    return [
        p
        for p in (run_dir / "checkpoints").glob("checkpoint-*")
        if CHECKPOINT.match(p.name) and p.is_dir() and not (p / "trainer_state.json").is_file()
    ]


def remove_incomplete_checkpoints(run_dir: Path) -> int:
    """Delete the incomplete checkpoints (see above); returns how many were removed."""
    import shutil

    found = incomplete_checkpoints(run_dir)
    for folder in found:
        shutil.rmtree(folder, ignore_errors=True)
    return len(found)


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under `folder` (0 when it is gone)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def checkpoint_space_needed(run_dir: Path) -> int | None:
    """Bytes the next checkpoint needs, estimated from the newest complete one (with 10% and 1 MB to
    spare); None before the first, which a full disk then stops cleanly (see the worker)."""
    latest = latest_checkpoint(run_dir)
    if latest is None:
        return None
    return int(folder_bytes(latest) * 1.1) + 2**20


def checkpoint_step(checkpoint: Path | None) -> int:
    """The step a checkpoint was saved at (0 for none: training starts over)."""
    match = CHECKPOINT.match(checkpoint.name) if checkpoint is not None else None
    return int(match.group(1)) if match else 0


def _logged_step(record: dict) -> int | None:  # type: ignore[type-arg]
    """The training step an events.jsonl or samples.jsonl record belongs to, if any."""
    if record.get("type") == "Progress":
        return int(record.get("done") or 0)
    if "step" in record and record.get("type") in (None, "Metric"):
        return int(record["step"] or 0)
    detail = record.get("detail")
    if isinstance(detail, dict) and "step" in detail:
        return int(detail["step"] or 0)
    return None


def forget_steps_after(run_dir: Path, step: int) -> int:
    """Drop what steps after `step` logged to events.jsonl and samples.jsonl: a kill came before
    their checkpoint, so the resumed run logs them again. Returns how many records were dropped."""
    dropped = 0
    for name in ("events.jsonl", "samples.jsonl"):
        path = run_dir / name
        if not path.is_file():
            continue
        kept: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                dropped += 1  # a line cut short by the kill
                continue
            logged = _logged_step(record) if isinstance(record, dict) else None
            if logged is not None and logged > step:
                dropped += 1
                continue
            kept.append(line)
        if dropped:
            tmp = path.with_name(name + ".tmp")
            tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
            os.replace(tmp, path)
    return dropped


def run_folder_intact(run_dir: Path) -> bool:
    """The run folder still holds its config snapshot. Checking the folder alone is not enough: a
    checkpoint save right after the folder was deleted makes it again (empty but for the checkpoint)."""
    return (run_dir / "config.json").is_file()


def tracker_commands(run_dir: Path) -> list[str]:
    """Shell commands that open what the run's experiment trackers wrote (training.report_to), if anything."""
    commands = []
    if (run_dir / TENSORBOARD_FOLDER).is_dir():
        commands.append(f"tensorboard --logdir {shlex.quote(str(run_dir / TENSORBOARD_FOLDER))}")
    offline = sorted((run_dir / WANDB_FOLDER).glob("wandb/offline-run-*"))
    if offline:
        commands.append(f"wandb sync {shlex.quote(str(offline[-1]))}")
    return commands
