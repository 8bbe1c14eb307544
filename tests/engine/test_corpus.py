"""Corpus ingest (txt/md/jsonl, incremental, bad files) and BM25 search with real SQLite and tantivy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.corpus import chunk_text, ingest, query_terms, search
from engine.corpus.index import STATE_FILE, PassageIndex
from engine.errors import StageError
from engine.store import Store
from tests.engine.synthetic_corpus import NEEDLE_FOCUS, RECORDS


def _passages(ws) -> int:  # type: ignore[no-untyped-def]
    return int(ws.store.scalar("SELECT COUNT(*) FROM passages"))


def test_chunks_overlap_and_cover_the_text() -> None:
    text = " ".join(f"word{i}" for i in range(600))
    chunks = chunk_text(text, 300, 60)
    assert len(chunks) > 5
    assert all(len(c) <= 300 for c in chunks)
    assert chunks[0].startswith("word0 ") and chunks[-1].endswith("word599")
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.split()[0] in a.split()  # consecutive chunks share words
    assert chunk_text("   ", 100, 10) == []
    with pytest.raises(ValueError):
        chunk_text("x", 10, 10)


def test_query_terms_are_plain_words() -> None:
    assert query_terms('Bus "fare": (child) [ticket] AND -x ^2 {y} it\'s Ünïcode') == [
        "bus",
        "fare",
        "child",
        "ticket",
        "x",
        "2",
        "y",
        "s",
        "ünïcode",
    ]  # "and" and "it" are stop words


def test_a_query_of_stop_words_only_keeps_them() -> None:
    assert query_terms("What is it?") == ["what", "is", "it"]
    assert query_terms("What is Parkinson's disease?") == ["parkinson", "s", "disease"]


def test_repeated_searches_reuse_the_open_index_until_a_writer_commits(workspace, tmp_path) -> None:
    from engine.corpus import index as index_module

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Ferries leave the harbour at nine.\n")
    ingest(workspace.store, workspace.index_dir, [docs / "a.txt"], chunk_chars=200, overlap=20)
    first = search(workspace.store, workspace.index_dir, "ferries harbour")
    reader = index_module._READERS[workspace.index_dir][1]
    assert [h.text for h in search(workspace.store, workspace.index_dir, "harbour")] == [
        first[0].text
    ]
    assert index_module._READERS[workspace.index_dir][1] is reader  # reused
    (docs / "b.txt").write_text("Llamas graze in the harbour meadow.\n")
    ingest(workspace.store, workspace.index_dir, [docs / "b.txt"], chunk_chars=200, overlap=20)
    hits = search(workspace.store, workspace.index_dir, "llamas meadow")
    assert hits and "Llamas" in hits[0].text  # the new commit is seen: the reader was reopened
    assert index_module._READERS[workspace.index_dir][1] is not reader


def test_ingest_search_and_incremental(workspace, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Ferries\nThe ferry to Gull Island costs $7 and leaves at 9:15.\n")
    (docs / "b.txt").write_text("Llamas eat hay. A llama needs 2 kilograms of hay a day.\n")
    records = [
        {"text": "Zebras have stripes."},
        {"body": "no text field"},
        {"text": "Owls hunt at night."},
    ]
    (docs / "c.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    results = ingest(workspace.store, workspace.index_dir, [docs])
    assert [r.status for r in results] == ["added", "added", "added"]
    assert [r.passages for r in results] == [1, 1, 2]
    assert "line 4 not valid JSON" in results[2].reason and "line 2 without" in results[2].reason
    assert _passages(workspace) == 4

    hits = search(workspace.store, workspace.index_dir, "how much is the FERRY: ticket?", 3)
    assert hits and "Gull Island" in hits[0].text and hits[0].score > 0
    assert search(workspace.store, workspace.index_dir, "owls", 5)[0].text == "Owls hunt at night."

    again = ingest(workspace.store, workspace.index_dir, [docs])
    assert {r.status for r in again} == {"unchanged"}
    assert _passages(workspace) == 4

    (docs / "b.txt").write_text("Alpacas are smaller than llamas and eat grass.\n")
    changed = ingest(workspace.store, workspace.index_dir, [docs / "b.txt"])
    assert changed[0].status == "updated"
    assert _passages(workspace) == 4
    assert search(workspace.store, workspace.index_dir, "hay", 5) == []
    assert "Alpacas" in search(workspace.store, workspace.index_dir, "alpacas", 5)[0].text


def test_bad_files_are_skipped_with_a_reason(workspace, tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.md").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "nofield.jsonl").write_text('{"body": "x"}\n')
    (tmp_path / "good.txt").write_text("Kites fly high in the spring wind.")
    names = [
        "bin.txt",
        "latin.md",
        "empty.txt",
        "photo.png",
        "nofield.jsonl",
        "missing.txt",
        "good.txt",
    ]
    results = ingest(workspace.store, workspace.index_dir, [tmp_path / n for n in names])
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["bin.txt"].reason.startswith("binary")
    assert "not UTF-8" in by_name["latin.md"].reason
    assert by_name["empty.txt"].reason == "empty file"
    assert "unsupported" in by_name["photo.png"].reason
    assert "--field" in by_name["nofield.jsonl"].reason
    assert by_name["missing.txt"].reason == "no such file"
    assert [r.status for r in results].count("skipped") == 6
    assert by_name["good.txt"].status == "added"
    assert (
        int(workspace.store.scalar("SELECT COUNT(*) FROM documents")) == 1
    )  # nothing half-written


def test_search_never_rebuilds_and_check_repairs(workspace, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Tulips bloom in April.")
    ingest(workspace.store, workspace.index_dir, [tmp_path / "a.txt"])
    shutil.rmtree(workspace.index_dir)  # as if the index commit never happened
    with pytest.raises(StageError, match="corpus index") as refused:
        search(workspace.store, workspace.index_dir, "tulips", 3)
    assert "sdrl corpus check" in refused.value.hint
    assert not workspace.index_dir.exists()  # the search wrote nothing
    report = PassageIndex(workspace.index_dir, workspace.store).check()
    assert report.repaired and not report.in_step and report.indexed_passages == -1
    assert (
        search(workspace.store, workspace.index_dir, "tulips", 3)[0].text
        == "Tulips bloom in April."
    )
    assert PassageIndex(workspace.index_dir, workspace.store).check().in_step
    (workspace.index_dir / STATE_FILE).write_text("garbage")
    assert PassageIndex(workspace.index_dir, workspace.store).check().repaired
    assert PassageIndex(workspace.index_dir, workspace.store).search_ids("april", 3)


def test_state_records_the_version_of_the_passages_it_indexed(workspace, tmp_path: Path) -> None:
    """A passage committed by another writer after this one's snapshot is not claimed as indexed."""
    from engine.corpus.ingest import _store_document

    (tmp_path / "a.txt").write_text("Tulips bloom in April.")
    ingest(workspace.store, workspace.index_dir, [tmp_path / "a.txt"])
    index = PassageIndex(workspace.index_dir, workspace.store)
    other = Store(workspace.db_path)
    real_add = PassageIndex._add

    def add_then_other_commits(writer, rows) -> None:  # the other process commits mid-sync
        real_add(writer, rows)
        _store_document(other, "late.txt", "f" * 64, 10, ["Owls hunt at night."])

    _store_document(workspace.store, "b.txt", "e" * 64, 10, ["Hay is dry grass."])
    PassageIndex._add = staticmethod(add_then_other_commits)  # type: ignore[method-assign]
    try:
        index.sync()
    finally:
        PassageIndex._add = staticmethod(real_add)  # type: ignore[method-assign]
    other.close()
    assert not index.in_step()  # the late passage is still owed to the index
    index.sync()
    assert index.in_step()
    assert search(workspace.store, workspace.index_dir, "owls", 3)[0].text == "Owls hunt at night."
    assert search(workspace.store, workspace.index_dir, "hay", 3)[0].text == "Hay is dry grass."


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=80)
    | st.sampled_from(
        ['"', "a:b", "(", "[1 TO", "AND", "OR NOT", "title:x", "'", "-", "^", "{}", "\\", "*", "~2"]
    )
)
def test_any_text_is_a_safe_query(workspace, query: str) -> None:
    if not _passages(workspace):
        (workspace.root / "q.txt").write_text(
            "The quick brown fox and the lazy dog: AND OR NOT (test) [range]."
        )
        ingest(workspace.store, workspace.index_dir, [workspace.root / "q.txt"])
    hits = search(workspace.store, workspace.index_dir, query, 3)
    assert all(h.score > 0 for h in hits)


