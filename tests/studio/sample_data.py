"""Deterministic store contents for studio tests, snapshots and the benchmark (fixed times, no randomness)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.events import EventLog, ItemDone, Metric, StageStarted
from engine.workspace import Workspace

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC: fixed so snapshots never drift
MODEL = "gemma3-270m"  # model_key() of the demo task's base model


def fix_revision_times(ws: Workspace) -> None:
    with ws.store.transaction() as conn:
        conn.execute("UPDATE revisions SET created_at = ? + id * 60", (T0,))


def add_samples(ws: Workspace, n: int, *, scored: bool = True, details: bool = True) -> list[int]:
    """n labelled samples; pass rates spread over [0, 1]; the first few carry votes, rollouts and a passage."""
    rid = ws.store.latest_revision().id  # type: ignore[union-attr]
    origins = ("initial", "initial", "harder", "easier")
    with ws.store.transaction() as conn:
        doc = conn.execute(
            "INSERT INTO documents(path, sha256, size, n_passages, added_at) VALUES ('corpus/town.md','x',1,1,?)",
            (T0,),
        ).lastrowid
        pid = conn.execute(
            "INSERT INTO passages(document_id, ordinal, text) VALUES (?,0,?)",
            (doc, "The market sells apples at 3 coins each and pears at 5 coins each."),
        ).lastrowid
        start = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM samples").fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO samples(id, revision_id, origin, round, slot_key, passage_id, question, generated_answer, label, "
            "agreement, rationale, status, content_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    start + i,
                    rid,
                    origins[i % 4],
                    int(origins[i % 4] != "initial"),
                    f"s:{start + i}",
                    pid,
                    f"Ana buys {i % 9 + 2} apples at 3 coins each. How many coins does she pay? (item {i})",
                    f"#### {3 * (i % 9 + 2)}",
                    str(3 * (i % 9 + 2)),
                    [1.0, 0.75, 0.5, 0.25][i % 4],
                    "3 per apple",
                    "labelled",
                    f"h{start + i}",
                    T0,
                )
                for i in range(n)
            ],
        )
        if scored:
            conn.executemany(
                "INSERT INTO scores(sample_id, model, k, passed, pass_rate, created_at) VALUES (?,?,?,?,?,?)",
                [(start + i, MODEL, 8, i % 9, (i % 9) / 8, T0) for i in range(n)],
            )
        if details:
            for i in range(min(n, 5)):
                sid = start + i
                gold = str(3 * (i % 9 + 2))
                conn.executemany(
                    "INSERT INTO votes(sample_id, idx, text, answer) VALUES (?,?,?,?)",
                    [(sid, v, f"... #### {gold}", gold if v != 3 else "7") for v in range(5)],
                )
                conn.executemany(
                    "INSERT INTO rollouts(sample_id, model, idx, text, answer, correct) VALUES (?,?,?,?,?,?)",
                    [
                        (sid, MODEL, r, f"She pays {gold}. #### {gold}", gold, int(r < i % 9))
                        for r in range(8)
                    ],
                )
                conn.execute(
                    "INSERT INTO probes(sample_id, model, text, answer, correct, created_at) VALUES (?,?,?,?,?,?)",
                    (sid, MODEL, "#### 6", "6", i % 2, T0),
                )
    return list(range(start, start + n))


def add_run(
    ws: Workspace, run_id: str = "20260101-000000-abcd", steps: int = 4, status: str = "finished"
) -> Path:
    """A run as the CLI leaves it: a runs row, run_metrics rows, and an events.jsonl in its folder."""
    folder = ws.runs_dir / run_id
    folder.mkdir(parents=True, exist_ok=True)
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, pid, folder, config, revision_id, base_model, step, total_steps) "
            "VALUES (?, 'train', ?, ?, ?, NULL, ?, ?, 1, 'gemma3-270m', 0, 20)",
            (run_id, status, T0, T0, str(folder), json.dumps({"run_id": run_id})),
        )
    EventLog(folder / "events.jsonl").append(StageStarted("train", total=20, ts=T0))
    add_metrics(ws, run_id, range(1, steps + 1))
    return folder


def add_metrics(ws: Workspace, run_id: str, steps: range) -> None:
    folder = ws.runs_dir / run_id
    log = EventLog(folder / "events.jsonl")
    with ws.store.transaction() as conn:
        for step in steps:
            values = {
                "reward_mean": 0.2 + 0.05 * step,
                "kl": 0.001 * step,
                "loss": 0.01 * (step % 3),
                "completion_length": 120.0 - step,
                "zero_std_share": 0.5 - 0.02 * step,
            }
            conn.executemany(
                "INSERT OR REPLACE INTO run_metrics(run_id, step, name, value, ts) VALUES (?,?,?,?,?)",
                [(run_id, step, k, v, T0 + step) for k, v in values.items()],
            )
            conn.execute("UPDATE runs SET step=? WHERE id=?", (step, run_id))
            for k, v in values.items():
                log.append(Metric("train", name=k, value=v, step=step, ts=T0 + step))
    last = steps[-1] if len(steps) else 0
    log.append(
        ItemDone(
            "train",
            item_id=f"step{last}-0",
            ts=T0 + last,
            detail={
                "kind": "sample",
                "step": last,
                "completion": f"She pays 12 coins. #### 12 (step {last})",
                "rewards": {"correctness": 1.0},
            },
        )
    )


def add_evals(ws: Workspace, run_id: str | None = None) -> None:
    with ws.store.transaction() as conn:
        ids = []
        for adapter, correct in ((None, [1, 0, 0, 1]), ("runs/x/adapter", [1, 1, 0, 0])):
            eid = conn.execute(
                "INSERT INTO evals(run_id, benchmark, model, adapter, n, correct, accuracy, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    run_id if adapter else None,
                    "gsm8k-mini",
                    "gemma3-270m",
                    adapter,
                    4,
                    sum(correct),
                    sum(correct) / 4,
                    T0,
                ),
            ).lastrowid
            ids.append(eid)
            conn.executemany(
                "INSERT INTO eval_items(eval_id, idx, question, gold, prediction, answer, correct) VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        eid,
                        i,
                        f"Question {i}: 2 + {i}?",
                        str(2 + i),
                        f"#### {2 + i if c else 0}",
                        str(2 + i) if c else "0",
                        c,
                    )
                    for i, c in enumerate(correct)
                ],
            )


def preview_events() -> list:
    """What the preview stage streams for two questions (fixed text, for snapshots)."""
    from engine.events import ItemDone, StageFinished, StageStarted, Token

    events: list = [StageStarted("preview", total=2, ts=T0)]
    items = [
        (
            "A baker fills 4 trays with 6 rolls each and sells 9. How many rolls are left?",
            "4 * 6 = 24; 24 - 9 = 15\n#### 15",
            "The bakery on Mill Street bakes rolls on trays of six every morning.",
        ),
        (
            "A bus ticket costs 2 coins. Tom rides 5 times a week for 3 weeks. What does he spend?",
            "5 * 3 = 15 rides; 15 * 2 = 30\n#### 30",
            "Town buses charge a flat fare of two coins for any ride inside the ring road.",
        ),
    ]
    for i, (question, answer, passage) in enumerate(items):
        events.append(
            Token(
                "preview", item_id=i, text=f'{{"input": "{question}", "output": "{answer}"}}', ts=T0
            )
        )
        events.append(
            ItemDone(
                "preview",
                item_id=i,
                ts=T0,
                detail={
                    "input": question,
                    "output": answer,
                    "passage": passage,
                    "passage_id": None,
                },
            )
        )
    events.append(StageFinished("preview", counts={"previewed": 2}, ts=T0))
    return events
