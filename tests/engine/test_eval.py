"""Evaluation: benchmark parsing (GSM8K gold after ####, --map, missing fields), comparison, adapters, and a real Gemma run."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from engine.answers import NumericChecker
from engine.benchmarks import builtin_benchmarks, resolve_benchmark
from engine.errors import RunError
from engine.evaluate import compare, load_benchmark, parse_mapping


def make_run(ws, base_spec: str, lora_init: bool = False) -> str:
    """A finished run row whose folder holds a real (random) LoRA adapter for `base_spec`."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from engine.models import clear_quantized_flags, hf_folder, resolve_model

    run_id = "20260101-000000-" + str(abs(hash(base_spec)) % 10000).zfill(4)
    folder = ws.runs_dir / run_id
    model = AutoModelForCausalLM.from_pretrained(hf_folder(resolve_model(base_spec)))
    clear_quantized_flags(model)
    peft = get_peft_model(
        model,
        LoraConfig(
            r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=lora_init
        ),
    )
    peft.save_pretrained(folder / "adapter")
    now = time.time()
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, folder, config, base_model) "
            "VALUES (?, 'train', 'finished', ?, ?, ?, '{}', ?)",
            (run_id, now, now, str(folder), base_spec),
        )
    return run_id


def test_gsm8k_gold_is_the_number_after_hashes() -> None:
    items = load_benchmark("gsm8k", NumericChecker(), limit=5)
    assert len(items) == 5
    assert items[0].gold == "18" and items[0].question.startswith("Janet")
    assert all("####" not in it.gold for it in items)


