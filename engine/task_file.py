"""Edit task.toml in place with tomlkit: values change, comments and layout stay."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import ConfigError


def update_task_text(text: str, changes: Mapping[str, Any]) -> str:
    """`text` with the top-level keys of `changes` set (tables merged key by key); everything else kept as written."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(
            f"task.toml is not valid TOML: {exc}",
            "fix the syntax in the file itself (the studio's File tab, or `sdrl task edit`) first",
        ) from exc
    _merge(document, changes)
    return tomlkit.dumps(document)


def _merge(container: Any, changes: Mapping[str, Any]) -> None:
    import tomlkit

    for key, value in changes.items():
        current = container.get(key)
        if isinstance(value, Mapping) and hasattr(current, "items"):
            _merge(current, value)
        elif key == "demos" or (
            isinstance(value, list) and value and isinstance(value[0], Mapping)
        ):
            tables = tomlkit.aot()
            for item in value:
                table = tomlkit.table()
                for k, v in item.items():
                    table[k] = _value(v)
                tables.append(table)
            if tables:
                tables[-1].add(tomlkit.nl())  # a blank line before whatever table follows
            if tables:
                container[key] = tables  # an existing array of tables is replaced where it stands
            elif key in container:
                del container[key]
        elif current is not None and _unchanged(current, value):
            continue  # keep the written form (quotes, spacing, trailing comments) of an equal value
        else:
            container[key] = _value(value)


def _unchanged(current: Any, value: Any) -> bool:
    unwrapped = current.unwrap() if hasattr(current, "unwrap") else current
    if isinstance(value, str) and isinstance(unwrapped, str):
        return value.strip("\n") == unwrapped.strip("\n")
    return bool(unwrapped == value)


def _value(value: Any) -> Any:
    """Multi-line text as a TOML multi-line string; anything else as tomlkit writes it."""
    import tomlkit

    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value.strip("\n"), multiline=True)
    return value


def write_atomically(path: os.PathLike[str] | Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a task.toml."""
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
