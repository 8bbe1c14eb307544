"""A TrainerCallback that turns TRL's per-step logs into run_metrics rows, Metric events, sampled completions and stop checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from engine.events import Event, ItemDone, Metric, Progress
from engine.store import Store
from engine.training.configs import is_main_process
from engine.training.run_folder import checkpoint_space_needed, run_folder_intact

# TRL log key -> our metric name
METRIC_NAMES = {
    "reward": "reward_mean",
    "reward_std": "reward_std",
    "kl": "kl",
    "loss": "loss",
    "completions/mean_length": "completion_length",
    "frac_reward_zero_std": "zero_std_share",
    "learning_rate": "learning_rate",
    "entropy": "entropy",
    "grad_norm": "grad_norm",
}
SAMPLES_PER_LOG = 3


class RunCallback(TrainerCallback):  # type: ignore[misc]
    """Writes every logged step to the store and the event log; asks the trainer to stop (with a checkpoint) when told."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        run_dir: Path,
        log: Any,
        *,
        completions_per_step: int,
        sample_every: int,
        should_stop: Callable[[], bool],
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.log = log
        self.completions_per_step = completions_per_step
        self.sample_every = sample_every
        self.should_stop = should_stop
        self.trainer: Any = None
        self.folder_lost = False
        self.stopped = False
        self._step_started = time.perf_counter()
        self._step_time = 0.0
        self._last_logged = -1
        self.main = is_main_process()
        self._needed = 0

    # -- helpers ---------------------------------------------------------------
    def emit(self, event: Event) -> None:
        if not self.main:
            return
        if self.folder_lost or not run_folder_intact(self.run_dir):
            self.folder_lost = True
            return
        self.log.append(event)

    def _total(self, state: Any) -> int:
        return int(state.max_steps or 0)

    # -- trainer hooks -----------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self.main:
            return
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE runs SET total_steps=?, updated_at=? WHERE id=?",
                (self._total(state), time.time(), self.run_id),
            )

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_started = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_time = time.perf_counter() - self._step_started
        wanted = self.should_stop()
        lost, stop, full = self._decide_everywhere(
            not run_folder_intact(self.run_dir),
            wanted,
            self._disk_short(control.should_save or wanted),
        )
        if full:  # every rank raises at the same step, so none waits on the others
            raise self._full_error()
        if lost:
            self.folder_lost = True
            control.should_training_stop = True
            control.should_save = False
        elif stop:
            self.stopped = True
            control.should_save = (
                True  # a checkpoint at the stop step, so resume continues exactly here
            )
            control.should_training_stop = True

    def _disk_short(self, saving: bool) -> bool:
        """A checkpoint is due (or a stop will save one) and the disk lacks room for it: refuse before
        writing, so no checkpoint is left half-written and the last complete one stays the resume point."""
        if not saving or not self.main:
            return False
        needed = checkpoint_space_needed(self.run_dir)
        if needed is None:
            return False
        import shutil

        try:
            free = shutil.disk_usage(self.run_dir).free
        except OSError:
            return False
        self._needed = needed
        return free < needed

    def _full_error(self) -> Exception:
        from engine.errors import DiskFullError

        return DiskFullError(self.run_dir / "checkpoints", self._needed / 2**20)

    def _decide_everywhere(self, *wanted: bool) -> list[bool]:
        """Every process must stop at the same step (DDP would hang otherwise): each flag is true on every
        rank when it is true on any rank, so all ranks take the same branch."""
        accelerator = getattr(self.trainer, "accelerator", None)
        if accelerator is None or accelerator.num_processes <= 1:
            return list(wanted)
        import torch

        flags = torch.tensor([1.0 if w else 0.0 for w in wanted], device=accelerator.device)
        return [bool(v > 0) for v in accelerator.reduce(flags, reduction="sum").tolist()]

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.emit(
            ItemDone(
                "train",
                item_id=f"checkpoint-{state.global_step}",
                detail={"kind": "checkpoint", "step": state.global_step},
            )
        )

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        logs = logs or {}
        step = int(state.global_step)
        if not self.main or "reward" not in logs or step == self._last_logged:
            return  # the end-of-training summary, not a step
        self._last_logged = step
        values = {
            ours: float(logs[theirs])
            for theirs, ours in METRIC_NAMES.items()
            if logs.get(theirs) is not None
        }
        for key, value in logs.items():
            if key.startswith("rewards/") and key.endswith("/mean") and value is not None:
                values["reward/" + key.split("/")[1]] = float(value)
        values["step_time"] = self._step_time
        if self._step_time > 0 and "completion_length" in values:
            values["tokens_per_s"] = (
                values["completion_length"] * self.completions_per_step / self._step_time
            )
        now = time.time()
        if self.run_dir.is_dir():
            with self.store.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO run_metrics(run_id, step, name, value, ts) VALUES (?,?,?,?,?)",
                    [(self.run_id, step, name, value, now) for name, value in values.items()],
                )
                conn.execute(
                    "UPDATE runs SET step=?, updated_at=? WHERE id=?", (step, now, self.run_id)
                )
        for name, value in values.items():
            self.emit(Metric("train", name=name, value=value, step=step))
        self.emit(Progress("train", done=step, total=self._total(state), unit="steps"))
        if step % self.sample_every == 0 or step == 1:
            self._log_samples(step)

    def _log_samples(self, step: int) -> None:
        logs = getattr(self.trainer, "_logs", None)
        if not logs or not logs.get("completion"):
            return
        completions = list(logs["completion"])[-SAMPLES_PER_LOG:]
        prompts = list(logs["prompt"])[-SAMPLES_PER_LOG:]
        rewards = {
            name: list(vals)[-SAMPLES_PER_LOG:] for name, vals in logs.get("rewards", {}).items()
        }
        records = []
        for i, completion in enumerate(completions):
            reward = {name: vals[i] for name, vals in rewards.items() if i < len(vals)}
            records.append(
                {
                    "step": step,
                    "prompt": str(prompts[i])[-300:],
                    "completion": str(completion),
                    "rewards": reward,
                }
            )
        if self.run_dir.is_dir():
            with open(self.run_dir / "samples.jsonl", "a", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False, default=float) + "\n")
        for i, record in enumerate(records):
            self.emit(
                ItemDone("train", item_id=f"step{step}-{i}", detail={"kind": "sample", **record})
            )
