"""Greedy accuracy of the base model and of trained adapters on a benchmark file or the held-out synthetic split; side-by-side comparison."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.answers import AnswerChecker, task_checker
from engine.errors import RunError
from engine.events import Event, ItemDone, Progress, StageFinished, StageStarted
from engine.workspace import Workspace

CHUNK = 8


@dataclass(frozen=True)
class Item:
    question: str
    gold: str


@dataclass(frozen=True)
class Comparison:
    base_id: int
    other_id: int
    base_accuracy: float
    other_accuracy: float
    n: int
    fixed: list[tuple[int, str]]
    """(idx, question) wrong before, right after."""
    broken: list[tuple[int, str]]


def parse_mapping(text: str | None) -> dict[str, str]:
    """`question=problem,answer=solution` -> {"question": "problem", "answer": "solution"}."""
    mapping = {"question": "question", "answer": "answer"}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, field = part.partition("=")
        if not sep or key.strip() not in mapping or not field.strip():
            raise RunError(
                f"--map {text!r} is not question=FIELD,answer=FIELD",
                "e.g. --map question=problem,answer=solution",
            )
        mapping[key.strip()] = field.strip()
    return mapping


def gold_answer(checker: AnswerChecker, raw: Any) -> str:
    """The gold answer: extracted with the task's checker when the field carries the output format (GSM8K `#### 18`)."""
    text = str(raw)
    extracted = checker.extract(text)
    return extracted if extracted is not None else text.strip()


def resolve_benchmark(name_or_path: str | Path) -> Path:
    """A benchmark file: the path itself when it exists."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    raise RunError(
        f"Benchmark {name_or_path} is not a file",
        "pass a .jsonl file with question and answer fields (e.g. GSM8K test.jsonl)",
    )


def load_benchmark(
    path: str | Path,
    checker: AnswerChecker,
    mapping: dict[str, str] | None = None,
    limit: int | None = None,
) -> list[Item]:
    """Items of a built-in benchmark (`gsm8k`) or a jsonl (or json list) file; a record without the
    mapped fields is a clear error naming line and fields."""
    from engine.benchmarks import resolve_benchmark

    mapping = mapping or parse_mapping(None)
    _, path = resolve_benchmark(path)
    text = path.read_text(encoding="utf-8")
    try:
        records = (
            json.loads(text)
            if path.suffix == ".json"
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{path} is not valid JSON lines: {exc}", "each line must be one JSON object"
        ) from exc
    items: list[Item] = []
    for number, record in enumerate(records, 1):
        if limit is not None and len(items) >= limit:
            break
        missing = [
            f
            for f in (mapping["question"], mapping["answer"])
            if not isinstance(record, dict) or f not in record
        ]
        if missing:
            fields = ", ".join(record) if isinstance(record, dict) else type(record).__name__
            raise RunError(
                f"{path} line {number} has no field {', '.join(missing)} (it has: {fields})",
                "name the fields with --map question=FIELD,answer=FIELD",
            )
        items.append(
            Item(str(record[mapping["question"]]), gold_answer(checker, record[mapping["answer"]]))
        )
    if not items:
        raise RunError(f"{path} holds no items", "pass a benchmark file with at least one record")
    return items


def val_items(workspace: Workspace, task: Any, revision_id: int) -> tuple[str, list[Item]]:
    """The held-out synthetic split of the latest selection (never trained on)."""
    from engine.training.data import selected_rows

    selection_id, rows = selected_rows(workspace.store, task, revision_id, ("val",))
    if not rows:
        raise RunError(
            "The latest selection has no 'val' split",
            "set selection.validation_share > 0 and select again",
        )
    return f"val:selection-{selection_id}", [Item(r.question, r.answer) for r in rows]


def check_adapter_base(adapter: Path, base_folder: Path) -> None:
    """Refuse an adapter trained on another base model (a clear error instead of a shape mismatch or garbage)."""
    config_file = Path(adapter) / "adapter_config.json"
    if not config_file.is_file():
        raise RunError(
            f"{adapter} is not a LoRA adapter folder (no adapter_config.json)",
            "pass a finished run (`sdrl runs list`) or the adapter folder of one",
        )
    trained_on = (
        json.loads(config_file.read_text(encoding="utf-8")).get("base_model_name_or_path") or ""
    )
    if trained_on and Path(trained_on).resolve() != Path(base_folder).resolve():
        raise RunError(
            f"The adapter {adapter} was trained on {trained_on}, not on {base_folder}",
            "evaluate it with the base model it was trained on (--model, or models.base in task.toml)",
        )


def make_solver(task: Any, model_spec: str, adapter: Path | None) -> Any:
    """The configured solver backend for `model_spec`, with the adapter on top after checking it fits."""
    from engine.backends.solver import get_solver

    if adapter is not None:
        from engine.models import hf_folder, resolve_model

        check_adapter_base(adapter, hf_folder(resolve_model(model_spec)))
    models = task.models.model_copy(update={"base": model_spec})
    return get_solver(task.model_copy(update={"models": models}), adapter=adapter)


def iter_eval(
    workspace: Workspace,
    task: Any,
    benchmark: str,
    items: Sequence[Item],
    *,
    model_spec: str,
    adapter: Path | None = None,
    run_id: str | None = None,
    max_tokens: int = 256,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Greedy answers for every item, checked with the task's checker; stored as one evals row with its items."""
    from engine.backends.solver import solve_prompts

    checker = task_checker(task)
    label = "adapter" if adapter else "base"
    yield StageStarted("eval", total=len(items), detail={"benchmark": benchmark, "model": label})
    solver = make_solver(task, model_spec, adapter)
    results: list[tuple[int, Item, str, str | None, bool]] = []
    try:
        for start in range(0, len(items), CHUNK):
            if should_stop():
                yield StageFinished("eval", counts={"done": len(results)}, stopped=True)
                return  # nothing stored: a partial accuracy would be misleading
            chunk = items[start : start + CHUNK]
            prompts = solve_prompts(task, [it.question for it in chunk], solver)
            outputs = solver.generate(prompts, n=1, temperature=0.0, max_tokens=max_tokens)
            for offset, (item, texts) in enumerate(zip(chunk, outputs, strict=True)):
                answer = checker.extract(texts[0])
                correct = answer is not None and checker.equivalent(answer, item.gold)
                results.append((start + offset, item, texts[0], answer, correct))
                yield ItemDone(
                    "eval",
                    item_id=start + offset,
                    detail={"correct": correct, "answer": answer, "gold": item.gold},
                )
            yield Progress("eval", done=len(results), total=len(items))
    finally:
        solver.close()
    n_correct = sum(r[4] for r in results)
    with workspace.store.transaction() as conn:
        eval_id = conn.execute(
            "INSERT INTO evals(run_id, benchmark, model, adapter, n, correct, accuracy, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                run_id,
                benchmark,
                model_spec,
                str(adapter) if adapter else None,
                len(results),
                n_correct,
                n_correct / len(results),
                time.time(),
            ),
        ).lastrowid
        conn.executemany(
            "INSERT INTO eval_items(eval_id, idx, question, gold, prediction, answer, correct) VALUES (?,?,?,?,?,?,?)",
            [
                (eval_id, idx, it.question, it.gold, text, ans, int(ok))
                for idx, it, text, ans, ok in results
            ],
        )
    yield StageFinished(
        "eval",
        counts={
            "eval_id": eval_id,
            "model": label,
            "n": len(results),
            "correct": n_correct,
            "accuracy": round(n_correct / len(results), 4),
        },
    )


