"""Every task.toml setting with its type, default and docstring, read from engine/config.py's models (one source)."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from engine.config import TaskDefinition

BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "length >="))


@dataclass(frozen=True)
class SettingHelp:
    section: str
    """`""` for the top level, else the [section] name."""
    name: str
    type: str
    default: str
    """The default as it would be written in task.toml; `(required)` when there is none."""
    description: str


def type_name(annotation: Any) -> str:
    """A short readable type: `int`, `float`, `"a" | "b"`, `list[str]`, `int | None`, ..."""
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(value) for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in get_args(annotation))
    if origin is Annotated:  # Annotated[T, Field(...)]: the constraints are shown by bounds()
        return type_name(get_args(annotation)[0])
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def bounds(field: FieldInfo) -> str:
    """The field's numeric constraints, e.g. `>= 0.0, <= 2.0`."""
    found = []
    for constraint in field.metadata:
        for attribute, sign in BOUNDS:
            value = getattr(constraint, attribute, None)
            if value is not None:
                found.append(f"{sign} {value}")
    return ", ".join(found)


def one_paragraph(text: str | None) -> str:
    """A docstring wrapped over lines, as one line."""
    return " ".join((text or "").split())


def default_text(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value)


def describe(model: type[BaseModel], section: str = "") -> Iterator[SettingHelp]:
    """One SettingHelp per field of `model`; sections (nested models) are described field by field after it."""
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = get_args(annotation)[0] if get_origin(annotation) is list else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            nested.append((name, inner))
            if (
                inner is not annotation
            ):  # a list of tables ([[demos]]): the list itself is a setting too
                yield SettingHelp(
                    section,
                    name,
                    type_name(annotation),
                    default_text(field),
                    field.description or "",
                )
            continue
        kind = type_name(annotation)
        limits = bounds(field)
        yield SettingHelp(
            section,
            name,
            f"{kind} ({limits})" if limits else kind,
            default_text(field),
            one_paragraph(field.description),
        )
    for name, sub in nested:
        yield from describe(sub, name)


def settings_help() -> list[SettingHelp]:
    """Every setting of task.toml: top-level fields first, then each [section] in order."""
    return list(describe(TaskDefinition))


def section_descriptions() -> dict[str, str]:
    """The docstring of each [section] of task.toml."""
    return {
        name: one_paragraph(field.description)
        for name, field in TaskDefinition.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def setting_description(path: str) -> str:
    """The docstring of the setting at dotted `path` (`training.max_steps`), as one line."""
    model: type[BaseModel] = TaskDefinition
    *sections, name = path.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), path
        model = annotation
    return one_paragraph(model.model_fields[name].description)
