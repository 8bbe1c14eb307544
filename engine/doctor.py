"""Environment checks as plain data: models found and loadable, llama.cpp, torch device, GPU/vLLM, disk space."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SdrlError
from engine.models import BUNDLED, resolve_model
from engine.workspace import sdrl_home


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


def _load_gguf(spec: str) -> str:
    from llama_cpp import Llama

    ref = resolve_model(spec)
    llm = Llama(model_path=str(ref.path), n_ctx=256, n_threads=2, verbose=False)
    try:
        out = llm.create_completion("1 + 1 =", max_tokens=4, temperature=0.0)
        text = out["choices"][0]["text"]  # type: ignore[index]
    finally:
        llm.close()
    return f"{ref.path.name} loads, says {text!r}"


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


def run_checks(workspace_root: Path | None = None) -> Iterator[Check]:
    yield _timed(
        "llama.cpp", _llama_cpp, "pip install llama-cpp-python (compiles from source, ~5 min)"
    )
    for name in BUNDLED:
        yield _timed(f"model {name}", functools.partial(_load_gguf, name))
    yield _timed("torch", _torch, "pip install torch==2.13.0")
    yield _timed("vllm", _vllm, optional=True)
    yield _timed("disk (models)", lambda: _disk(sdrl_home()))
    if workspace_root is not None:
        yield _timed("disk (workspace)", lambda: _disk(workspace_root))
        yield _timed("corpus index", lambda: _corpus_index(workspace_root))
