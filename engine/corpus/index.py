"""The BM25 passage index (tantivy, on disk in workspace.index_dir), kept in step with the SQLite passages.

SQLite is the truth: the index records which corpus version it reflects, and is rebuilt from SQLite
whenever that differs (e.g. after a crash between the two commits).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.corpus.chunking import query_terms
from engine.store import Store

STATE_FILE = "sdrl-index.json"
INDEX_FORMAT = 1


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


class PassageIndex:
    def __init__(self, folder: Path, store: Store) -> None:
        self.folder = Path(folder)
        self.store = store
        self._index: Any = None

    def _schema(self) -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("passage_id", stored=True, indexed=True)
        builder.add_integer_field("document_id", stored=False, indexed=True)
        builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
        return builder.build()

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, version: int) -> None:
        tmp = self.folder / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps({"format": INDEX_FORMAT, "corpus_version": version}))
        tmp.replace(self.folder / STATE_FILE)

    def index(self) -> Any:
        """The open tantivy index, rebuilt first if it does not reflect the current SQLite passages."""
        if self._index is None:
            import tantivy

            state = self._state()
            if state.get("format") != INDEX_FORMAT:
                shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                self._index = tantivy.Index(self._schema(), path=str(self.folder))
            except (OSError, ValueError):
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder.mkdir(parents=True)
                self._index = tantivy.Index(self._schema(), path=str(self.folder))
            if self._state().get("corpus_version") != corpus_version(self.store):
                self.rebuild()
        return self._index

    def rebuild(self) -> None:
        index = self._index
        writer = index.writer(heap_size=64_000_000, num_threads=1)
        writer.delete_all_documents()
        rows = self.store.conn.execute("SELECT id, document_id, text FROM passages ORDER BY id")
        self._add(writer, rows)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._write_state(corpus_version(self.store))

    def _add(self, writer: Any, rows: Iterable[Any]) -> None:
        import tantivy

        for passage_id, document_id, text in rows:
            writer.add_document(
                tantivy.Document(
                    passage_id=int(passage_id), document_id=int(document_id), text=text
                )
            )

    def apply(self, changed_documents: Iterable[int]) -> None:
        """Re-index the passages of these documents (after their SQLite transaction committed)."""
        changed = list(changed_documents)
        index = self.index()  # may rebuild, which already covers the changes
        if self._state().get("corpus_version") == corpus_version(self.store):
            return
        writer = index.writer(heap_size=64_000_000, num_threads=1)
        for document_id in changed:
            writer.delete_documents_by_term("document_id", int(document_id))
            rows = self.store.conn.execute(
                "SELECT id, document_id, text FROM passages WHERE document_id=? ORDER BY id",
                (document_id,),
            )
            self._add(writer, rows)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._write_state(corpus_version(self.store))

    def search_ids(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        index = self.index()
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


def search(store: Store, folder: Path, query: str, k: int = 10) -> list[Hit]:
    """BM25 top-k passages for any text (it is reduced to plain word terms first)."""
    ids = PassageIndex(folder, store).search_ids(query, k)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"SELECT p.id, p.text, d.path FROM passages p JOIN documents d ON d.id = p.document_id WHERE p.id IN ({marks})",
        [i for i, _ in ids],
    )
    found = {r["id"]: r for r in rows}
    return [Hit(i, s, found[i]["text"], found[i]["path"]) for i, s in ids if i in found]
