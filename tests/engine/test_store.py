"""The workspace store: migrations, refusing newer schemas, transactional writes, revisions."""

from __future__ import annotations

import sqlite3
import time

import pytest

from engine.errors import SchemaError
from engine.schema import SCHEMA_VERSION
from engine.store import Store


def test_new_database_is_migrated_and_in_wal_mode(tmp_path) -> None:
    store = Store(tmp_path / "a.db", create=True)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.scalar("PRAGMA journal_mode") == "wal"
    tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "revisions",
        "samples",
        "votes",
        "probes",
        "rollouts",
        "scores",
        "selections",
        "decisions",
        "runs",
        "run_metrics",
    } <= tables
    store.close()


def test_newer_schema_is_refused_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "b.db"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError) as err:
        Store(path)
    assert "newer sdrl" in err.value.title and "upgrade" in err.value.hint
    assert path.read_bytes() == before


def test_a_failed_transaction_writes_nothing(tmp_path) -> None:
    store = Store(tmp_path / "c.db", create=True)
    rev, _ = store.save_revision("x")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(
            "INSERT INTO samples(revision_id, origin, slot_key, question, content_hash, created_at) VALUES (?,?,?,?,?,?)",
            (rev.id, "initial", "initial:0", "q", "h", time.time()),
        )
        raise RuntimeError("crash mid-stage")
    assert store.scalar("SELECT COUNT(*) FROM samples") == 0
    store.close()


def test_slot_keys_make_reruns_idempotent(tmp_path) -> None:
    store = Store(tmp_path / "d.db", create=True)
    rev, _ = store.save_revision("x")
    row = (rev.id, "initial", "initial:0", "q", "h", time.time())
    sql = "INSERT INTO samples(revision_id, origin, slot_key, question, content_hash, created_at) VALUES (?,?,?,?,?,?)"
    with store.transaction() as conn:
        conn.execute(sql, row)
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
        conn.execute(sql, row)
    assert store.scalar("SELECT COUNT(*) FROM samples") == 1
    store.close()


def test_revisions_are_saved_only_when_content_changes(tmp_path) -> None:
    store = Store(tmp_path / "e.db", create=True)
    first, created = store.save_revision("a = 1\n", "one")
    again, created_again = store.save_revision("a = 1\n", "same")
    second, _ = store.save_revision("a = 2\n", "two")
    assert created and not created_again and again.id == first.id
    assert [r.id for r in store.revisions()] == [first.id, second.id]
    assert store.latest_revision().content == "a = 2\n"
    store.close()


def test_a_file_that_is_not_a_database_is_reported(tmp_path) -> None:
    path = tmp_path / "f.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SchemaError) as err:
        Store(path)
    assert "not an sdrl database" in err.value.title
