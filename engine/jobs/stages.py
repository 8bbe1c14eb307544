"""Which function runs each job stage, which model it loads first, and which native engine that model runs in.

A stage is `module:attr` called as `fn(ctx, **options)` and yields events. `SDRL_STAGES` adds or
replaces entries (`name=package.module:function,...`), the plug-in point for custom stages and tests.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from engine.config import TaskDefinition
from engine.errors import RunError
from engine.events import Event

PIPELINE_STAGES = ("generate", "label", "probe", "adapt", "score", "select")
"""The pipeline's stages in order (the studio lists, starts and names them from here)."""
STAGES: dict[str, str] = {
    "generate": "engine.stages.generate:iter_generate",
    "label": "engine.stages.label:iter_label",
    "probe": "engine.stages.probe:iter_probe",
    "adapt": "engine.stages.adapt:iter_adapt",
    "score": "engine.stages.score:iter_score",
    "select": "engine.stages.select:iter_select",
    "run": "engine.stages.pipeline:iter_pipeline",
    "eval": "engine.jobs.eval_stage:iter_eval_job",
}
PREVIEW = "engine.stages.preview:iter_preview"
"""Not a job: the studio's preview worker (engine.jobs.preview_worker) runs it on request."""
JOB_STAGES = (*STAGES, "train")
INSTRUCTOR_STAGES = ("generate", "label", "adapt", "run", "preview")
BASE_MODEL_STAGES = ("probe", "score", "eval", "train")


def stage_table() -> dict[str, str]:
    table = {**STAGES, "preview": PREVIEW}
    for entry in filter(None, os.environ.get("SDRL_STAGES", "").split(",")):
        name, _, target = entry.partition("=")
        table[name.strip()] = target.strip()
    return table


def stage_function(stage: str) -> Callable[..., Iterator[Event]]:
    target = stage_table().get(stage)
    if target is None:
        raise RunError(f"Unknown job stage {stage!r}", f"one of: {', '.join(JOB_STAGES)}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def model_of(stage: str, task: TaskDefinition, options: dict[str, Any]) -> str | None:
    """The model the stage loads first (shown as "loading MODEL…"), or None when it loads none."""
    if stage in INSTRUCTOR_STAGES:
        return task.models.instructor
    if stage in BASE_MODEL_STAGES:
        return str(options.get("model") or task.models.base)
    return None


def native_engine(stage: str, task: TaskDefinition) -> str:
    """The native code that runs the stage's model: named when its process dies by a signal."""
    if stage in INSTRUCTOR_STAGES:
        return {"llamacpp": "llama.cpp", "vllm": "vLLM", "openai": "the instructor client"}[
            task.models.instructor_backend
        ]
    if stage == "train":
        return "transformers"
    if stage in BASE_MODEL_STAGES:
        return {"transformers": "transformers", "vllm": "vLLM", "llamacpp": "llama.cpp"}[
            task.models.solver_backend
        ]
    return "the stage's code"