def test_gsm8k_ships_whole_with_its_license_and_source() -> None:
    name, path = resolve_benchmark("gsm8k")
    assert name == "gsm8k" and path == builtin_benchmarks()["gsm8k"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"
    assert len(load_benchmark(path, NumericChecker())) == 1319
    assert "Copyright (c) 2021 OpenAI" in (path.parent / "LICENSE").read_text()
    assert "openai/grade-school-math" in (path.parent / "SOURCE.md").read_text()


def test_benchmark_is_a_builtin_name_or_a_file(tmp_path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    assert resolve_benchmark(path) == (str(path.resolve()), path)
    assert [i.gold for i in load_benchmark(str(path), NumericChecker())] == ["2"]
    with pytest.raises(RunError) as info:
        load_benchmark("gsm9k", NumericChecker())
    assert "'gsm9k'" in info.value.title and "gsm8k" in info.value.hint


def test_mapping_and_plain_gold(tmp_path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(
        json.dumps({"problem": "2+2?", "solution": "4"})
        + "\n"
        + json.dumps({"problem": "1+1?", "solution": "#### 2"})
        + "\n"
    )
    items = load_benchmark(
        path, NumericChecker(), parse_mapping("question=problem,answer=solution")
    )
    assert [(i.question, i.gold) for i in items] == [("2+2?", "4"), ("1+1?", "2")]
    with pytest.raises(RunError, match="--map"):
        parse_mapping("quest=problem")


def test_missing_fields_name_the_line_and_fields(tmp_path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(
        json.dumps({"question": "a", "answer": "1"})
        + "\n"
        + json.dumps({"question": "b", "label": "2"})
        + "\n"
    )
    with pytest.raises(RunError) as info:
        load_benchmark(path, NumericChecker())
    assert (
        "line 2" in info.value.title
        and "answer" in info.value.title
        and "label" in info.value.title
    )
    assert "--map" in info.value.hint


def test_cli_missing_fields_exit_2(workspace, sdrl, tmp_path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"q": "a"}) + "\n")
    result = sdrl("-w", str(workspace.root), "eval", "run", "--benchmark", str(path))
    assert result.returncode == 2 and "has no field" in result.stderr and "fix:" in result.stderr
    assert workspace.store.scalar("SELECT COUNT(*) FROM evals") == 0
    unknown = sdrl("-w", str(workspace.root), "eval", "run", "--benchmark", "gsm9k")
    assert unknown.returncode == 2 and "No benchmark 'gsm9k'" in unknown.stderr
    assert "fix: use a built-in (gsm8k)" in unknown.stderr


def _two_stored_evals(workspace) -> None:
    now = time.time()
    with workspace.store.transaction() as conn:
        for eval_id, adapter, correct in ((1, None, [1, 0, 0]), (2, "a", [0, 1, 0])):
            conn.execute(
                "INSERT INTO evals VALUES (?, NULL, 'b', 'm', ?, 3, ?, ?, ?)",
                (eval_id, adapter, sum(correct), sum(correct) / 3, now),
            )
            conn.executemany(
                "INSERT INTO eval_items VALUES (?,?,?,?,?,?,?)",
                [(eval_id, i, f"q{i}", "1", "", None, c) for i, c in enumerate(correct)],
            )


def test_compare_lists_fixed_and_broken(workspace) -> None:
    _two_stored_evals(workspace)
    cmp = compare(workspace, 1, 2)
    assert cmp.fixed == [(1, "q1")] and cmp.broken == [(0, "q0")] and cmp.n == 3


def test_eval_subcommands_and_the_old_flag_forms_agree(workspace, sdrl) -> None:
    _two_stored_evals(workspace)
    ws = ("-w", str(workspace.root))
    listed = sdrl(*ws, "eval", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith("#1  base") and "#2  adapter" in listed.stdout
    assert sdrl(*ws, "eval", "--list").stdout == listed.stdout
    compared = sdrl(*ws, "eval", "compare", "1", "2")
    assert compared.returncode == 0, compared.stderr
    assert "fixed (1):\n  [1] q1\nbroken (1):\n  [0] q0" in compared.stdout
    assert sdrl(*ws, "eval", "compare").stdout == compared.stdout  # the latest pair
    assert sdrl(*ws, "eval", "--compare", "--ids", "1", "2").stdout == compared.stdout
    assert sdrl(*ws, "eval", "--compare").stdout == compared.stdout
    neither = sdrl(*ws, "eval", "run")
    assert (
        neither.returncode == 2
        and "exactly one of --benchmark FILE or --split val" in neither.stderr
    )
    old_form = sdrl(*ws, "eval", "--benchmark", "gsm9k")  # maps to `eval run --benchmark gsm9k`
    assert old_form.returncode == 2 and "No benchmark 'gsm9k'" in old_form.stderr


@pytest.mark.slow
def test_adapter_from_another_base_is_refused(workspace, sdrl) -> None:
    from engine.tiny import tiny_model

    run_id = make_run(workspace, str(tiny_model()))
    path = Path(workspace.root) / "b.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    result = sdrl(
        "-w",
        str(workspace.root),
        "eval",
        "run",
        "--benchmark",
        str(path),
        "--run",
        run_id,
        "--model",
        "gemma3-270m",
        "--no-base",
    )
    assert result.returncode == 2, result.stderr
    assert "was trained on" in result.stderr and "fix:" in result.stderr


@pytest.mark.slow
def test_gsm8k_ten_items_base_and_adapter_with_gemma(workspace, sdrl) -> None:
    run_id = make_run(workspace, "gemma3-270m")
    result = sdrl(
        "-w",
        str(workspace.root),
        "eval",
        "run",
        "--benchmark",
        "gsm8k",
        "--limit",
        "10",
        "--max-tokens",
        "6",
        "--run",
        run_id,
    )
    assert result.returncode == 0, result.stderr
    assert "base:" in result.stdout and "adapter:" in result.stdout and "fixed (" in result.stdout
    rows = workspace.store.query("SELECT * FROM evals ORDER BY id")
    assert [(r["adapter"] is None, r["n"], r["run_id"], r["benchmark"]) for r in rows] == [
        (True, 10, run_id, "gsm8k"),
        (False, 10, run_id, "gsm8k"),
    ]
    items = workspace.store.query(
        "SELECT * FROM eval_items WHERE eval_id=? ORDER BY idx", (rows[0]["id"],)
    )
    assert len(items) == 10 and items[0]["gold"] == "18"
    assert all(i["prediction"] is not None for i in items)
    again = sdrl("-w", str(workspace.root), "eval", "compare")
    assert again.returncode == 0 and f"adapter eval #{rows[1]['id']}" in again.stdout


def _record_run(ws, run_id: str, selection_id: int, folder: Path) -> None:
    """A finished run row that records the selection it was trained from (what start_run writes)."""
    now = time.time()
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, folder, config, selection_id, base_model) "
            "VALUES (?, 'train', 'finished', ?, ?, ?, '{}', ?, 'm')",
            (run_id, now, now, str(folder), selection_id),
        )


