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
    result = sdrl("-w", str(workspace.root), "eval", "--benchmark", str(path))
    assert result.returncode == 2 and "has no field" in result.stderr and "fix:" in result.stderr
    assert workspace.store.scalar("SELECT COUNT(*) FROM evals") == 0
    unknown = sdrl("-w", str(workspace.root), "eval", "--benchmark", "gsm9k")
    assert unknown.returncode == 2 and "No benchmark 'gsm9k'" in unknown.stderr
    assert "fix: use a built-in (gsm8k)" in unknown.stderr


def test_compare_lists_fixed_and_broken(workspace) -> None:
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
    cmp = compare(workspace, 1, 2)
    assert cmp.fixed == [(1, "q1")] and cmp.broken == [(0, "q0")] and cmp.n == 3


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
    again = sdrl("-w", str(workspace.root), "eval", "--compare")
    assert again.returncode == 0 and f"adapter eval #{rows[1]['id']}" in again.stdout
