"""The training process: `python -m engine.training.worker WORKSPACE RUN_ID` trains one run (or resumes it) and records everything."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from engine.answers import task_checker
from engine.backends.solver import PLAIN_STOP
from engine.config import TaskDefinition
from engine.errors import DiskFullError, RunError, SdrlError, disk_full_from
from engine.events import (
    EventLog,
    ItemDone,
    ModelLoading,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.prompting import solve_messages
from engine.store import Store
from engine.training.configs import (
    adapter_digest,
    build_configs,
    has_gpu,
    is_main_process,
    tracker_environment,
    trainer_options,
)
from engine.training.data import read_rows
from engine.training.rewards import reward_funcs
from engine.training.run_folder import (
    checkpoint_step,
    forget_steps_after,
    latest_checkpoint,
    remove_incomplete_checkpoints,
    run_folder_intact,
)


def allow_indexed_cpu_locations() -> None:
    """Resuming a multi-process CPU run loads the optimizer state with map_location=torch.device("cpu", rank)
    (transformers' Trainer maps to `args.device` whenever world_size > 1), a location torch.load does not know.
    Teach it that "cpu:N" is the CPU."""
    import torch

    torch.serialization.register_package(
        30, lambda obj: None, lambda obj, location: obj if location.startswith("cpu:") else None
    )


def load_policy(model_spec: str, gpu: bool) -> tuple[Any, Any]:
    """The base model (plain float weights) and its tokenizer, from a bundled name, GGUF or HF folder."""
    import torch
    from transformers import AutoModelForCausalLM

    from engine.backends.gguf_tokenizer import load_tokenizer  # repairs the Gemma GGUF vocabulary
    from engine.models import clear_quantized_flags, hf_folder, resolve_model

    ref = resolve_model(model_spec)
    model = AutoModelForCausalLM.from_pretrained(
        hf_folder(ref), dtype=torch.bfloat16 if gpu else torch.float32
    )
    clear_quantized_flags(model)
    return model, load_tokenizer(ref)  # left padding and a pad token, as TRL's generation wants


def build_trainer(
    task: TaskDefinition,
    model_spec: str,
    rows: list[dict[str, Any]],
    output_dir: Path,
    callbacks: list[Any],
) -> Any:
    """A GRPOTrainer over `rows` (prompt + answer columns) with our rewards, LoRA and config."""
    from datasets import Dataset
    from trl import GRPOTrainer

    gpu = has_gpu()
    grpo, lora = build_configs(task.training, output_dir, gpu=gpu)
    model, tokenizer = load_policy(model_spec, gpu)
    chat = task.models.prompt_format == "chat"
    dataset = Dataset.from_list(
        [
            {
                "prompt": solve_messages(task, r["question"]) if chat else r["prompt"],
                "answer": r["answer"],
                "sample_id": r["sample_id"],
            }
            for r in rows
        ]
    )
    rewards = reward_funcs(task_checker(task), task.training, stop=() if chat else PLAIN_STOP)
    return GRPOTrainer(
        **trainer_options(model, list[Any](rewards), grpo, dataset, tokenizer, lora, callbacks)
    )


class _NullLog:
    """The event log of ranks other than 0 in a multi-process launch: they write nothing."""

    def append(self, event: Any) -> None:
        return None


def _set_status(store: Store, run_id: str, status: str, message: str = "", **extra: Any) -> None:
    if not is_main_process():
        return  # in a multi-process launch only rank 0 keeps the books
    sets = ", ".join(f"{k}=?" for k in extra)
    with store.transaction() as conn:
        conn.execute(
            f"UPDATE runs SET status=?, message=?, updated_at=?{', ' + sets if sets else ''} WHERE id=?",
            (status, message, time.time(), *extra.values(), run_id),
        )


def _forget_unsaved_steps(store: Any, run_id: str, run_dir: Path, step: int) -> None:
    """Resuming from the checkpoint at `step`: what later steps logged before a kill is logged again,
    so it goes now (events, samples, metrics), and no step appears twice."""
    forget_steps_after(run_dir, step)
    with store.transaction() as conn:
        conn.execute("DELETE FROM run_metrics WHERE run_id=? AND step>?", (run_id, step))
        conn.execute("UPDATE runs SET step=MIN(step, ?) WHERE id=?", (step, run_id))


def train_run(workspace_root: Path, run_id: str) -> int:
    """Train (or resume) one run; returns the process exit code. The runs row tells the outcome."""
    from transformers import set_seed

    from engine.queries import run
    from engine.training.callbacks import RunCallback
    from engine.workspace import Workspace

    store = Workspace(Path(workspace_root)).store
    row = run(store, run_id)
    if row is None:
        print(f"run {run_id} not found in {workspace_root}", file=sys.stderr)
        return 2
    run_dir = Path(row["folder"])
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log = EventLog(run_dir / "events.jsonl") if is_main_process() else _NullLog()
    _set_status(store, run_id, "running", pid=os.getpid())
    callback = None
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        task = TaskDefinition.model_validate(config["task"])
        rows = [r.to_dict() for r in read_rows(run_dir / "train.jsonl")]
        set_seed(task.training.seed)
        os.environ.update(tracker_environment(task.training, run_dir, run_id))
        callback = RunCallback(
            store,
            run_id,
            run_dir,
            log,
            completions_per_step=task.training.group_size * task.training.prompts_per_step,
            sample_every=task.training.sample_every,
            should_stop=lambda: stop.is_set() or (run_dir / "stop").exists(),
        )
        log.append(ModelLoading("train", model=config["base_model"]))  # followers say "loading …"
        trainer = build_trainer(
            task, config["base_model"], rows, run_dir / "checkpoints", [callback]
        )
        callback.trainer = trainer
        checkpoint = latest_checkpoint(run_dir)
        if is_main_process():
            remove_incomplete_checkpoints(run_dir)  # a save cut short by a kill: only holds space
            _forget_unsaved_steps(store, run_id, run_dir, checkpoint_step(checkpoint))
        if checkpoint and trainer.args.world_size > 1 and not has_gpu():
            allow_indexed_cpu_locations()
        log.append(
            StageStarted(
                "train",
                total=trainer.args.max_steps
                if trainer.args.max_steps > 0
                else config.get("total_steps"),
                detail={"run_id": run_id, "resumed_from": checkpoint.name if checkpoint else None},
            )
        )
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        step = int(trainer.state.global_step)
        if callback.folder_lost or not run_folder_intact(run_dir):
            raise RunError(
                f"The run folder {run_dir} was deleted while run {run_id} was training",
                "metrics up to the last step are in the workspace database; start a new run with `sdrl train`",
            )
        trainer.save_model(str(run_dir / "adapter"))
        _record_ranks_agree(trainer, log)
        status = "stopped" if callback.stopped else "finished"
        _say_outcome(status, step)
        (run_dir / "stop").unlink(missing_ok=True)
        _set_status(
            store,
            run_id,
            status,
            "stopped on request; `sdrl runs resume` continues" if callback.stopped else "",
            step=step,
        )
        log.append(
            StageFinished(
                "train", counts={"status": status, "step": step}, stopped=callback.stopped
            )
        )
        return 0
    except DiskFullError as exc:
        _disk_full(store, run_id, run_dir, log, exc)
        return exc.exit_code
    except SdrlError as exc:
        _fail(store, run_id, run_dir, log, exc.title, exc.hint)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the worker must record any failure in the store before it dies
        full = disk_full_from(exc, run_dir)
        if full is not None:  # a save cut short by a full disk (checkpoint, adapter or log)
            _disk_full(store, run_id, run_dir, log, full)
            return full.exit_code
        traceback.print_exc()
        _fail(
            store,
            run_id,
            run_dir,
            log,
            f"{type(exc).__name__}: {exc}",
            f"see {run_dir / 'train.log'}; fix the cause and `sdrl runs resume {run_id}`",
        )
        return 1


def _say_outcome(status: str, step: int) -> None:
    """`rank R: STATUS at step S` in train.log, one write of a whole line (the ranks share the file)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, f"rank {os.environ.get('RANK', '0')}: {status} at step {step}\n".encode())