def test_val_split_of_a_run_is_the_selection_it_was_trained_from(workspace, tmp_path) -> None:
    from engine.evaluate import Item, val_items
    from engine.training.data import insert_selection

    revision, task = workspace.current_revision()
    trained = insert_selection(
        workspace.store,
        revision.id,
        [("Alpha: 1 + 1?", "2", 0.5, "train"), ("Beta: 2 + 2?", "4", 0.5, "val")],
    )
    _record_run(workspace, "run-a", trained, tmp_path / "run-a")
    alpha, beta = [r[0] for r in workspace.store.query("SELECT id FROM samples ORDER BY id")]
    with workspace.store.transaction() as conn:  # a re-select after training swaps the splits
        reselected = conn.execute(
            "INSERT INTO selections(revision_id, rule, params, created_at) VALUES (?, 'band', '{}', ?)",
            (revision.id, time.time()),
        ).lastrowid
        conn.executemany(
            "INSERT INTO selection_items(selection_id, sample_id, split, pass_rate) VALUES (?,?,?,0.5)",
            [(reselected, alpha, "val"), (reselected, beta, "train")],
        )
    name, items = val_items(workspace, task, revision.id, "run-a")
    assert name == f"val:selection-{trained}" and items == [Item("Beta: 2 + 2?", "4")]
    assert val_items(workspace, task, revision.id)[1] == [Item("Alpha: 1 + 1?", "2")]


def test_overlap_between_a_benchmark_and_the_runs_training_set(workspace, tmp_path) -> None:
    from engine.evaluate import Item, benchmark_overlap, training_questions
    from engine.training.data import insert_selection, selected_rows, write_rows

    revision, task = workspace.current_revision()
    question = "Janet's ducks lay 16 eggs per day and she eats three for breakfast every morning."
    selection = insert_selection(
        workspace.store, revision.id, [(question, "9", 0.5, "train"), ("Other?", "1", 0.5, "val")]
    )
    folder = tmp_path / "run-b"
    folder.mkdir()
    write_rows(folder / "train.jsonl", selected_rows(workspace.store, task, revision.id)[1])
    _record_run(workspace, "run-b", selection, folder)
    source, questions = training_questions(workspace, task, revision.id, "run-b")
    assert source == "run run-b" and questions == [question]
    items = [Item(question.upper(), "9"), Item("How many legs does a spider have?", "8")]
    assert benchmark_overlap(items, questions, 13) == 1
    assert benchmark_overlap(items[1:], questions, 13) == 0


@pytest.mark.slow
def test_cli_eval_warns_when_the_benchmark_overlaps_the_training_set(workspace, sdrl) -> None:
    from engine.training.data import insert_selection

    revision, _ = workspace.current_revision()
    question = "Janet's ducks lay 16 eggs per day and she eats three for breakfast every morning."
    insert_selection(workspace.store, revision.id, [(question, "9", 0.5, "train")])
    path = Path(workspace.root) / "b.jsonl"
    path.write_text(
        json.dumps({"question": question, "answer": "#### 9"})
        + "\n"
        + json.dumps({"question": "How many legs does a spider have?", "answer": "#### 8"})
        + "\n"
    )
    result = sdrl(
        "-w", str(workspace.root), "eval", "run", "--benchmark", str(path), "--max-tokens", "4"
    )
    assert result.returncode == 0, result.stderr
    assert "overlap: 1 of 2 items share a 13-word sequence" in result.stdout
    assert "warning: 1 evaluated item overlap the training set" in result.stderr


def _add_eval(ws, adapter: str | None, n: int, benchmark: str = "bench") -> int:
    with ws.store.transaction() as conn:
        eval_id = conn.execute(
            "INSERT INTO evals(run_id, benchmark, model, adapter, n, correct, accuracy, created_at) VALUES (NULL,?,'m',?,?,0,0,?)",
            (benchmark, adapter, n, time.time()),
        ).lastrowid
        conn.executemany(
            "INSERT INTO eval_items VALUES (?,?,?,?,?,?,?)",
            [(eval_id, i, f"q{i}", "1", "", None, 0) for i in range(n)],
        )
    return int(eval_id or 0)


def test_evals_of_different_item_counts_are_never_paired(workspace) -> None:
    from engine.queries import eval_pairs, latest_pair

    base = _add_eval(workspace, None, 10)
    adapter = _add_eval(workspace, "runs/x/adapter", 100)
    pairs = eval_pairs(workspace.store)
    assert [
        (p["n"], p["base"] and p["base"]["id"], p["trained"] and p["trained"]["id"]) for p in pairs
    ] == [
        (10, base, None),
        (100, None, adapter),
    ]
    with pytest.raises(RunError, match="No base-model evaluation of bench with 100 items"):
        latest_pair(workspace.store)
    with pytest.raises(RunError, match="not comparable"):
        compare(workspace, base, adapter)
    other_benchmark = _add_eval(workspace, None, 100, "another")
    with pytest.raises(RunError, match="not comparable"):
        compare(workspace, other_benchmark, adapter)
    same = _add_eval(workspace, None, 100)
    assert latest_pair(workspace.store) == (same, adapter)
