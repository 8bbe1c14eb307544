"""`get_instructor(task)`: the configured instructor backend, created once per process per model and settings."""

from __future__ import annotations

import threading
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
        )
    else:
        key = (backend, settings.instructor, settings.n_ctx, settings.threads)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        instructor = _create(task)
        _CACHE[key] = instructor
        return instructor


def _create(task: TaskDefinition) -> Instructor:
    settings = task.models
    if settings.instructor_backend == "openai":
        from engine.backends.openai_instructor import OpenAIInstructor

        return OpenAIInstructor.from_settings(settings)
    from engine.models import resolve_model

    ref = resolve_model(settings.instructor)
    if settings.instructor_backend == "llamacpp":
        from engine.backends.llamacpp_instructor import LlamaCppInstructor

        return LlamaCppInstructor(ref, settings.n_ctx, settings.threads)
    if settings.instructor_backend == "vllm":
        from engine.backends.vllm_instructor import VllmInstructor

        return VllmInstructor(ref, settings.n_ctx)
    raise ConfigError(
        f"unknown instructor backend {settings.instructor_backend!r}",
        "use llamacpp, openai or vllm",
    )


def clear_cache() -> None:
    """Forget cached instructors (tests; after closing them)."""
    with _LOCK:
        for instructor in _CACHE.values():
            instructor.close()
        _CACHE.clear()