def test_cli_add_and_search(workspace, sdrl, tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("The lighthouse keeper climbs 117 steps every evening.")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    added = sdrl(
        "corpus", "add", str(tmp_path / "notes.md"), str(tmp_path / "bad.txt"), cwd=workspace.root
    )
    assert added.returncode == 2, added.stderr  # a file named on the command line added nothing
    assert "1 added" in added.stdout and "1 skipped" in added.stdout
    assert "binary" in added.stderr and "added nothing" in added.stderr
    found = sdrl("corpus", "search", 'lighthouse "steps": (keeper)', "-k", "2", cwd=workspace.root)
    assert found.returncode == 0, found.stderr
    assert "score" in found.stdout and "117 steps" in found.stdout


def test_demo_corpus_is_rich_in_numbers() -> None:
    from engine.workspace import templates_dir

    files = sorted((templates_dir() / "demo" / "corpus").glob("*.md"))
    assert 10 <= len(files) <= 15
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert 200 <= len(text.split()) <= 600, f.name
        assert sum(ch.isdigit() for ch in text) >= 40, f.name


@pytest.mark.slow
def test_large_jsonl_corpus_indexes_all_records(workspace, sdrl, qa_corpus_jsonl: Path) -> None:
    """A MedQuAD-sized corpus (16,407 records, ~26 MB, generated): every record becomes a passage, and
    a search finds the one planted record among them."""
    result = sdrl(
        "corpus", "add", str(qa_corpus_jsonl), "--field", "answer", "-q", cwd=workspace.root
    )
    assert result.returncode == 0, result.stderr
    assert f"{RECORDS} new passages" in result.stdout
    found = sdrl(
        "corpus",
        "search",
        f"What are the symptoms of {NEEDLE_FOCUS}?",
        "-k",
        "3",
        cwd=workspace.root,
    )
    assert found.returncode == 0, found.stderr
    first_hit = found.stdout.split("  2. ")[0].lower()
    assert "lymphoblastic leukemia include fever" in first_hit, found.stdout
