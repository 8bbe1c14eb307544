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

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if not create:
            _require_existing(self.path)
        try:
            self.conn = self._connect()
            self.conn.row_factory = sqlite3.Row
            if not read_only:
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
        if version_before_migration := self._checked_version():
            self._migrate(version_before_migration)
        elif create:
            self._migrate(0)
        else:
            raise SchemaError(
                f"{self.path} holds no sdrl tables (an empty or foreign database)",
                "restore sdrl.db from a backup, or start over with `sdrl init NEWDIR` and copy task.toml there",
            )

    def _connect(self) -> sqlite3.Connection:
        if not self.read_only:
            return sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(
            f"{uri}?mode=ro", timeout=30.0, isolation_level=None, check_same_thread=False, uri=True
        )
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # WAL needs its -shm file, which a read-only folder cannot hold: read the file as it is
            conn.close()
            conn = sqlite3.connect(
                f"{uri}?immutable=1",
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
                uri=True,
            )
        return conn

    def _checked_version(self) -> int:
        try:
            return self.schema_version()
        except sqlite3.DatabaseError as exc:
            raise SchemaError(
                f"{self.path} is not an sdrl database ({exc})",
                "restore it from a backup, or move it away and run `sdrl init` again",
            ) from exc

    # -- schema -------------------------------------------------------------
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} was written by a newer sdrl (schema {version}, this sdrl knows up to {SCHEMA_VERSION})",
                "upgrade sdrl-studio (pip install -U sdrl-studio) to open this workspace",
            )
        if version < SCHEMA_VERSION and self.read_only:
            raise SchemaError(
                f"{self.path} needs an upgrade (schema {version} of {SCHEMA_VERSION}), which a read-only workspace cannot take",
                "open it once where it is writable (any command that writes upgrades it)",
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
        CREATED_REVISIONS.append((self.path, int(new["id"])))
        return _revision(new), True

    def revision_for(self, content: str) -> Revision | None:
        """The newest revision with exactly this content (read-only lookup, never writes)."""
        row = self.conn.execute(
            "SELECT * FROM revisions WHERE content_hash=? ORDER BY id DESC LIMIT 1",
            (content_hash(content),),
        ).fetchone()
        return _revision(row) if row else None

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


# (database, revision id) of every revision this process created: a command that fails drops
# the ones nothing refers to yet (see discard_unused_revisions), so it leaves no revision behind
CREATED_REVISIONS: list[tuple[Path, int]] = []


def discard_unused_revisions() -> None:
    """Delete the revisions this process created that no sample, artifact, run... refers to."""
    while CREATED_REVISIONS:
        path, revision_id = CREATED_REVISIONS.pop()
        try:
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except sqlite3.Error:
            continue
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("DELETE FROM revisions WHERE id=?", (revision_id,))
        except sqlite3.Error:
            pass  # referenced (foreign keys refuse) or unwritable: it stays
        finally:
            conn.close()


def _require_existing(path: Path) -> None:
    """Only `sdrl init` makes a database: a missing or empty one is refused with the fix."""
    if not path.exists():
        raise WorkspaceError(
            f"No workspace database at {path}",
            "restore sdrl.db from a backup; or make a new workspace with `sdrl init DIR` "
            "(copy your task.toml into it)",
        )
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise WorkspaceError(
            f"The workspace database {path} is empty",
            "restore sdrl.db from a backup; or make a new workspace with `sdrl init DIR` "
            "(copy your task.toml into it)",
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
