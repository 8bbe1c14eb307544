"""What the user curates is what trains, exports and is shown: the studio's rows, `sdrl samples`, training rows and
the exported dataset agree after any sequence of decisions (a property test against a reference model)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import queries
from engine.cli.main import cli
from engine.errors import RunError
from engine.export import export_dataset
from engine.training.data import insert_selection, selected_rows
from engine.workspace import Workspace, init_workspace

QUESTIONS = ("How many eggs are left?", "What is 3 + 4?", "Half of 12?", "Add 2 and 9.")
SPLITS = ("train", "train", "val", "train")


def curated_workspace(root: Path) -> tuple[Workspace, list[int]]:
    """Four selected samples (one val); the last one the voters could not label (no label, unlabelable)."""
    ws = init_workspace(root, "demo")
    revision, _ = ws.current_revision()
    items = [
        (q, str(7 + i), 0.5, split)
        for i, (q, split) in enumerate(zip(QUESTIONS, SPLITS, strict=True))
    ]
    selection_id = insert_selection(ws.store, revision.id, items)
    ids = [
        int(r[0])
        for r in ws.store.query(
            "SELECT sample_id FROM selection_items WHERE selection_id=? ORDER BY sample_id",
            (selection_id,),
        )
    ]
    with ws.store.transaction() as conn:  # what the label stage leaves when the votes disagree
        conn.execute("UPDATE samples SET label=NULL, status='unlabelable' WHERE id=?", (ids[-1],))
    return ws, ids


def sdrl_cli(ws: Workspace, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["-w", str(ws.root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


class Reference:
    """The curation rules, written out plainly: undo drops the newest decision; the newest accept/pin/reject/clear
    is in force ('clear' = none); the newest edit with no clear after it replaces question and label."""

    def __init__(self, originals: dict[int, tuple[str, str | None]]) -> None:
        self.originals = originals
        self.log: dict[int, list[tuple[str, str | None, str | None]]] = {i: [] for i in originals}

    def apply(self, sid: int, action: str, question: str | None, answer: str | None) -> None:
        if action == "undo":
            if self.log[sid]:
                self.log[sid].pop()
        else:
            self.log[sid].append((action, question, answer))

    def decision(self, sid: int) -> str | None:
        plain = [a for a, _, _ in self.log[sid] if a != "edit"]
        return plain[-1] if plain and plain[-1] != "clear" else None

    def text(self, sid: int) -> tuple[str, str | None, bool]:
        question, label = self.originals[sid]
        edit = None
        for action, q, a in self.log[sid]:
            if action == "edit":
                edit = (q, a)
            elif action == "clear":
                edit = None
        return (edit[0] or question, edit[1], True) if edit else (question, label, False)


OPS = st.tuples(
    st.sampled_from(("edit", "accept", "pin", "reject", "clear", "undo")),
    st.integers(0, len(QUESTIONS) - 1),
    st.sampled_from(("studio", "cli")),
    st.sampled_from(("Ducks lay 16 eggs; how many?", "What is 10 - 3?", "Twice 4?")),
    st.sampled_from(("", "7", "16", "x/2")),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(OPS, max_size=8))
def test_studio_cli_training_and_export_agree_after_any_decisions(ops: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws, ids = curated_workspace(Path(tmp) / "ws")
        try:
            _check(ws, ids, ops, Path(tmp))
        finally:
            ws.close()


def _check(ws: Workspace, ids: list[int], ops: list[Any], tmp: Path) -> None:
    store = ws.store
    revision, task = ws.current_revision()
    originals = {
        sid: (QUESTIONS[i], None if i == len(ids) - 1 else str(7 + i)) for i, sid in enumerate(ids)
    }
    reference = Reference(originals)
    for action, index, channel, question, answer in ops:
        sid = ids[index]
        if channel == "studio":
            if action == "undo":
                queries.undo_decision(store, [sid])
            elif action == "edit":
                queries.decide(store, [sid], "edit", question=question, answer=answer)
            else:
                queries.decide(store, [sid], action)
        elif action == "edit":
            sdrl_cli(ws, "samples", "edit", str(sid), "--question", question, "--answer", answer)
        else:
            sdrl_cli(ws, "samples", action, str(sid), "--json")
        reference.apply(sid, action, question, answer)

    studio = {r.id: r for r in queries.sample_rows(store, revision.id, ids)}
    listed = {r["id"]: r for r in json.loads(sdrl_cli(ws, "samples", "list", "--json").output)}
    expected_rows = set()
    for i, sid in enumerate(ids):
        question, label, edited = reference.text(sid)
        row = studio[sid]
        assert (row.question, row.label, row.edited) == (question, label, edited)
        assert row.decision == reference.decision(sid)
        shown = json.loads(sdrl_cli(ws, "samples", "show", str(sid), "--json").output)
        assert (shown["question"], shown["label"], shown["edited"]) == (question, label, edited)
        assert shown["status"] == row.status == listed[sid]["status"]
        assert (listed[sid]["question"], listed[sid]["label"]) == (question, label)
        if reference.decision(sid) != "reject" and label and label.strip():
            expected_rows.add((sid, SPLITS[i], question, label))

    _, rows = selected_rows(store, task, revision.id, ("train", "val"))
    trained = {(r.sample_id, r.split, r.question, r.answer) for r in rows}
    assert trained == expected_rows
    assert all(
        r.prompt.count(r.question) == 1 for r in rows
    )  # the prompt asks the question in force
    if not expected_rows:
        with pytest.raises(RunError):
            export_dataset(ws, tmp / "d.jsonl")
        return
    path, _ = export_dataset(ws, tmp / "d.jsonl")
    exported = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {(e["sample_id"], e["split"], e["question"], e["answer"]) for e in exported} == trained


def test_edit_then_accept_trains_the_edit_and_an_edited_label_rescues_an_unlabelled_sample(
    tmp_path: Path,
) -> None:
    ws, ids = curated_workspace(tmp_path / "ws")
    revision, task = ws.current_revision()
    queries.decide(ws.store, [ids[0]], "edit", question="Edited question?", answer="99")
    queries.decide(ws.store, [ids[0]], "accept")
    queries.decide(ws.store, [ids[1]], "edit", question=QUESTIONS[1], answer="5")
    queries.decide(ws.store, [ids[1]], "pin")
    queries.decide(ws.store, [ids[3]], "edit", question=QUESTIONS[3], answer="11")
    _, rows = selected_rows(ws.store, task, revision.id, ("train",))
    by_id = {r.sample_id: (r.question, r.answer) for r in rows}
    assert by_id == {
        ids[0]: ("Edited question?", "99"),
        ids[1]: (QUESTIONS[1], "5"),
        ids[3]: (QUESTIONS[3], "11"),
    }
    ws.close()


def test_cli_curation_verbs(tmp_path: Path, sdrl) -> None:
    ws, ids = curated_workspace(tmp_path / "ws")
    root = str(ws.root)
    edited = sdrl("-w", root, "samples", "edit", str(ids[0]), "--answer", "42", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)[0] | {} == {
        **json.loads(edited.stdout)[0],
        "question": QUESTIONS[0],  # the question in force is kept
        "label": "42",
        "edited": True,
        "status": "edited",
    }
    pinned = json.loads(
        sdrl("-w", root, "samples", "pin", str(ids[0]), str(ids[1]), "--json").stdout
    )
    assert [(p["status"], p["label"]) for p in pinned] == [("pinned", "42"), ("pinned", "8")]
    shown = json.loads(sdrl("-w", root, "samples", "show", str(ids[0]), "--json").stdout)
    assert shown["edited"] and shown["label"] == "42" and shown["original_label"] == "7"
    assert [d["action"] for d in shown["decisions"]] == ["edit", "pin"]
    cleared = json.loads(sdrl("-w", root, "samples", "clear", str(ids[0]), "--json").stdout)
    assert cleared[0]["label"] == "7" and not cleared[0]["edited"]
    undone = json.loads(sdrl("-w", root, "samples", "undo", str(ids[0]), "--json").stdout)
    assert undone[0]["status"] == "pinned" and undone[0]["label"] == "42"
    missing = sdrl("-w", root, "samples", "reject", str(ids[2]), "999")
    assert missing.returncode == 2 and "no sample 999" in missing.stderr
    assert queries.sample_row(ws.store, ids[2]).status == "labelled"  # type: ignore[union-attr]  # nothing written
    empty = sdrl("-w", root, "samples", "edit", str(ids[2]), "--question", "  ")
    assert empty.returncode == 2 and "fix:" in empty.stderr
    listed = json.loads(sdrl("-w", root, "samples", "list", "--status", "pinned", "--json").stdout)
    assert [r["id"] for r in listed] == [ids[0], ids[1]]
    ws.close()
