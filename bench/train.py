"""GRPO step time through our runner (trainer built by engine.training + our metrics callback) vs a bare TRL script, same model and config."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class StepTimer:
    """Times every optimizer step (the same callback is attached to both trainers)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._start = 0.0

    def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
        self._start = time.perf_counter()

    def on_step_end(self, *args: Any, **kwargs: Any) -> None:
        self.times.append(time.perf_counter() - self._start)


def timer_callback() -> Any:
    from transformers import TrainerCallback

    class Timer(StepTimer, TrainerCallback):  # type: ignore[misc]
        pass

    return Timer()


def ours(ws: Any, steps: int) -> list[float]:
    """Our runner in-process: build_trainer + RunCallback writing the store, the event log and samples."""
    from engine.events import EventLog
    from engine.training.callbacks import RunCallback
    from engine.training.data import selected_rows
    from engine.training.worker import build_trainer

    revision, task = ws.current_revision()
    task = task.model_copy(
        update={"training": task.training.model_copy(update={"max_steps": steps})}
    )
    _, rows = selected_rows(ws.store, task, revision.id)
    run_dir = ws.runs_dir / f"bench-{time.time_ns()}"
    run_dir.mkdir(parents=True)
    now = time.time()
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO runs(id, kind, status, created_at, updated_at, folder, config) VALUES (?, 'train', 'running', ?, ?, ?, '{}')",
            (run_dir.name, now, now, str(run_dir)),
        )
    cb = RunCallback(
        ws.store,
        run_dir.name,
        run_dir,
        EventLog(run_dir / "events.jsonl"),
        completions_per_step=task.training.group_size * task.training.prompts_per_step,
        sample_every=task.training.sample_every,
        should_stop=lambda: False,
    )
    timer = timer_callback()
    trainer = build_trainer(
        task, task.models.base, [r.to_dict() for r in rows], run_dir / "checkpoints", [timer, cb]
    )
    cb.trainer = trainer
    trainer.train()
    return timer.times[1:]  # the first step includes warm-up


def bare(ws: Any, steps: int) -> list[float]:
    """What a user would write with TRL alone: same model, data, reward and GRPOConfig/LoraConfig values, no callbacks of ours."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from engine.tiny import extract
    from engine.training.data import selected_rows

    revision, task = ws.current_revision()
    _, rows = selected_rows(ws.store, task, revision.id)
    t = task.training
    args = GRPOConfig(
        output_dir=str(ws.runs_dir / "bare"),
        per_device_train_batch_size=t.group_size,
        gradient_accumulation_steps=t.prompts_per_step,
        num_generations=t.group_size,
        max_completion_length=t.max_completion_tokens,
        temperature=t.temperature,
        beta=t.kl_coef,
        epsilon=t.clip_eps,
        loss_type="grpo",
        learning_rate=t.learning_rate,
        lr_scheduler_type="constant",
        max_steps=steps,
        seed=t.seed,
        save_strategy="no",
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        gradient_checkpointing=False,
        use_cpu=True,
        bf16=False,
    )
    lora = LoraConfig(
        r=t.lora_rank,
        lora_alpha=t.lora_alpha,
        lora_dropout=t.lora_dropout,
        target_modules=list(t.target_modules),
        task_type="CAUSAL_LM",
    )
    folder = task.models.base
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")

    def reward(completions: list[str], answer: list[str], **_: Any) -> list[float]:
        return [1.0 if extract(c) == a else 0.0 for c, a in zip(completions, answer, strict=True)]

    timer = timer_callback()
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(folder),
        reward_funcs=reward,
        args=args,
        train_dataset=Dataset.from_list([{"prompt": r.prompt, "answer": r.answer} for r in rows]),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[timer],
    )
    trainer.train()
    return timer.times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternating bare/ours rounds (evens out machine load)",
    )
    opts = parser.parse_args()
    import transformers

    from engine.tiny import tiny_workspace

    transformers.logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        # our runner saves checkpoints; give the bare script the same work by timing only steps without a save
        ws = tiny_workspace(
            Path(tmp) / "ws", items=12, checkpoint_every=1000, sample_every=2, max_steps=opts.steps
        )
        times: dict[str, list[float]] = {"bare": [], "ours": []}
        for i in range(opts.rounds):
            order = (
                ("bare", "ours") if i % 2 == 0 else ("ours", "bare")
            )  # alternate, so neither always runs first
            for name in order:
                times[name] += (bare if name == "bare" else ours)(ws, opts.steps)
        ws.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"tiny model, {opts.rounds} x {opts.steps - 1} timed steps each")
    print(f"bare TRL     median step {med['bare'] * 1000:7.0f} ms")
    print(f"our runner   median step {med['ours'] * 1000:7.0f} ms")
    ratio = med["ours"] / med["bare"]
    print(f"ratio ours/bare {ratio:.3f}  goal <= 1.05: {'ok' if ratio <= 1.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
