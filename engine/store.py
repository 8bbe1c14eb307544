"""The one workspace database: SQLite in WAL mode, versioned schema, transactional writes, and revision helpers."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import DiskFullError, SchemaError, WorkspaceError, disk_full_from
from engine.schema import MIGRATIONS, SCHEMA_VERSION


@dataclass(frozen=True)
class Revision:
    id: int
    created_at: float
    content: str
    content_hash: str
    message: str


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store:
    """A connection to a workspace database. Use `transaction()` for every write."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise WorkspaceError(
                f"No workspace database at {self.path}",
                "run `sdrl init DIR` to create a workspace, or pass the path of one",
            )
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.OperationalError as exc:
            full = disk_full_from(exc, self.path)
            if full is None and shutil.disk_usage(self.path.parent).free < 2**20:
                full = DiskFullError(
                    self.path
                )  # SQLite says "disk I/O error" when -wal cannot grow
            if full is not None:
                raise full from exc
            raise WorkspaceError(
                f"Cannot open the workspace database {self.path}: {exc}",
                "check that the workspace folder and database are writable by you",
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise SchemaError(
                f"{self.path} is not an sdrl database ({exc})",
                "restore it from a backup, or move it away and run `sdrl init` again",
            ) from exc
        self._migrate()

    # -- schema -------------------------------------------------------------
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        try:
            version = self.schema_version()
        except sqlite3.DatabaseError as exc:
            raise SchemaError(
                f"{self.path} is not an sdrl database ({exc})",
                "restore it from a backup, or move it away and run `sdrl init` again",
            ) from exc
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} was written by a newer sdrl (schema {version}, this sdrl knows up to {SCHEMA_VERSION})",
                "upgrade sdrl-studio (pip install -U sdrl-studio) to open this workspace",
            )
        for number in range(version, SCHEMA_VERSION):
            try:
                with self.transaction() as conn:
                    for statement in _split_sql(MIGRATIONS[number]):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={number + 1}")
            except sqlite3.OperationalError as exc:
                self._raise_if_read_only(exc)
                raise

    def _raise_if_read_only(self, exc: sqlite3.OperationalError) -> None:
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise WorkspaceError(
                f"The workspace database {self.path} is read-only",
                "make the workspace writable (chmod u+w) or copy it somewhere you can write",
            ) from exc

    # -- transactions ---------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolled back on any exception, so a stage write is all or nothing."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._raise_if_read_only(exc)
            raise
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may have rolled back already (a full disk does): a second ROLLBACK would raise
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            full = disk_full_from(exc, self.path)
            if full is not None:
                raise full from exc
            raise

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()

    # -- revisions ------------------------------------------------------------
    def latest_revision(self) -> Revision | None:
        row = self.conn.execute("SELECT * FROM revisions ORDER BY id DESC LIMIT 1").fetchone()
        return _revision(row) if row else None

    def revision(self, revision_id: int) -> Revision | None:
        row = self.conn.execute("SELECT * FROM revisions WHERE id=?", (revision_id,)).fetchone()
        return _revision(row) if row else None

    def revisions(self) -> list[Revision]:
        return [_revision(r) for r in self.query("SELECT * FROM revisions ORDER BY id")]

    def save_revision(self, content: str, message: str = "") -> tuple[Revision, bool]:
        """Store `content` as a new revision unless it equals the latest; returns (revision, created)."""
        digest = content_hash(content)
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM revisions ORDER BY id DESC LIMIT 1").fetchone()
            if row is not None and row["content_hash"] == digest:
                return _revision(row), False
            cur = conn.execute(
                "INSERT INTO revisions(created_at, content, content_hash, message) VALUES (?,?,?,?)",
                (time.time(), content, digest, message),
            )
            new = conn.execute("SELECT * FROM revisions WHERE id=?", (cur.lastrowid,)).fetchone()
        return _revision(new), True

    # -- artifacts ------------------------------------------------------------
    def get_artifact(self, revision_id: int, stage: str, key: str) -> str | None:
        return self.scalar(
            "SELECT value FROM artifacts WHERE revision_id=? AND stage=? AND key=?",
            (revision_id, stage, key),
        )

    def put_artifact(
        self, conn: sqlite3.Connection, revision_id: int, stage: str, key: str, value: str
    ) -> None:
        conn.execute(
            "INSERT INTO artifacts(revision_id, stage, key, value, created_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(revision_id, stage, key) DO UPDATE SET value=excluded.value, created_at=excluded.created_at",
            (revision_id, stage, key, value, time.time()),
        )


def require_free_space(path: Path, needed_bytes: int) -> None:
    """Refuse a large write up front (DiskFullError) when the disk at `path` has less free space."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if shutil.disk_usage(folder).free < needed_bytes:
        raise DiskFullError(path, needed_bytes / 2**20)


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        row["id"], row["created_at"], row["content"], row["content_hash"], row["message"]
    )


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no ';' inside strings or triggers)."""
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]
