"""Ingest .txt, .md and .jsonl files into passages, incrementally (by sha256), each file in one transaction."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.corpus.chunking import chunk_text
from engine.corpus.index import PassageIndex, bump_corpus_version, writer_busy, writer_lock
from engine.events import (
    Event,
    ItemDone,
    ItemFailed,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.stages import run_blocking
from engine.store import Store, require_free_space

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED = TEXT_SUFFIXES | JSONL_SUFFIXES
STAGE = "corpus"


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str
    """added, updated, unchanged or skipped"""
    passages: int = 0
    reason: str = ""


class _Skip(Exception):
    """A file that cannot be ingested; the reason is shown to the user."""


def _expand(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """(file, named explicitly); folders are walked for supported files, in a stable order."""
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix.lower() in SUPPORTED
                    and not child.name.startswith(".")
                ):
                    yield child, False
        else:
            yield path, True


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise _Skip("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Skip(f"not UTF-8 text (invalid byte at offset {exc.start})") from exc


class _Stopped(Exception):
    """A stop was asked for in the middle of a file: the file is left out whole, to be added next time."""


def _jsonl_passages(
    text: str, field: str, should_stop: Callable[[], bool] = lambda: False
) -> tuple[list[str], str]:
    """One passage per record (records are passages already); returns (passages, a note on bad lines)."""
    passages: list[str] = []
    not_json: list[int] = []
    no_field: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        if number % 2000 == 0 and should_stop():
            raise _Stopped
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            not_json.append(number)
            continue
        value = record.get(field) if isinstance(record, dict) else None
        if isinstance(value, str) and value.strip():
            passages.append(value.strip())
        else:
            no_field.append(number)
    notes = []
    if not_json:
        notes.append(f"{_lines(not_json)} not valid JSON")
    if no_field:
        notes.append(f"{_lines(no_field)} without a text field {field!r}")
    note = "; ".join(notes)
    if not passages and not no_field:
        raise _Skip(f"no valid JSON records ({note})" if note else "empty file")
    if not passages:
        raise _Skip(f"no records with a text field {field!r} ({note}); pass --field NAME")
    return passages, note


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5]) + (
        f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    )
    return f"line {shown}" if len(numbers) == 1 else f"lines {shown}"


def _passages(
    path: Path,
    text: str,
    chunk_chars: int,
    overlap: int,
    field: str,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[list[str], str]:
    if path.suffix.lower() in JSONL_SUFFIXES:
        return _jsonl_passages(text, field, should_stop)
    passages = chunk_text(text, chunk_chars, overlap)
    if not passages:
        raise _Skip("empty file")
    return passages, ""


def _name(path: Path, root: Path | None) -> str:
    resolved = path.resolve()
    if root is not None and resolved.is_relative_to(root.resolve()):
        return str(resolved.relative_to(root.resolve()))
    return str(resolved)


def _store_document(
    store: Store, name: str, digest: str, size: int, passages: list[str]
) -> tuple[int, bool]:
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM documents WHERE path=?", (name,)).fetchone()
        if row is not None:
            doc_id = int(row["id"])
            # samples keep their text; only the link to a passage that no longer exists is cleared
            conn.execute(
                "UPDATE samples SET passage_id=NULL WHERE passage_id IN (SELECT id FROM passages WHERE document_id=?)",
                (doc_id,),
            )
            conn.execute("DELETE FROM passages WHERE document_id=?", (doc_id,))
            conn.execute(
                "UPDATE documents SET sha256=?, size=?, n_passages=?, added_at=? WHERE id=?",
                (digest, size, len(passages), time.time(), doc_id),
            )
        else:
            cur = conn.execute(
                "INSERT INTO documents(path, sha256, size, n_passages, added_at) VALUES (?,?,?,?,?)",
                (name, digest, size, len(passages), time.time()),
            )
            doc_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO passages(document_id, ordinal, text) VALUES (?,?,?)",
            [(doc_id, i, text) for i, text in enumerate(passages)],
        )
        bump_corpus_version(conn)
    return doc_id, row is not None


def iter_ingest(
    store: Store,
    index_dir: Path,
    paths: Iterable[Path],
    *,
    chunk_chars: int = 1200,
    overlap: int = 200,
    jsonl_field: str = "text",
    root: Path | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Events per file (ItemDone with a FileResult in `detail`, ItemFailed for skipped files), then StageFinished."""
    files = list(_expand(paths))
    counts = {"added": 0, "updated": 0, "unchanged": 0, "skipped": 0, "passages": 0}
    yield StageStarted(STAGE, total=len(files))
    # one corpus writer at a time, for the files and the index alike: a second one waits (and says
    # so), and a search meanwhile reads the last committed index or hears that it is being built
    if writer_busy(index_dir):
        yield StageWarning(
            STAGE, message="another process is adding to the corpus; waiting for it to finish"
        )
    with writer_lock(index_dir):
        stopped = False
        for done, (path, explicit) in enumerate(files, 1):
            if should_stop():
                stopped = True
                break
            name = _name(path, root)
            try:
                if not path.is_file():
                    raise _Skip("no such file")
                if path.suffix.lower() not in SUPPORTED:
                    raise _Skip(
                        f"unsupported file type {path.suffix or '(none)'}; use .txt, .md or .jsonl"
                    )
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                known = store.scalar("SELECT sha256 FROM documents WHERE path=?", (name,))
                if known == digest:
                    result = FileResult(name, "unchanged")
                else:
                    passages, note = _passages(
                        path, _decode(data), chunk_chars, overlap, jsonl_field, should_stop
                    )
                    if should_stop():
                        raise _Stopped
                    # the database and the index together take about three times the text
                    require_free_space(store.path, 3 * len(data) + 2**20)
                    _, updated = _store_document(store, name, digest, len(data), passages)
                    note = f"skipped {note}" if note else ""
                    result = FileResult(
                        name, "updated" if updated else "added", len(passages), note
                    )
                    counts["passages"] += len(passages)
                counts[result.status] += 1
                yield ItemDone(STAGE, item_id=name, detail=result.__dict__)
            except _Stopped:
                stopped = True
                break
            except (_Skip, OSError) as exc:
                counts["skipped"] += 1
                reason = (
                    str(exc) if isinstance(exc, _Skip) else f"cannot read: {exc.strerror or exc}"
                )
                yield ItemFailed(STAGE, item_id=name, reason=reason, detail={"explicit": explicit})
            yield Progress(STAGE, done=done, total=len(files), unit="files")
        # index what the store holds and the index lacks (this run's files, or an interrupted run's)
        PassageIndex(index_dir, store).sync()
    yield StageFinished(STAGE, counts=counts, stopped=stopped)


def ingest(
    store: Store, index_dir: Path, paths: Iterable[Path], **options: object
) -> list[FileResult]:
    """Blocking wrapper: per-file results (skipped files included, with their reason)."""
    results: list[FileResult] = []

    def collect(event: Event) -> None:
        if isinstance(event, ItemDone):
            results.append(FileResult(**event.detail))
        elif isinstance(event, ItemFailed):
            results.append(FileResult(str(event.item_id), "skipped", 0, event.reason))

    run_blocking(iter_ingest(store, index_dir, paths, **options), collect)  # type: ignore[arg-type]
    return results
