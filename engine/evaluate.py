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
    records = _read_records(path)
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


def _read_records(path: Path) -> list[Any]:
    """The records of a .json list or a .jsonl file; a bad file or line is a RunError naming it."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise RunError(
            f"{path} is not UTF-8 text (line {bad_line}, byte {exc.start}): a binary file, or another encoding",
            "pass a UTF-8 .jsonl benchmark (convert it with `iconv -f latin1 -t utf-8`)",
        ) from exc
    except OSError as exc:
        raise RunError(
            f"cannot read {path}: {exc.strerror or exc}", "pass a readable benchmark file"
        ) from exc
    if path.suffix == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RunError(
                f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})",
                "fix the file, or pass one JSON object per line as .jsonl",
            ) from exc
        return value if isinstance(value, list) else [value]
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise RunError(
                f"{path} line {number} is not valid JSON ({exc.msg} at column {exc.colno})",
                "each line must be one JSON object",
            ) from exc
    return records


def run_with_adapter(workspace: Workspace, run_id: str) -> Any:
    """The run (RunInfo; `run_id` may be a prefix) whose final adapter is evaluated; RunError when it has none yet."""
    from engine.runs import get_run

    info = get_run(workspace.store, run_id)
    if not (info.adapter / "adapter_config.json").is_file():
        raise RunError(
            f"Run {info.id} has no final adapter (status {info.status})",
            f"let it finish, or `sdrl runs resume {info.id}`",
        )
    return info


def eval_items(
    workspace: Workspace,
    task: Any,
    revision_id: int,
    *,
    benchmark: str | Path | None,
    mapping: str | None = None,
    limit: int | None = None,
    run_id: str | None = None,
) -> tuple[str, list[Item]]:
    """(name, items) to evaluate: a built-in or file benchmark, else the val split (of `run_id`'s selection)."""
    from engine.benchmarks import resolve_benchmark

    if benchmark:
        name, path = resolve_benchmark(benchmark)
        return name, load_benchmark(path, task_checker(task), parse_mapping(mapping), limit)
    name, items = val_items(workspace, task, revision_id, run_id)
    return name, items[:limit] if limit else items


def val_items(
    workspace: Workspace, task: Any, revision_id: int, run_id: str | None = None
) -> tuple[str, list[Item]]:
    """The held-out synthetic split, as curated: of the selection run `run_id` was trained from, else the latest one.

    A run's own selection, because a re-select after training can move the run's training samples into the newest val split.
    """
    from engine.training.data import selected_rows

    selection_id = _run_selection(workspace, run_id) if run_id else None
    selection_id, rows = selected_rows(
        workspace.store, task, revision_id, ("val",), selection_id=selection_id
    )
    if not rows:
        raise RunError(
            f"Selection {selection_id} has no 'val' split",
            "set selection.validation_share > 0 and select again",
        )
    return f"val:selection-{selection_id}", [Item(r.question, r.answer) for r in rows]


def _run_selection(workspace: Workspace, run_id: str) -> int:
    from engine.queries import run

    info = run(workspace.store, run_id)
    if info is None or info["selection_id"] is None:
        raise RunError(
            f"Run {run_id} does not record the selection it was trained from",
            "evaluate it on a benchmark file (--benchmark) instead of --split val",
        )
    return int(info["selection_id"])


def training_questions(
    workspace: Workspace, task: Any, revision_id: int, run_id: str | None = None
) -> tuple[str | None, list[str]]:
    """(what it is, questions) of the training set: the rows run `run_id` trained on, else the latest selection's
    train split; (None, []) when there is none to check against."""
    from engine.queries import latest_selection_id, run
    from engine.training.data import read_rows, selected_rows

    if run_id:
        info = run(workspace.store, run_id)
        snapshot = Path(info["folder"]) / "train.jsonl" if info else None
        if snapshot is not None and snapshot.is_file():
            return f"run {run_id}", [r.question for r in read_rows(snapshot)]
        selection_id = info["selection_id"] if info else None
    else:
        selection_id = latest_selection_id(workspace.store, revision_id)
    if selection_id is None:
        return None, []
    _, rows = selected_rows(workspace.store, task, revision_id, ("train",), int(selection_id))
    return f"selection {selection_id}", [r.question for r in rows]


def benchmark_overlap(items: Sequence[Item], training: Sequence[str], n: int) -> int:
    """How many items share an `n`-word sequence with any training question (the decontamination test)."""
    from engine.stages.dedup import ngrams

    seen: set[tuple[str, ...]] = set()
    for question in training:
        seen |= ngrams(question, n)
    return sum(1 for item in items if ngrams(item.question, n) & seen)


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


def compare(workspace: Workspace, base_id: int, other_id: int) -> Comparison:
    """Fixed and broken items of two comparable evals (same benchmark, model and item count)."""
    from engine.queries import eval_comparison, eval_row

    store = workspace.store
    base, other = eval_row(store, base_id), eval_row(store, other_id)
    diff = eval_comparison(store, base_id, other_id)
    return Comparison(
        base_id,
        other_id,
        base["accuracy"],
        other["accuracy"],
        diff["n"],
        [(r["idx"], r["question"]) for r in diff["fixed"]],
        [(r["idx"], r["question"]) for r in diff["broken"]],
    )
