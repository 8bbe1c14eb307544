"""Preflight and launch of training for the Train screen, through the `sdrl` CLI in a child process.

Both import torch (device and memory checks, dequantizing the model); running them as `sdrl train
--check --json` / `sdrl train --detach --json` keeps every model library out of the studio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.errors import RunError
from engine.training.preflight import Preflight, Problem

REPO = Path(__file__).resolve().parent.parent


def run_sdrl(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "-w", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def cli_error(done: subprocess.CompletedProcess[str]) -> RunError:
    """The `error:`/`fix:` lines of a failed command as one error for the error modal."""
    title, hint = "", ""
    for line in done.stderr.splitlines():
        if line.startswith("error: "):
            title = line.removeprefix("error: ")
        elif line.strip().startswith("fix: "):
            hint = line.strip().removeprefix("fix: ")
    return RunError(
        title or f"sdrl exited with status {done.returncode}", hint or done.stderr[-300:]
    )


def set_args(overrides: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in overrides.items():
        if value is None:
            continue  # the task's own value applies
        literal = json.dumps(value) if isinstance(value, bool | list) else str(value)
        args += ["--set", f"{key}={literal}"]
    return args


def training_preflight(root: Path, overrides: dict[str, Any]) -> Preflight:
    done = run_sdrl(root, "train", "--check", "--json", *set_args(overrides))
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise cli_error(done) from None
    # the engine's own Preflight, read back from JSON (the module imports no model library)
    return Preflight([Problem(**problem) for problem in data["problems"]], data["facts"])


def launch_training(root: Path, overrides: dict[str, Any], force: bool = False) -> str:
    """Start a training run (a detached job); returns its run id. `force` lets forceable blockers through."""
    flags = ["--force"] if force else []
    done = run_sdrl(root, "train", "--detach", "--json", *flags, *set_args(overrides))
    if done.returncode != 0:
        raise cli_error(done)
    return str(json.loads(done.stdout)["run_id"])
