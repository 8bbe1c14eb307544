"""`get_instructor(task)`: the configured instructor backend, created once per process per model and settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.backends.base import Instructor
from engine.config import TaskDefinition
from engine.errors import ConfigError

_CACHE: dict[tuple[Any, ...], Instructor] = {}
_LOCK = threading.Lock()


def get_instructor(task: TaskDefinition) -> Instructor:
    """The instructor named by `task.models` (llamacpp by default). Raises ModelError/BackendError/ConfigError."""
    settings = task.models
    backend = settings.instructor_backend
    if backend == "openai":
        key: tuple[Any, ...] = (
            "openai",
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key_env,
            settings.openai_response_format,
        )
    else:
        key = (
            backend,
            settings.instructor,
            settings.n_ctx,
            settings.threads,
            settings.vllm_gpu_memory_utilization,
        )
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        instructor = _create(task)
        _CACHE[key] = instructor
        return instructor


def _openai(task: TaskDefinition) -> Instructor:
    from engine.backends.openai_instructor import OpenAIInstructor

    return OpenAIInstructor.from_settings(task.models)


def _llamacpp(task: TaskDefinition) -> Instructor:
    from engine.backends.llamacpp_instructor import LlamaCppInstructor
    from engine.models import resolve_model

    settings = task.models
    return LlamaCppInstructor(resolve_model(settings.instructor), settings.n_ctx, settings.threads)


def _vllm(task: TaskDefinition) -> Instructor:
    from engine.backends.vllm_instructor import VllmInstructor
    from engine.models import resolve_model

    settings = task.models
    return VllmInstructor(resolve_model(settings.instructor), settings.n_ctx)


INSTRUCTOR_BACKENDS: dict[str, Callable[[TaskDefinition], Instructor]] = {
    "llamacpp": _llamacpp,
    "openai": _openai,
    "vllm": _vllm,
}
"""Backend name -> factory. Adding a backend is one entry here (and its module)."""


def _create(task: TaskDefinition) -> Instructor:
    name = task.models.instructor_backend
    factory = INSTRUCTOR_BACKENDS.get(name)
    if factory is None:
        raise ConfigError(
            f"unknown instructor backend {name!r}", f"use one of {', '.join(INSTRUCTOR_BACKENDS)}"
        )
    return factory(task)


def clear_cache() -> None:
    """Forget cached instructors (tests; after closing them)."""
    with _LOCK:
        for instructor in _CACHE.values():
            instructor.close()
        _CACHE.clear()