def _record_ranks_agree(trainer: Any, log: Any) -> None:
    """Every rank's adapter digest, gathered to rank 0 and logged: after DDP they must be equal."""
    import torch

    accelerator = trainer.accelerator
    mine = torch.tensor(
        [adapter_digest(trainer.model)], dtype=torch.float64, device=accelerator.device
    )
    digests = [float(d) for d in accelerator.gather(mine).tolist()]
    log.append(
        ItemDone("train", item_id="adapter", detail={"kind": "adapter", "rank_digests": digests})
    )
    if max(digests) - min(digests) > 1e-6 * max(1.0, abs(digests[0])):
        log.append(
            StageWarning(
                "train",
                message=f"the ranks' adapters differ after training (digests {digests})",
                hint="report this: DDP should keep the LoRA weights equal on every rank",
            )
        )


def _disk_full(store: Store, run_id: str, run_dir: Path, log: Any, exc: DiskFullError) -> None:
    """A full disk: drop the checkpoint it cut short (resume ignores it; it only holds space), then
    fail the run with the resume command, which continues from the last complete checkpoint."""
    remove_incomplete_checkpoints(run_dir)
    last = latest_checkpoint(run_dir)
    title = DiskFullError(exc.path, exc.needed_mb).title  # free space measured after the clean-up
    where = f"step {checkpoint_step(last)}" if last else "the start"
    # if the log (or the store) cannot grow either, the worker dies and a dead worker reads as failed
    with contextlib.suppress(OSError, SdrlError):
        _fail(
            store,
            run_id,
            run_dir,
            log,
            title,
            f"free some space on that disk, then `sdrl runs resume {run_id}` continues from {where}",
        )


def _fail(store: Store, run_id: str, run_dir: Path, log: Any, title: str, hint: str) -> None:
    _set_status(store, run_id, "failed", f"{title}\n  fix: {hint}" if hint else title)
    if run_folder_intact(run_dir):
        log.append(StageWarning("train", message=title, hint=hint))
        log.append(StageFinished("train", counts={"status": "failed"}, stopped=True))


if __name__ == "__main__":
    sys.exit(train_run(Path(sys.argv[1]), sys.argv[2]))
