"""A workspace full of hostile text: escape sequences, NUL, C1 controls and markup in every field that is shown."""

from __future__ import annotations

import json
import time

from engine.corpus.ingest import ingest
from engine.workspace import Workspace

# clear screen, alternate screen, OSC window title + bell, NUL, one-byte CSI, CR, RTL override,
# and rich/Textual markup that must be shown literally, not interpreted (or choked on)
HOSTILE = (
    "\x1b[2J\x1b[?1049h\x1b]0;pwned\x07\x00\x9b2J\r\u202e[bold red]x[/] [link=file:///]y[/link] [/"
)
MARK = "hostile"  # a word every hostile field carries, so a test can check the field was shown
RUN_ID = "20260101-000000-host"


def is_clean(shown: str) -> bool:
    """No control character but newline and tab (and no bidi override) in what reached the screen."""
    return not any(
        (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in shown
    )


def hostile(field: str) -> str:
    return f"{MARK} {field} {HOSTILE} end"


def fill_hostile(ws: Workspace) -> dict[str, int]:
    """Hostile text in the task, corpus, samples, votes, probes, rollouts, a run and an eval; returns ids."""
    toml_escaped = json.dumps(hostile("task"))[1:-1]  # TOML basic strings take JSON's escapes
    text = ws.task_file.read_text()
    text = text.replace('name = "', f'name = "{toml_escaped} ', 1)
    ws.task_file.write_text(text)
    revision, _ = ws.current_revision("hostile " + HOSTILE)
    # NUL makes a .txt count as binary; a JSON string carries it (and the rest) as escapes
    corpus_file = ws.root / "hostile \x1b[2J\x07.jsonl"  # a file name can be hostile too
    corpus_file.write_text(json.dumps({"text": hostile("passage") + " walrus"}))
    ingest(ws.store, ws.index_dir, [corpus_file], root=ws.root)
    passage = int(ws.store.scalar("SELECT MAX(id) FROM passages"))
    now = time.time()
    with ws.store.transaction() as conn:
        sample = conn.execute(
            "INSERT INTO samples(revision_id, origin, slot_key, passage_id, question, generated_answer, label, "
            "agreement, rationale, status, content_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                revision.id,
                "initial",
                "initial:0",
                passage,
                hostile("question"),
                hostile("answer"),
                hostile("label"),
                0.75,
                hostile("rationale"),
                "labelled",
                "h-hostile",
                now,
            ),
        ).lastrowid
        conn.execute(
            "INSERT INTO votes(sample_id, idx, text, answer) VALUES (?,?,?,?)",
            (sample, 1, hostile("vote text"), hostile("vote")),
        )
        conn.execute(
            "INSERT INTO probes(sample_id, model, text, answer, correct, created_at) VALUES (?,?,?,?,?,?)",
            (sample, "gemma3-270m", hostile("probe text"), hostile("probe"), 0, now),
        )
        conn.execute(
            "INSERT INTO rollouts(sample_id, model, idx, text, answer, correct) VALUES (?,?,?,?,?,?)",
            (sample, "gemma3-270m", 0, hostile("rollout"), hostile("rollout answer"), 1),
        )
        conn.execute(
            "INSERT INTO failures(revision_id, stage, item_key, reason, raw, created_at) VALUES (?,?,?,?,?,?)",
            (revision.id, "generate", "initial:1", hostile("failure"), HOSTILE, now),
        )
        folder = ws.runs_dir / RUN_ID
        folder.mkdir(parents=True, exist_ok=True)
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, pid, folder, config, revision_id, "
            "base_model, step, total_steps, message) VALUES (?, 'train', 'failed', ?, ?, NULL, ?, '{}', ?, ?, 0, 4, ?)",
            (RUN_ID, now, now, str(folder), revision.id, hostile("base"), hostile("run message")),
        )
        evals = []
        for adapter, correct in ((None, 0), ("adapter", 1)):
            eid = conn.execute(
                "INSERT INTO evals(run_id, benchmark, model, adapter, n, correct, accuracy, created_at) "
                "VALUES (?,?,?,?,1,?,?,?)",
                (
                    RUN_ID if adapter else None,
                    hostile("bench"),
                    "gemma3-270m",
                    adapter,
                    correct,
                    correct,
                    now,
                ),
            ).lastrowid
            conn.execute(
                "INSERT INTO eval_items(eval_id, idx, question, gold, prediction, answer, correct) VALUES (?,?,?,?,?,?,?)",
                (
                    eid,
                    0,
                    hostile("eval question"),
                    "1",
                    hostile("prediction"),
                    hostile("eval answer"),
                    correct,
                ),
            )
            evals.append(int(eid))
    return {"sample": int(sample), "revision": revision.id, "base_eval": evals[0], "eval": evals[1]}


def cli_commands(ids: dict[str, int]) -> list[tuple[list[str], bool]]:
    """Every CLI command that shows data, with arguments that make it show the hostile rows, and
    whether its plain-text output shows a hostile field (JSON escapes them its own way)."""
    return [
        (["status"], True),
        (["status", "--json"], False),
        (["samples", "list"], True),
        (["samples", "list", "--json"], False),
        (["samples", "show", str(ids["sample"])], True),
        (["samples", "show", str(ids["sample"]), "--json"], False),
        (["corpus", "search", "hostile walrus"], True),
        (["corpus", "search", "hostile walrus", "--json"], False),
        (["corpus", "list"], True),
        (["task", "show"], False),  # TOML source: its escapes are text already
        (["task", "log"], True),
        (["task", "diff", "1", str(ids["revision"])], False),
        (["stats"], False),
        (["runs", "list"], True),
        (["runs", "show", RUN_ID], True),
        (["eval", "list"], True),
        (["eval", "compare", str(ids["base_eval"]), str(ids["eval"])], True),
    ]
