"""`sdrl export dataset|adapter|merged`: files that other tools load directly."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.common import workspace_from


@click.group("export")
def export_group() -> None:
    """Export the dataset, an adapter or a merged model."""


@export_group.command("dataset")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True
)
@click.option(
    "--split", type=click.Choice(["train", "val", "all"]), default="all", show_default=True
)
@click.pass_context
def export_dataset_cmd(ctx: click.Context, dest: Path | None, fmt: str, split: str) -> None:
    """Selected samples as prompt/answer rows with provenance (revision, origin, pass rate, agreement); DEST defaults to exports/."""
    from engine.export import export_dataset

    ws = workspace_from(ctx)
    splits = ("train", "val") if split == "all" else (split,)
    path, n = export_dataset(ws, dest or ws.root / "exports", fmt, splits)
    click.echo(f"wrote {n} rows to {path}")


@export_group.command("adapter")
@click.argument("run_id")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
@click.pass_context
def export_adapter_cmd(ctx: click.Context, run_id: str, dest: Path | None) -> None:
    """A run's LoRA adapter (PEFT folder)."""
    from engine.export import export_adapter

    click.echo(f"adapter written to {export_adapter(workspace_from(ctx), run_id, dest)}")


@export_group.command("merged")
@click.argument("run_id")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
@click.pass_context
def export_merged_cmd(ctx: click.Context, run_id: str, dest: Path | None) -> None:
    """Base model with the run's adapter merged in: an HF model folder transformers loads."""
    from engine.export import export_merged

    click.echo(f"merged model written to {export_merged(workspace_from(ctx), run_id, dest)}")
