"""Lazy, optional access to engine functions that may not exist in this build: a missing one is a notice, not a crash."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

_import_errors: dict[str, str] = {}


def optional(module: str, attr: str) -> Any | None:
    """`module.attr`, or None when the module or attribute is not there or cannot be imported."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        # an engine module still being written (or missing a dependency) must not take the studio down
        _import_errors[module] = str(exc)
        return None
    _import_errors.pop(module, None)
    return getattr(mod, attr, None)


def exists(module: str) -> bool:
    """Whether the module is there, without importing it (cheap enough for every repaint)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_notice(module: str, attr: str) -> str:
    reason = _import_errors.get(module)
    return f"{module}.{attr} is not available in this build of the engine" + (
        f" ({reason})" if reason else ""
    )


STAGES: dict[str, tuple[str, str]] = {
    "generate": ("engine.stages.generate", "iter_generate"),
    "label": ("engine.stages.label", "iter_label"),
    "probe": ("engine.stages.probe", "iter_probe"),
    "adapt": ("engine.stages.adapt", "iter_adapt"),
    "score": ("engine.stages.score", "iter_score"),
    "select": ("engine.stages.select", "iter_select"),
}
