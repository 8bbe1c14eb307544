"""Exports: dataset rows that `datasets` loads (jsonl and parquet, with provenance), the adapter, and a merged model."""

from __future__ import annotations

import pytest

from engine.errors import RunError
from engine.export import export_adapter, export_dataset, export_merged


def test_dataset_exports_load_with_datasets(tmp_path, sdrl) -> None:
    from datasets import load_dataset

    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw", items=5)
    jsonl, n = export_dataset(ws, tmp_path / "out" / "d.jsonl", "jsonl")
    parquet, m = export_dataset(ws, tmp_path / "out", "parquet", ("train",))
    assert (n, m) == (5, 4)
    for path, kind, rows in ((jsonl, "json", 5), (parquet, "parquet", 4)):
        data = load_dataset(kind, data_files=str(path), split="train")
        assert data.num_rows == rows
        assert {
            "prompt",
            "answer",
            "revision_id",
            "origin",
            "pass_rate",
            "agreement",
            "split",
        } <= set(data.column_names)
        assert (
            data[0]["prompt"].rstrip().endswith("Answer:")
            and data[0]["answer"] == "1"
            and data[0]["origin"] == "manual"
        )
    result = sdrl("-w", str(ws.root), "export", "dataset", "--format", "parquet", "--split", "val")
    assert result.returncode == 0 and "wrote 1 rows" in result.stdout
    assert (
        load_dataset(
            "parquet", data_files=str(next((ws.root / "exports").glob("*.parquet"))), split="train"
        ).num_rows
        == 1
    )
    ws.close()


def test_dataset_export_without_selection_fails(workspace, tmp_path) -> None:
    with pytest.raises(RunError, match="No selection"):
        export_dataset(workspace, tmp_path / "d.jsonl")
    assert not (tmp_path / "d.jsonl").exists()


@pytest.mark.slow
def test_adapter_and_merged_exports(tmp_path, sdrl) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from engine.tiny import tiny_model, tiny_workspace
    from tests.engine.test_eval import make_run

    ws = tiny_workspace(tmp_path / "tw")
    run_id = make_run(ws, str(tiny_model()))
    adapter = export_adapter(ws, run_id, tmp_path / "adapter")
    assert (adapter / "adapter_config.json").is_file() and (
        adapter / "adapter_model.safetensors"
    ).is_file()
    with pytest.raises(RunError, match="already exists"):
        export_adapter(ws, run_id, tmp_path / "adapter")
    result = sdrl("-w", str(ws.root), "export", "merged", run_id, str(tmp_path / "merged"))
    assert result.returncode == 0, result.stderr
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    base = AutoModelForCausalLM.from_pretrained(tiny_model())
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(
        merged.state_dict()[name], base.state_dict()[name]
    )  # the adapter is merged in
    assert not any("lora" in k for k in merged.state_dict())
    with pytest.raises(RunError, match="already exists"):
        export_merged(ws, run_id, tmp_path / "merged")
    ws.close()
