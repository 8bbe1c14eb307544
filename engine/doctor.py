"""Environment checks as plain data: models load and generate, llama.cpp, torch device, GPU/vLLM, disk, corpus index.

Each configured model is tried in a child process (engine.doctor_probe), so a crash of native model
code is reported by name with its fix (engine.crash) instead of killing the doctor.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.config import ModelSettings, load_task
from engine.crash import describe_exit
from engine.errors import SdrlError
from engine.models import resolve_model
from engine.workspace import TASK_FILE, sdrl_home

ENGINE_NAMES = {"llamacpp": "llama.cpp", "transformers": "transformers"}
PROBE_TIMEOUT_S = 600.0
"""A first transformers check converts a GGUF into an HF folder; on a busy small CPU that takes minutes."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    optional: bool = False


def _timed(name: str, fn: Callable[[], str], hint: str = "", optional: bool = False) -> Check:
    start = time.perf_counter()
    try:
        detail = fn()
    except SdrlError as exc:
        return Check(name, False, exc.title, exc.hint or hint, optional)
    except Exception as exc:  # noqa: BLE001 - a doctor reports every failure instead of crashing
        return Check(name, False, f"{type(exc).__name__}: {exc}", hint, optional)
    return Check(name, True, f"{detail} ({time.perf_counter() - start:.1f} s)", "", optional)


def _child_env() -> dict[str, str]:
    """The doctor's environment, with the folder that holds this `engine` first on the import path."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def probe_model(
    role: str,
    engine: str,
    spec: str,
    threads: int | None = None,
    timeout: float = PROBE_TIMEOUT_S,
) -> Check:
    """Load `spec` in `engine` in a child process and generate a few tokens; a child's death is a failed check."""
    engine_name = ENGINE_NAMES[engine]
    name = f"{role} {spec} ({engine_name})"
    command = [sys.executable, "-m", "engine.doctor_probe", engine, spec]
    if threads:
        command += ["--threads", str(threads)]
    start = time.perf_counter()
    try:
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Check(
            name,
            False,
            f"no answer from {engine_name} within {timeout:.0f} s",
            "run `sdrl doctor` again when the machine is less busy; if it still hangs, use a smaller model",
        )
    death = describe_exit(
        child.returncode, f"the doctor's check of {spec}", engine_name, child.stderr[-4000:]
    )
    if death is not None:
        return Check(name, False, death.title, death.hint)
    report = _last_json_line(child.stdout)
    if report is None:
        lines = child.stderr.strip().splitlines()
        return Check(
            name,
            False,
            f"the check exited with status {child.returncode}: {lines[-1] if lines else 'no output'}",
            f"run `{' '.join(command[1:])}` to see its full output",
        )
    if not report.get("ok"):
        return Check(name, False, str(report.get("title")), str(report.get("hint") or ""))
    return Check(name, True, f"{report.get('detail')} ({time.perf_counter() - start:.1f} s)")


def _last_json_line(stdout: str) -> dict[str, object] | None:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None


def model_checks(settings: ModelSettings, timeout: float = PROBE_TIMEOUT_S) -> Iterator[Check]:
    """The instructor in llama.cpp, the base model in llama.cpp (a GGUF) and in transformers."""
    if settings.instructor_backend == "llamacpp":
        yield probe_model("instructor", "llamacpp", settings.instructor, settings.threads, timeout)
    else:
        yield Check(
            f"instructor {settings.instructor}",
            False,
            f"not loaded here: the {settings.instructor_backend} backend serves it",
            optional=True,
        )
    try:
        base = resolve_model(settings.base)
    except SdrlError as exc:
        yield Check(f"base {settings.base}", False, exc.title, exc.hint)
        return
    if base.kind == "gguf":
        yield probe_model("base", "llamacpp", settings.base, settings.threads, timeout)
    yield probe_model("base", "transformers", settings.base, settings.threads, timeout)


def _torch() -> str:
    import torch

    if torch.cuda.is_available():
        return f"torch {torch.__version__}, CUDA device {torch.cuda.get_device_name(0)}"
    return f"torch {torch.__version__}, CPU only"


def _vllm() -> str:
    if importlib.util.find_spec("vllm") is None:
        raise SdrlError(
            "vllm not installed (optional)", "on a GPU machine: pip install 'sdrl-studio[gpu]'"
        )
    import vllm

    return f"vllm {vllm.__version__}"


def _llama_cpp() -> str:
    import llama_cpp

    return f"llama-cpp-python {llama_cpp.__version__}"


def _disk(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free / 2**30
    if free < 2:
        raise SdrlError(
            f"only {free:.1f} GiB free at {path}",
            "free disk space: models and checkpoints need a few GiB",
        )
    return f"{free:.0f} GiB free at {path}"


def _corpus_index(root: Path) -> str:
    from engine.corpus.index import PassageIndex
    from engine.workspace import open_workspace

    workspace = open_workspace(root)
    try:
        report = PassageIndex(workspace.index_dir, workspace.store).check(repair=True)
    finally:
        workspace.close()
    if report.in_step:
        return f"{report.store_passages} passages, all indexed"
    return (
        f"repaired: the index held {max(report.indexed_passages, 0)} of "
        f"{report.store_passages} passages; rebuilt from the workspace database"
    )


def run_checks(
    workspace_root: Path | None = None, timeout: float = PROBE_TIMEOUT_S
) -> Iterator[Check]:
    """Every check, in order; the models are those of the workspace's task.toml, else the defaults."""
    yield _timed(
        "llama.cpp", _llama_cpp, "pip install llama-cpp-python (compiles from source, ~5 min)"
    )
    settings = ModelSettings()
    if workspace_root is not None:
        try:
            settings = load_task(workspace_root / TASK_FILE).models
        except SdrlError as exc:
            yield Check(TASK_FILE, False, f"{exc.title}; checking the default models", exc.hint)
    yield from model_checks(settings, timeout)
    yield _timed("torch", _torch, "pip install torch==2.13.0")
    yield _timed("vllm", _vllm, optional=True)
    yield _timed("disk (models)", lambda: _disk(sdrl_home()))
    if workspace_root is not None:
        yield _timed("disk (workspace)", lambda: _disk(workspace_root))
        yield _timed("corpus index", lambda: _corpus_index(workspace_root))
