"""Exports: the selected dataset (jsonl/parquet rows TRL and `datasets` read directly), a run's adapter, a merged HF model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.errors import RunError
from engine.workspace import Workspace

FORMATS = ("jsonl", "parquet")


def export_dataset(
    workspace: Workspace, dest: Path, fmt: str = "jsonl", splits: tuple[str, ...] = ("train", "val")
) -> tuple[Path, int]:
    """Rows with `prompt`, `answer` (the gold label), `question` and provenance: revision, origin, pass rate, agreement, split."""
    from engine.training.data import selected_rows

    if fmt not in FORMATS:
        raise RunError(f"Unknown export format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    revision, task = workspace.current_revision()
    selection_id, rows = selected_rows(workspace.store, task, revision.id, splits)
    if not rows:
        raise RunError(
            "The selection holds no labelled samples to export",
            "select samples first (`sdrl select`)",
        )
    records = [{**r.to_dict(), "selection_id": selection_id} for r in rows]
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:
        dest = dest / f"dataset-rev{revision.id}.{fmt}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    if fmt == "jsonl":
        with open(partial, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), partial)
    partial.replace(dest)
    return dest, len(records)


def _adapter_of(workspace: Workspace, run_id: str) -> tuple[Path, str, str]:
    from engine.runs import get_run

    info = get_run(workspace.store, run_id)
    if not (info.adapter / "adapter_config.json").is_file():
        raise RunError(
            f"Run {info.id} has no final adapter (status {info.status})",
            f"let it finish, or `sdrl runs resume {info.id}`",
        )
    return info.adapter, info.id, info.base_model


def export_adapter(workspace: Workspace, run_id: str, dest: Path | None = None) -> Path:
    """Copy a run's LoRA adapter folder (PEFT format: adapter_config.json + adapter_model.safetensors)."""
    adapter, rid, _ = _adapter_of(workspace, run_id)
    target = Path(dest) if dest else workspace.root / "exports" / f"adapter-{rid}"
    if target.exists():
        raise RunError(f"{target} already exists", "choose another destination or remove it")
    shutil.copytree(adapter, target)
    return target


def export_merged(workspace: Workspace, run_id: str, dest: Path | None = None) -> Path:
    """Base model + adapter merged into one HF model folder that `AutoModelForCausalLM.from_pretrained` loads."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from engine.backends.gguf_tokenizer import load_tokenizer
    from engine.evaluate import check_adapter_base
    from engine.models import clear_quantized_flags, hf_folder, resolve_model

    adapter, rid, base = _adapter_of(workspace, run_id)
    target = Path(dest) if dest else workspace.root / "exports" / f"merged-{rid}"
    if target.exists():
        raise RunError(f"{target} already exists", "choose another destination or remove it")
    ref = resolve_model(base)
    folder = hf_folder(ref)
    check_adapter_base(adapter, folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    clear_quantized_flags(model)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    merged.save_pretrained(staging)
    tokenizer = load_tokenizer(ref)
    tokenizer.padding_side = "right"
    tokenizer.save_pretrained(staging)
    staging.rename(target)
    return target
