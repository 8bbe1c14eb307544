"""Run-level failures: a small family of typed errors, each with a title and a hint that says how to fix it."""

from __future__ import annotations


class SdrlError(Exception):
    """A failure the user can fix. `title` says what is wrong, `hint` says what to do."""

    exit_code = 2

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.title}\n  fix: {self.hint}" if self.hint else self.title


class ConfigError(SdrlError):
    """The task definition or a setting is malformed or invalid. `fields` names the settings in error
    (dotted paths such as `training.max_steps`), so a form can highlight them."""

    def __init__(self, title: str, hint: str = "", fields: tuple[str, ...] = ()) -> None:
        super().__init__(title, hint)
        self.fields = fields


class WorkspaceError(SdrlError):
    """The path is not a workspace, or the workspace cannot be used (read-only, locked)."""


class SchemaError(SdrlError):
    """The workspace database was written by a newer sdrl, or is damaged."""


class ModelError(SdrlError):
    """A model cannot be found or loaded."""


class BackendError(SdrlError):
    """An instructor or solver backend failed as a whole (server unreachable, engine missing)."""


class StageError(SdrlError):
    """A stage cannot run with what the store holds (e.g. nothing to label, empty pool)."""


class RunError(SdrlError):
    """A training or evaluation run cannot start, continue or be found."""


class DiskFullError(WorkspaceError):
    """The disk holding the workspace (or a run folder) is full, or would be by a large write."""

    def __init__(self, path: object, needed_mb: float | None = None) -> None:
        free = _free_bytes(path, unknown=0) / 2**20
        need = f"; this needs about {needed_mb:.0f} MB" if needed_mb else ""
        super().__init__(
            f"disk full at {path} ({free:.0f} MB free{need})",
            "free some space on that disk (or move the workspace to a larger one), then run the "
            "command again: finished work is kept and it resumes",
        )
        self.path = path
        self.needed_mb = needed_mb


def disk_full_from(exc: BaseException, path: object) -> DiskFullError | None:
    """A DiskFullError for an OSError ENOSPC/EDQUOT or SQLite's "database or disk is full", else None."""
    import errno
    import sqlite3

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(exc.filename or path)
    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        return DiskFullError(path)
    text = str(exc)
    # libraries that write through their own code: Rust (tokenizers, safetensors) says "os error 28",
    # torch.save only "file write failed" (then the disk must really be about full)
    if "No space left on device" in text or "(os error 28)" in text:
        return DiskFullError(path)
    if "file write failed" in text and _free_bytes(path, unknown=2**62) < 2**24:
        return DiskFullError(path)
    return None


def _free_bytes(path: object, *, unknown: int) -> int:
    """Free bytes on the disk holding `path` (or its nearest existing parent); `unknown` when unreadable."""
    import shutil
    from pathlib import Path

    folder = Path(str(path))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return unknown


class Interrupted(SdrlError):
    """A stage stopped early on Ctrl-C/SIGTERM; its finished items are saved. Exit 130, like a shell."""

    exit_code = 130

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} stopped before the end (interrupted)",
            "finished work is saved; run the same command again to resume",
        )
