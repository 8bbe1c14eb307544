"""`get_solver(task, adapter)`: the configured base-model backend, and the prompts it is given for questions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backends.base import Solver
from engine.config import TaskDefinition
from engine.errors import BackendError, ConfigError
from engine.prompting import solve_messages, solve_prompt

if TYPE_CHECKING:
    from engine.models import ModelRef

PLAIN_STOP = ("\nQuestion:",)
"""A base model prompted by plain completion goes on to write the next "Question:"; that ends its answer."""

_SHARED: dict[tuple[Any, ...], Solver] = {}
_LOCK = threading.Lock()


def _transformers(
    ref: ModelRef, task: TaskDefinition, adapter: Path | None, stop: tuple[str, ...]
) -> Solver:
    from engine.backends.hf_solver import HFSolver

    return HFSolver(ref, adapter=adapter, stop=stop, threads=task.models.threads)


def _vllm(
    ref: ModelRef, task: TaskDefinition, adapter: Path | None, stop: tuple[str, ...]
) -> Solver:
    from engine.backends.vllm_solver import VllmSolver

    return VllmSolver(
        ref,
        adapter=adapter,
        stop=stop,
        n_ctx=task.models.n_ctx,
        lora_rank=task.training.lora_rank,
        gpu_memory_utilization=task.models.vllm_gpu_memory_utilization,
    )


def _llamacpp(
    ref: ModelRef, task: TaskDefinition, adapter: Path | None, stop: tuple[str, ...]
) -> Solver:
    from engine.backends.llamacpp_solver import LlamaCppSolver

    settings = task.models
    return LlamaCppSolver(
        ref, adapter=adapter, stop=stop, n_ctx=settings.n_ctx, threads=settings.threads
    )


SOLVER_BACKENDS: dict[
    str, Callable[[ModelRef, TaskDefinition, Path | None, tuple[str, ...]], Solver]
] = {
    "transformers": _transformers,
    "vllm": _vllm,
    "llamacpp": _llamacpp,
}
"""Backend name -> factory. Adding a backend is one entry here (and its module)."""


def get_solver(task: TaskDefinition, adapter: Path | None = None) -> Solver:
    """A new solver for `task.models.base` on `task.models.solver_backend`, with a PEFT LoRA adapter on top if given."""
    from engine.models import resolve_model

    settings = task.models
    factory = SOLVER_BACKENDS.get(settings.solver_backend)
    if factory is None:
        raise ConfigError(
            f"unknown solver backend {settings.solver_backend!r}",
            f"use one of {', '.join(SOLVER_BACKENDS)}",
        )
    if adapter is not None and not Path(adapter).exists():
        raise ConfigError(
            f"adapter {adapter} does not exist",
            "pass the adapter folder of a finished training run",
        )
    stop = PLAIN_STOP if settings.prompt_format == "plain" else ()
    return factory(resolve_model(settings.base), task, adapter, stop)


def shared_solver(task: TaskDefinition) -> Solver:
    """One solver per process for the base model (probe, adapt and score share it; loading takes seconds)."""
    settings = task.models
    key = (
        settings.solver_backend,
        settings.base,
        settings.prompt_format,
        settings.threads,
        task.scoring.batch_size,
    )
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = get_solver(task)
        return _SHARED[key]


def solve_prompts(task: TaskDefinition, questions: Sequence[str], solver: Solver) -> list[str]:
    """The prompt for each question in the configured format (plain completion, or the model's chat template)."""
    if task.models.prompt_format == "plain":
        return [solve_prompt(task, q) for q in questions]
    chat = getattr(solver, "chat_prompt", None)
    if chat is None:
        raise BackendError(
            f"{solver.name} cannot format chat prompts", 'set models.prompt_format = "plain"'
        )
    return [chat(solve_messages(task, q)) for q in questions]


def model_key(task: TaskDefinition) -> str:
    """The key under which probes, rollouts and scores of the base model are stored."""
    from engine.models import resolve_model

    return resolve_model(task.models.base).key
