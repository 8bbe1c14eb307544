"""Training step time: our runner (the real worker's `train_run`, in this process) vs a bare TRL script.

Both sides train the same model on the same rows with the same GRPO/LoRA values. A step is timed
from its begin to the next step's begin (the last one to the end of training), so everything our
callbacks do after a step (store writes, event log, sampled completions) is inside the timer. The
first step (warm-up) is left out. Rounds alternate which side goes first.

    python -m bench.train [--steps 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Result, at_most, finish, median, spread

GOAL = 1.05


def step_timer() -> Any:
    """A TrainerCallback recording the time at every step begin and at the end of training."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.marks: list[float] = []

        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            self.marks.append(time.perf_counter())

        def on_train_end(self, *args: Any, **kwargs: Any) -> None:
            self.marks.append(time.perf_counter())

        def steps(self) -> list[float]:
            """Whole-step durations, warm-up step left out."""
            return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)][1:]

    return StepTimer()


def ours(ws: Any, steps: int) -> list[float]:
    """Our run, as `sdrl train` makes it (config snapshot, rows, runs row), trained by the worker's own function here."""
    from engine import runs
    from engine.training import worker

    timer = step_timer()
    build = worker.build_trainer
    spawn = runs._spawn

    def with_timer(task: Any, model: str, rows: Any, out: Path, callbacks: list[Any]) -> Any:
        return build(task, model, rows, out, [timer, *callbacks])

    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    worker.build_trainer = with_timer  # type: ignore[assignment]
    runs._spawn = lambda *a: 0  # type: ignore[assignment]  # train here, not in a detached process
    try:
        run_id = runs.start_run(ws, {"max_steps": steps})
        code = worker.train_run(ws.root, run_id)
    finally:
        worker.build_trainer = build  # type: ignore[assignment]
        runs._spawn = spawn  # type: ignore[assignment]
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if code != 0:
        raise RuntimeError(f"our training run failed (exit {code}); see {ws.runs_dir / run_id}")
    return timer.steps()


def bare(ws: Any, steps: int) -> list[float]:
    """What a user would write with TRL alone: same model, rows, reward and GRPOConfig/LoraConfig values."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import GRPOConfig, GRPOTrainer

    from engine.tiny import extract
    from engine.training.data import selected_rows

    revision, task = ws.current_revision()
    _, rows = selected_rows(ws.store, task, revision.id, ("train",))
    t = task.training
    set_seed(t.seed)
    args = GRPOConfig(
        output_dir=str(ws.root / f"bare-{time.time_ns()}"),
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

    def reward(completions: list[str], answer: list[str], **_: Any) -> list[float | None]:
        return [1.0 if extract(c) == a else 0.0 for c, a in zip(completions, answer, strict=True)]

    timer = step_timer()
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
    trainer.save_model(args.output_dir)
    return timer.steps()


def run(quick: bool = False, steps: int | None = None, rounds: int = 3) -> list[Result]:
    import transformers

    from engine.tiny import tiny_workspace

    steps = steps or (6 if quick else 12)
    transformers.logging.set_verbosity_error()
    totals: dict[str, list[float]] = {"bare": [], "ours": []}
    every: dict[str, list[float]] = {"bare": [], "ours": []}
    with tempfile.TemporaryDirectory() as tmp:
        ws = tiny_workspace(
            Path(tmp) / "ws", items=12, checkpoint_every=1000, sample_every=2, max_steps=steps
        )
        settings = ws.task().training
        for i in range(rounds):
            for name in ("bare", "ours") if i % 2 == 0 else ("ours", "bare"):
                times = (bare if name == "bare" else ours)(ws, steps)
                totals[name].append(sum(times))
                every[name] += times
        ws.close()
    ratios = [o / b for o, b in zip(totals["ours"], totals["bare"], strict=True)]
    ratio = median(ratios)
    return [
        Result(
            "train",
            "GRPO step time, our runner vs bare TRL",
            f"{1000 * median(every['ours']):.0f} ms",
            f"{1000 * median(every['bare']):.0f} ms",
            ratio,
            f"<= {GOAL}",
            at_most(ratio, GOAL),
            spread(ratios),
            f"tiny 2-layer model (engine/tiny.py), group {settings.group_size} x {settings.prompts_per_step} prompt, "
            f"{settings.max_completion_tokens} completion tokens, sample_every {settings.sample_every}; "
            f"{rounds} alternating rounds of {steps - 1} timed whole steps (begin to next begin); "
            "ratio = total step time ours / bare per round (median shown); ours/baseline cells are median steps. "
            "A tiny model makes our fixed per-step cost (store, event log, samples) as large a share as it can be",
            {"totals": totals, "steps": every},
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    opts = parser.parse_args()
    finish(run(opts.quick, opts.steps, opts.rounds), opts.out)


if __name__ == "__main__":
    main()
