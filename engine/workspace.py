"""A workspace folder: task.toml, one SQLite database, corpus/, index/ and runs/; created from templates in assets/."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from engine.config import TaskDefinition, load_task, parse_task
from engine.errors import WorkspaceError
from engine.store import Revision, Store

TASK_FILE = "task.toml"
DB_FILE = "sdrl.db"
DEFAULT_TEMPLATE = "demo"


def assets_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "assets"


def templates_dir() -> Path:
    return assets_dir() / "templates"


def template_names() -> list[str]:
    return sorted(p.name for p in templates_dir().iterdir() if (p / TASK_FILE).exists())


def sdrl_home() -> Path:
    """Per-user state: the cached HF folders of dequantized GGUFs and the demo workspace."""
    return Path(os.environ.get("SDRL_HOME", Path.home() / ".local" / "share" / "sdrl"))


@dataclass
class Workspace:
    root: Path
    read_only: bool = False
    """Open the database read-only and never record a revision (commands that only read)."""

    @property
    def task_file(self) -> Path:
        return self.root / TASK_FILE

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @cached_property
    def store(self) -> Store:
        return Store(self.db_path, read_only=self.read_only)

    def task(self) -> TaskDefinition:
        return load_task(self.task_file)

    def current_revision(self, message: str = "") -> tuple[Revision, TaskDefinition]:
        """Validate task.toml and make it a revision if it changed since the latest one."""
        text = self._read_task_text()
        task = parse_task(text, str(self.task_file))
        if self.read_only:
            return self._recorded_revision(text), task
        revision, _ = self.store.save_revision(text, message)
        return revision, task

    def _recorded_revision(self, text: str) -> Revision:
        """Without writing: the revision holding task.toml as it is, else the latest one."""
        revision = self.store.revision_for(text) or self.store.latest_revision()
        if revision is None:
            raise WorkspaceError(
                f"{self.db_path} holds no task revision yet",
                "save task.toml as the first revision with `sdrl task save`",
            )
        return revision

    def _read_task_text(self) -> str:
        try:
            return self.task_file.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise WorkspaceError(
                f"{self.task_file} is missing",
                "restore task.toml (`sdrl task show --revision N > task.toml`) or run `sdrl init` in a new folder",
            ) from exc
        except UnicodeDecodeError as exc:
            raise WorkspaceError(f"{self.task_file} is not UTF-8 text", "save it as UTF-8") from exc

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]


def is_workspace(path: Path) -> bool:
    return (Path(path) / TASK_FILE).is_file()


def open_workspace(path: Path | str | None = None, *, writable: bool = True) -> Workspace:
    """Open an existing workspace; `path` None means the current directory."""
    root = Path(path or ".").expanduser().resolve()
    if not root.exists():
        raise WorkspaceError(
            f"{root} does not exist", f"create a workspace there with `sdrl init {root}`"
        )
    if not is_workspace(root):
        raise WorkspaceError(
            f"{root} is not an sdrl workspace (no {TASK_FILE})",
            f"run `sdrl init {root}` to make it one, or pass a workspace with --workspace/-w",
        )
    if writable:
        _check_writable(root)
    return Workspace(root, read_only=not writable)


def init_workspace(path: Path | str, template: str = DEFAULT_TEMPLATE) -> Workspace:
    """Create a workspace from a template; refuses to overwrite an existing one. Nothing is left half-made."""
    root = Path(path).expanduser().resolve()
    source = templates_dir() / template
    if not (source / TASK_FILE).is_file():
        raise WorkspaceError(
            f"Unknown template {template!r}",
            f"use one of: {', '.join(template_names())}",
        )
    if is_workspace(root):
        raise WorkspaceError(f"{root} is already a workspace", "open it, or choose an empty folder")
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root} exists and is not empty", "choose a new or empty folder")
    parent = root.parent
    if not parent.exists():
        raise WorkspaceError(f"{parent} does not exist", "create the parent folder first")
    _check_writable(parent)
    staging = parent / f".{root.name}.sdrl-init-{os.getpid()}"
    try:
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
        for sub in ("corpus", "runs", "index"):
            (staging / sub).mkdir(exist_ok=True)
        Store(staging / DB_FILE, create=True).close()  # the one place a database is made
        workspace = Workspace(staging)
        workspace.current_revision("created from template " + template)
        workspace.close()
        if root.exists():
            root.rmdir()
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Workspace(root)


def demo_workspace() -> Workspace:
    """The bundled demo workspace, created under SDRL_HOME on first use."""
    root = sdrl_home() / "demo"
    if not is_workspace(root):
        root.parent.mkdir(parents=True, exist_ok=True)
        return init_workspace(root, "demo")
    return open_workspace(root)


def _writable(path: Path) -> bool:
    # root passes os.access everywhere, so a folder with every write bit cleared counts as read-only too
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _check_writable(root: Path) -> None:
    if not _writable(root):
        raise WorkspaceError(
            f"{root} is read-only",
            "make it writable (chmod u+w), or copy the workspace somewhere you can write",
        )
    db = root / DB_FILE
    if db.exists() and not _writable(db):
        raise WorkspaceError(
            f"{db} is read-only",
            "make the database writable (chmod u+w sdrl.db)",
        )
