"""The `sdrl` entry point: a lazy command group (so `--help` never imports torch) and the one error handler."""

from __future__ import annotations

import importlib
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from engine.errors import SdrlError, disk_full_from
from engine.store import discard_unused_revisions
from engine.text import visible

# name -> (module:attribute, one-line help). Modules load only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("engine.cli.basic:init_cmd", "Create a workspace from a template."),
    "status": ("engine.cli.basic:status_cmd", "Counts per stage and the latest run."),
    "doctor": (
        "engine.cli.doctor:doctor_cmd",
        "Check models, llama.cpp, torch, GPU/vLLM and disk space.",
    ),
    "task": (
        "engine.cli.task:task_group",
        "Show, edit, save, list and diff task definition revisions.",
    ),
    "corpus": ("engine.cli.corpus:corpus_group", "Add documents to the corpus and search it."),
    "preview": (
        "engine.cli.synthesis:preview_cmd",
        "Stream a few generated questions to the terminal.",
    ),
    "generate": ("engine.cli.synthesis:generate_cmd", "Generate and label samples (stages 1-5)."),
    "label": ("engine.cli.synthesis:label_cmd", "Label pending samples by majority vote."),
    "samples": ("engine.cli.samples:samples_group", "List, show and curate samples."),
    "probe": (
        "engine.cli.pipeline:probe_cmd",
        "Answer each sample once with the base model (greedy).",
    ),
    "adapt": ("engine.cli.pipeline:adapt_cmd", "Write harder/easier rewrites of probed samples."),
    "score": (
        "engine.cli.pipeline:score_cmd",
        "Sample k answers per sample with the base model; pass rates.",
    ),
    "select": ("engine.cli.pipeline:select_cmd", "Select the training samples by pass rate."),
    "stats": (
        "engine.cli.pipeline:stats_cmd",
        "Pass-rate histograms, adaptation and selection stats.",
    ),
    "run": (
        "engine.cli.pipeline:run_cmd",
        "Run the whole pipeline from generation through selection.",
    ),
    "train": ("engine.cli.train:train_cmd", "Train a LoRA adapter with GRPO on the selection."),
    "runs": ("engine.cli.train:runs_group", "List, show, stop and resume training runs."),
    "jobs": (
        "engine.cli.jobs:jobs_group",
        "List, show, stop, resume jobs (stages running on their own) and read their logs.",
    ),
    "attach": (
        "engine.cli.jobs:attach_cmd",
        "Follow a job or training run live from any terminal.",
    ),
    "eval": (
        "engine.cli.evaluate:eval_group",
        "Evaluate base and adapter on a benchmark (run), list, compare.",
    ),
    "instructor": (
        "engine.cli.instructor:instructor_group",
        "Check the instructor: label accuracy vs gold by agreement.",
    ),
    "export": (
        "engine.cli.export:export_group",
        "Export the dataset, an adapter or a merged model.",
    ),
}


class CommandLoadError(SdrlError):
    """A command's module failed to import: a bug or a broken install, never bad input."""

    exit_code = 1


def load_command(name: str) -> click.Command:
    """Import the module of command `name`; a failure is reported with its traceback, never hidden."""
    module_name, _, attr = COMMANDS[name][0].partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # noqa: BLE001 - any failure while importing is shown, then named
        traceback.print_exc()
        raise CommandLoadError(
            f"the `{name}` command could not be loaded: importing {module_name} failed with "
            f"{type(exc).__name__}: {exc}",
            "the traceback above shows where; if a package is missing, run `./dev setup` again",
        ) from exc


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=str),
    envvar="SDRL_WORKSPACE",
    default=None,
    help="Workspace folder (default: the current directory).",
)
@click.version_option(package_name="sdrl-studio", prog_name="sdrl")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None) -> None:
    """sdrl: adapt a language model to a task from its definition (Synthetic Data RL), headless."""
    ctx.obj = {"workspace": workspace}


def main(argv: list[str] | None = None) -> Any:
    try:
        try:
            return cli.main(args=argv, prog_name="sdrl", standalone_mode=False)
        except (OSError, sqlite3.OperationalError) as exc:
            full = disk_full_from(exc, Path.cwd())
            if full is None:
                raise
            raise full from exc
    except SdrlError as exc:
        discard_unused_revisions()
        click.secho(f"error: {visible(exc.title)}", fg="red", err=True)
        if exc.hint:
            click.echo(f"  fix: {visible(exc.hint)}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(
            "interrupted; progress so far is saved, run the command again to resume", err=True
        )
        sys.exit(130)


if __name__ == "__main__":
    main()
