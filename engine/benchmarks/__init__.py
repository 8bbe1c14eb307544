"""Benchmarks shipped with sdrl-studio (GSM8K's test split), so `sdrl eval run --benchmark gsm8k` needs no download.

Each built-in is a folder here holding `test.jsonl`, its `LICENSE` and a `SOURCE.md`.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import RunError

BENCHMARKS_DIR = Path(__file__).resolve().parent


def builtin_benchmarks() -> dict[str, Path]:
    """Name -> test file of every shipped benchmark."""
    return {
        folder.name: folder / "test.jsonl"
        for folder in sorted(BENCHMARKS_DIR.iterdir())
        if (folder / "test.jsonl").is_file()
    }


def resolve_benchmark(spec: str | Path) -> tuple[str, Path]:
    """(name to store, file) for a built-in name or a path to a jsonl/json file; anything else is a clear error."""
    builtins = builtin_benchmarks()
    if str(spec) in builtins:
        return str(spec), builtins[str(spec)]
    path = Path(spec).expanduser()
    if path.is_file():
        return str(path.resolve()), path
    raise RunError(
        f"No benchmark {str(spec)!r}: not a built-in name and no such file",
        f"use a built-in ({', '.join(builtins)}) or a path to a .jsonl file with one JSON object per line",
    )
