"""What a training run's folder holds: its config snapshot and its checkpoints."""

from __future__ import annotations

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
