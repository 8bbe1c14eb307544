"""The BM25 passage index (tantivy, on disk in workspace.index_dir), kept in step with the SQLite passages.

SQLite is the truth. Writers (`sync`, under a workspace lock that waits for the other writer)
read the documents, their passages and the corpus version in one SQLite snapshot, index what
changed, commit, and then record that version and the documents it covers in the state file, so
the state never claims passages another process committed meanwhile. Searches read the last
committed index and never write; `check` compares the store with the index and repairs it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.corpus.chunking import query_terms
from engine.errors import DiskFullError, StageError
from engine.store import Store

STATE_FILE = "sdrl-index.json"
INDEX_FORMAT = 2
LOCK_SUFFIX = ".lock"


def corpus_version(store: Store) -> int:
    return int(store.scalar("SELECT value FROM meta WHERE key='corpus_version'") or 0)


def bump_corpus_version(conn: Any) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('corpus_version', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float
    text: str
    path: str


@dataclass(frozen=True)
class IndexCheck:
    """What `PassageIndex.check` found: passages in the store and in the index, and what it did."""

    store_passages: int
    indexed_passages: int
    stale_documents: int
    in_step: bool
    repaired: bool


def _busy(exc: BaseException) -> StageError:
    return StageError(
        f"the corpus index is busy: another process is writing it ({exc})",
        "wait for the other `sdrl corpus add` (or generate) to finish, then run this again",
    )


@contextmanager
def writer_lock(folder: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the workspace's index-writer lock; if another process holds it, call `on_wait`, then wait."""
    lock_path = Path(folder).with_name(Path(folder).name + LOCK_SUFFIX)
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def writer_busy(folder: Path) -> bool:
    """Whether another process holds the index-writer lock right now."""
    lock_path = Path(folder).with_name(Path(folder).name + LOCK_SUFFIX)
    try:
        with open(lock_path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


class PassageIndex:
    def __init__(self, folder: Path, store: Store) -> None:
        self.folder = Path(folder)
        self.store = store
        self._index: Any = None

    @staticmethod
    def _schema() -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("passage_id", stored=True, indexed=True)
        builder.add_integer_field("document_id", stored=False, indexed=True)
        builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
        return builder.build()

    def state(self) -> dict[str, Any]:
        """The state file of the last committed sync ({} if none or unreadable)."""
        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and state.get("format") == INDEX_FORMAT else {}

    def _write_state(self, version: int, documents: dict[str, str]) -> None:
        tmp = self.folder / (STATE_FILE + ".tmp")
        state = {"format": INDEX_FORMAT, "corpus_version": version, "documents": documents}
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.folder / STATE_FILE)

    def in_step(self) -> bool:
        """Whether the committed index reflects the corpus as the store holds it now."""
        return self.state().get("corpus_version") == corpus_version(self.store)

    # -- reading ------------------------------------------------------------
    def _open_for_reading(self) -> Any:
        if self._index is None:
            import tantivy

            if not self.state() or not tantivy.Index.exists(str(self.folder)):
                if not int(self.store.scalar("SELECT COUNT(*) FROM passages") or 0):
                    return None
                if writer_busy(self.folder):
                    raise StageError(
                        "the corpus index is being built by another process",
                        "wait for the other `sdrl corpus add` (or generate) to finish, then search again",
                    )
                raise StageError(
                    f"the corpus index at {self.folder} is missing or was never completed",
                    "run `sdrl corpus check` to rebuild it from the workspace database",
                )
            try:
                self._index = tantivy.Index.open(str(self.folder))
            except ValueError as exc:
                if "LockBusy" in str(exc):
                    raise _busy(exc) from exc
                raise StageError(
                    f"the corpus index at {self.folder} cannot be read ({exc})",
                    "run `sdrl corpus check` to rebuild it from the workspace database",
                ) from exc
        return self._index

    def search_ids(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 top-k (passage id, score) from the last committed index; never writes."""
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        index = self._open_for_reading()
        if index is None:
            return []
        try:
            parsed = index.parse_query(" ".join(terms), ["text"])
        except ValueError:
            return []
        searcher = index.searcher()
        if searcher.num_docs == 0:
            return []
        result = searcher.search(parsed, limit=k)
        return [
            (int(searcher.doc(address)["passage_id"][0]), float(score))
            for score, address in result.hits
        ]

    # -- writing (hold writer_lock) -------------------------------------------
    def _open_for_writing(self, fresh: bool) -> Any:
        import tantivy

        if fresh or not self.state():
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            return tantivy.Index(self._schema(), path=str(self.folder))
        except ValueError:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            return tantivy.Index(self._schema(), path=str(self.folder))

    def sync(self, *, fresh: bool = False, should_stop: Callable[[], bool] | None = None) -> bool:
        """Bring the index in step with the store (call under `writer_lock`); False if stopped first.

        Documents, passages and the corpus version are read in one SQLite snapshot, so the
        version recorded is exactly the one whose passages were indexed.
        """
        if not fresh and self.in_step():
            return True
        index = self._open_for_writing(fresh)
        indexed: dict[str, str] = {} if fresh else dict(self.state().get("documents", {}))
        conn = self.store.conn
        conn.execute("BEGIN")  # a read snapshot: nothing committed later is seen
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='corpus_version'").fetchone()
            version = int(row[0]) if row else 0
            documents = {
                str(r[0]): f"{r[1]}:{r[2]}"
                for r in conn.execute("SELECT id, sha256, n_passages FROM documents")
            }
            stale = [d for d in indexed if indexed[d] != documents.get(d)]
            new = [d for d in documents if indexed.get(d) != documents[d]]
            try:
                writer = index.writer(heap_size=64_000_000, num_threads=1)
            except ValueError as exc:
                raise _busy(exc) from exc
            if fresh or not indexed:
                writer.delete_all_documents()
            for document_id in stale:
                writer.delete_documents_by_term("document_id", int(document_id))
            for document_id in new:
                if should_stop is not None and should_stop():
                    writer.rollback()
                    return False
                rows = conn.execute(
                    "SELECT id, document_id, text FROM passages WHERE document_id=?",
                    (int(document_id),),
                )
                self._add(writer, rows)
        finally:
            conn.execute("COMMIT")
        try:
            writer.commit()
            writer.wait_merging_threads()
            self._write_state(version, documents)
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) or "No space left" in str(exc):
                raise DiskFullError(self.folder) from exc
            raise
        self._index = None
        return True

    @staticmethod
    def _add(writer: Any, rows: Iterable[Any]) -> None:
        import tantivy

        for passage_id, document_id, text in rows:
            writer.add_document(
                tantivy.Document(
                    passage_id=int(passage_id), document_id=int(document_id), text=text
                )
            )

    def check(self, *, repair: bool = True) -> IndexCheck:
        """Compare the store with the index (passage counts and documents); rebuild if they differ."""
        store_passages = int(self.store.scalar("SELECT COUNT(*) FROM passages") or 0)
        indexed = 0
        try:
            index = self._open_for_reading()
            indexed = 0 if index is None else int(index.searcher().num_docs)
        except StageError:
            indexed = -1
        documents = {
            str(r[0]): f"{r[1]}:{r[2]}"
            for r in self.store.query("SELECT id, sha256, n_passages FROM documents")
        }
        recorded = self.state().get("documents", {})
        stale = sum(
            1 for d in set(documents) | set(recorded) if documents.get(d) != recorded.get(d)
        )
        in_step = indexed == store_passages and stale == 0 and self.in_step()
        repaired = False
        if not in_step and repair:
            with writer_lock(self.folder):
                self.sync(fresh=True)
            repaired = True
        return IndexCheck(store_passages, indexed, stale, in_step, repaired)


_READERS: dict[Path, tuple[tuple[int, int], PassageIndex]] = {}
"""Open indexes of this process, by folder, with the state file's identity when they were opened: opening
a tantivy index costs milliseconds, far more than a query, so repeated searches reuse it."""


def _reader(store: Store, folder: Path) -> PassageIndex:
    """A PassageIndex for `folder`, reused while the committed state is the one it was opened on."""
    folder = Path(folder)
    try:
        st = os.stat(folder / STATE_FILE)
        stamp = (st.st_ino, st.st_mtime_ns)
    except OSError:
        return PassageIndex(folder, store)  # nothing committed yet: no reuse, the reader explains
    cached = _READERS.get(folder)
    if cached is not None and cached[0] == stamp:
        cached[1].store = store
        return cached[1]
    index = PassageIndex(folder, store)
    _READERS[folder] = (stamp, index)
    return index


def search(store: Store, folder: Path, query: str, k: int = 10) -> list[Hit]:
    """BM25 top-k passages for any text (it is reduced to plain word terms first)."""
    ids = _reader(store, folder).search_ids(query, k)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"SELECT p.id, p.text, d.path FROM passages p JOIN documents d ON d.id = p.document_id WHERE p.id IN ({marks})",
        [i for i, _ in ids],
    )
    found = {r["id"]: r for r in rows}
    return [Hit(i, s, found[i]["text"], found[i]["path"]) for i, s in ids if i in found]
