"""Does GRPO move the bundled base model on an easy task? Train reward at start vs end, greedy held-out accuracy before vs after.

Builds its own selected set of easy arithmetic items with gold answers in a temp workspace (no synthesis), trains a
LoRA adapter through the real runner (detached worker), and evaluates with the real solver. Prints what happened.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Result, save_rows  # noqa: E402

DESCRIPTION = """Simple arithmetic: add or subtract two small whole numbers.

Question: What is 2 + 5?
Answer: #### 7

Question: What is 9 - 4?
Answer: #### 5"""


def all_items() -> list[tuple[str, str]]:
    """Every distinct question (sums, and differences that are not negative) not shown in the task description."""
    out = []
    for a in range(1, 21):
        for b in range(1, 21):
            out.append((f"What is {a} + {b}?", str(a + b)))
            if a >= b:
                out.append((f"What is {a} - {b}?", str(a - b)))
    return [(q, a) for q, a in out if q not in DESCRIPTION]


def split(
    rng: random.Random, n_train: int, n_val: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Disjoint train and val items, none of them in the task description every prompt carries."""
    drawn = rng.sample(all_items(), n_train + n_val)
    return drawn[:n_train], drawn[n_train:]


def accuracy(ws, task, revision_id: int, adapter: Path | None, max_tokens: int) -> float:
    from engine.evaluate import iter_eval, val_items
    from engine.stages import run_blocking

    name, val = val_items(ws, task, revision_id)
    done = run_blocking(
        iter_eval(
            ws, task, name, val, model_spec=task.models.base, adapter=adapter, max_tokens=max_tokens
        )
    )
    assert done is not None
    return float(done.counts["accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--train", type=int, default=48)
    parser.add_argument("--val", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=12)
    opts = parser.parse_args()

    import tomli_w

    from engine.config import load_task
    from engine.runs import get_run, process_alive, run_metrics, start_run
    from engine.training.data import insert_selection
    from engine.workspace import init_workspace

    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", "demo")
        data = load_task(ws.task_file).model_dump(mode="json", exclude_none=True)
        data.update(
            description=DESCRIPTION,
            output_format="Give the final answer as a number after four hash marks, like this:\n#### 42",
            demos=[],
        )
        data["models"]["base"] = opts.model
        data["training"].update(
            group_size=4,
            prompts_per_step=2,
            max_completion_tokens=opts.max_tokens,
            max_steps=opts.steps,
            learning_rate=1e-4,
            temperature=1.0,
            checkpoint_every=1000,
            sample_every=2,
            kl_coef=0.01,
        )
        ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")
        revision, task = ws.current_revision()
        train, val = split(rng, opts.train, opts.val)
        rows = [(q, a, None, "train") for q, a in train] + [(q, a, None, "val") for q, a in val]
        insert_selection(ws.store, revision.id, rows)

        t0 = time.time()
        before = accuracy(ws, task, revision.id, None, opts.max_tokens)
        print(
            f"greedy val accuracy before: {before:.1%} ({opts.val} items, {time.time() - t0:.0f} s)",
            flush=True,
        )
        t0 = time.time()
        run_id = start_run(ws)
        info = get_run(ws.store, run_id)
        try:
            while info.status in ("queued", "running"):
                time.sleep(5)
                info = get_run(ws.store, run_id)
        finally:
            if info.pid is not None and process_alive(info.pid):
                import os
                import signal

                os.kill(info.pid, signal.SIGTERM)
        if info.status != "finished":
            print(f"training {info.status}: {info.message}")
            return
        metrics = run_metrics(ws.store, run_id)
        rewards = [v for _, v in metrics["reward_mean"]]
        steps = statistics.median(v for _, v in metrics["step_time"])
        k = max(1, len(rewards) // 4)
        print(
            f"trained {len(rewards)} steps in {time.time() - t0:.0f} s (median step {steps:.1f} s)"
        )
        print(f"per-step train reward: {' '.join(f'{r:.2f}' for r in rewards)}")
        print(
            f"mean train reward first {k} steps: {statistics.mean(rewards[:k]):.3f}  last {k} steps: {statistics.mean(rewards[-k:]):.3f}"
        )
        print(
            f"zero-variance group share (mean): {statistics.mean(v for _, v in metrics['zero_std_share']):.2f}"
        )
        t0 = time.time()
        after = accuracy(ws, task, revision.id, info.adapter, opts.max_tokens)
        print(f"greedy val accuracy after:  {after:.1%} ({time.time() - t0:.0f} s)")
        print(f"change: {after - before:+.1%}")
        ws.close()
    save_rows(
        "learning",
        [
            Result(
                "learning",
                f"greedy held-out accuracy after {len(rewards)} GRPO steps (no goal)",
                f"{after:.1%}",
                f"{before:.1%} (before)",
                note=f"{opts.train} train / {opts.val} val arithmetic items, disjoint; "
                f"train reward first {k} steps {statistics.mean(rewards[:k]):.3f}, last {k} {statistics.mean(rewards[-k:]):.3f}",
            )
        ],
    )


if __name__ == "__main__":
    main()