def latest_pair(workspace: Workspace, benchmark: str | None = None) -> tuple[int, int]:
    """(base eval id, adapter eval id): the newest adapter eval and the newest base eval of the same benchmark and size."""
    sql = (
        "SELECT * FROM evals WHERE adapter IS NOT NULL"
        + (" AND benchmark=?" if benchmark else "")
        + " ORDER BY id DESC LIMIT 1"
    )
    other = workspace.store.query(sql, (benchmark,) if benchmark else ())
    if not other:
        raise RunError(
            "No adapter evaluation to compare", "run `sdrl eval --benchmark FILE --run RUN` first"
        )
    base = workspace.store.query(
        "SELECT id FROM evals WHERE adapter IS NULL AND benchmark=? AND n=? ORDER BY id DESC LIMIT 1",
        (other[0]["benchmark"], other[0]["n"]),
    )
    if not base:
        raise RunError(
            f"No base-model evaluation of {other[0]['benchmark']} with {other[0]['n']} items",
            "run `sdrl eval` on the same benchmark and --limit without --run",
        )
    return int(base[0]["id"]), int(other[0]["id"])


def compare(workspace: Workspace, base_id: int, other_id: int) -> Comparison:
    store = workspace.store
    evals = {
        r["id"]: r
        for r in store.query("SELECT * FROM evals WHERE id IN (?, ?)", (base_id, other_id))
    }
    if base_id not in evals or other_id not in evals:
        raise RunError(
            f"No evaluation {base_id if base_id not in evals else other_id}",
            "see `sdrl eval --list`",
        )
    before = {
        r["idx"]: r for r in store.query("SELECT * FROM eval_items WHERE eval_id=?", (base_id,))
    }
    after = {
        r["idx"]: r for r in store.query("SELECT * FROM eval_items WHERE eval_id=?", (other_id,))
    }
    common = sorted(set(before) & set(after))
    fixed = [
        (i, after[i]["question"])
        for i in common
        if not before[i]["correct"] and after[i]["correct"]
    ]
    broken = [
        (i, after[i]["question"])
        for i in common
        if before[i]["correct"] and not after[i]["correct"]
    ]
    return Comparison(
        base_id,
        other_id,
        evals[base_id]["accuracy"],
        evals[other_id]["accuracy"],
        len(common),
        fixed,
        broken,
    )
