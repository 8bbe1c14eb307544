"""The training rows: a selection (one or more splits) as curated, read through engine.queries, as prompt + answer rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.errors import RunError
from engine.prompting import solve_prompt
from engine.queries.selections import latest_selection_id, selected_samples
from engine.store import Store


@dataclass(frozen=True)
class Row:
    """One training or evaluation prompt: the solve prompt, the gold answer and where it came from."""

    prompt: str
    answer: str
    question: str
    sample_id: int
    split: str
    origin: str
    pass_rate: float | None
    agreement: float | None
    revision_id: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def selected_rows(
    store: Store,
    task: Any,
    revision_id: int,
    splits: Sequence[str] = ("train",),
    selection_id: int | None = None,
) -> tuple[int, list[Row]]:
    """(selection id, rows) of `selection_id`, else the latest selection of `revision_id`, as curated.

    Edits in force replace question and label, rejected and unlabelled samples are left out (engine.queries).
    """
    sel = selection_id if selection_id is not None else latest_selection_id(store, revision_id)
    if sel is None:
        raise RunError(
            f"No selection for revision {revision_id}: there is nothing to train on",
            "run the pipeline through selection first (`sdrl run`, or `sdrl select`), or save the task.toml you selected with",
        )
    rows = [
        Row(
            solve_prompt(task, s.question),
            s.label,
            s.question,
            s.sample_id,
            s.split,
            s.origin,
            s.pass_rate,
            s.agreement,
            s.revision_id,
        )
        for s in selected_samples(store, sel, splits)
    ]
    return int(sel), rows


def write_rows(path: Path, rows: Sequence[Row]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")


def read_rows(path: Path) -> list[Row]:
    with open(path, encoding="utf-8") as fh:
        return [Row(**json.loads(line)) for line in fh if line.strip()]


def insert_selection(
    store: Store,
    revision_id: int,
    items: Sequence[tuple[str, str, float | None, str]],
    rule: str = "manual",
) -> int:
    """Add labelled manual samples and a selection of them in one transaction; items are (question, label, pass rate, split).

    For hand-made training sets (tests, benchmarks, imported data) that skip the synthesis stages.
    """
    import time

    from engine.pool import NewSample, insert_sample

    now = time.time()
    with store.transaction() as conn:
        start = conn.execute(
            "SELECT COUNT(*) FROM samples WHERE revision_id=?", (revision_id,)
        ).fetchone()[0]
        selection_id = conn.execute(
            "INSERT INTO selections(revision_id, rule, params, created_at) VALUES (?,?,?,?)",
            (revision_id, rule, json.dumps({"items": len(items)}), now),
        ).lastrowid
        for i, (question, label, pass_rate, split) in enumerate(items):
            sample = NewSample(
                "manual",
                f"manual:{selection_id}:{start + i}",
                question,
                label=label,
                agreement=1.0,
                status="labelled",
            )
            sample_id = insert_sample(conn, revision_id, sample)
            conn.execute(
                "INSERT INTO selection_items(selection_id, sample_id, split, pass_rate) VALUES (?,?,?,?)",
                (selection_id, sample_id, split, pass_rate),
            )
    return int(selection_id or 0)
