"""The learning study: does the pipeline, from a task definition alone, make the bundled base model better?

For each seed it makes a fresh workspace from a template (default: demo) and runs the real stages with the bundled
models: generate (grounded in the template's corpus), label by vote, probe, adapt, score, select (paper rule),
train (LoRA GRPO, the detached worker), then evaluates base and adapter greedily on held-out data no stage saw:
GSM8K test (shipped) and a computed exact-answer arithmetic set, checked disjoint from everything generated.
Nothing is written by hand between stages. It prints per-stage counts and failure reasons, label accuracy against
the truth where a question is plain arithmetic, pass-rate histograms before and after adaptation, the selection,
the reward curve and zero-variance share, and accuracy before/after with a 95% interval over the seeds. When the
bundled models show no gain it names the limit (label accuracy, pass rates or reward variance).

    python -m bench.learning            # 3 seeds, sized for a 2-core CPU (hours)
    python -m bench.learning --quick    # 1 seed, tiny sizes (a smoke run)
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.learning_sets import exact_test_set, overlap, true_answer, worded_label_set  # noqa: E402
from bench.report import Result, save_rows  # noqa: E402
from engine.errors import SdrlError  # noqa: E402

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
"""Student-t 97.5% quantiles by degrees of freedom (a 95% interval over a few seeds)."""


def log(text: str = "") -> None:
    print(text, flush=True)


def interval(values: list[float]) -> str:
    """mean ± half-width of the 95% t-interval over seeds ("mean (1 seed)" when there is one value)."""
    mean = statistics.mean(values)
    if len(values) < 2:
        return f"{mean:+.1%} (1 seed, no interval)"
    half = T_975.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:+.1%} ± {half:.1%} (95% CI [{mean - half:+.1%}, {mean + half:+.1%}], {len(values)} seeds)"


def wilson(correct: int, n: int) -> str:
    """The 95% Wilson interval of one accuracy."""
    if n == 0:
        return "-"
    p, z = correct / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{p:.1%} [{max(0.0, centre - half):.1%}, {min(1.0, centre + half):.1%}]"


def configure(ws: Any, opts: argparse.Namespace, seed: int) -> None:
    """The study's sizes and the seed in task.toml; everything else is the template's task definition."""
    import tomli_w

    from engine.config import load_task

    data = load_task(ws.task_file).model_dump(mode="json", exclude_none=True)
    data["generation"].update(n_samples=opts.n, votes=opts.votes, seed=seed)
    data["scoring"].update(k=opts.k)
    data["selection"].update(m=opts.m, seed=seed)
    data["training"].update(max_steps=opts.steps, seed=seed, checkpoint_every=max(opts.steps, 1))
    ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")


def run_stages(ctx: Any) -> dict[str, dict[str, Any]]:
    """Stages 1-9 as `sdrl run` chains them; the last StageFinished counts of every stage."""
    from engine.events import StageFinished, StageWarning
    from engine.stages.adapt import iter_adapt
    from engine.stages.generate import iter_generate
    from engine.stages.score import iter_score
    from engine.stages.select import iter_select

    finished: dict[str, dict[str, Any]] = {}
    for stage_events in (iter_generate(ctx), iter_adapt(ctx), iter_score(ctx), iter_select(ctx)):
        t0 = time.time()
        for event in stage_events:
            if isinstance(event, StageFinished):
                finished[event.stage] = dict(event.counts)
                log(f"  {event.stage:<10} {dict(event.counts)}")
            elif isinstance(event, StageWarning):
                log(f"  warning ({event.stage}): {event.message}")
        log(f"  ... {time.time() - t0:.0f} s")
    return finished


def pool_report(store: Any, revision_id: int) -> dict[str, Any]:
    """Samples by origin and status, failure reasons by stage, and label accuracy against the computable truth."""
    by_status: dict[str, dict[str, int]] = {}
    questions = []
    checked = right = 0
    for r in store.query(
        "SELECT origin, status, question, label FROM samples WHERE revision_id=?", (revision_id,)
    ):
        by_status.setdefault(r["origin"], {}).setdefault(r["status"], 0)
        by_status[r["origin"]][r["status"]] += 1
        questions.append(r["question"])
        truth = true_answer(r["question"])
        if r["status"] == "labelled" and truth is not None:
            checked += 1
            right += r["label"] is not None and _same_number(r["label"], truth)
    failures = {
        f"{r['stage']}: {r['reason']}": r["n"]
        for r in store.query(
            "SELECT stage, reason, COUNT(*) n FROM failures WHERE revision_id=? GROUP BY stage, reason",
            (revision_id,),
        )
    }
    return {
        "by_origin_status": by_status,
        "failures": failures,
        "questions": questions,
        "label_truth_checked": checked,
        "label_truth_right": right,
    }


def _same_number(label: str, truth: int) -> bool:
    try:
        return abs(float(label) - truth) < 1e-3
    except ValueError:
        return False


def train(ws: Any) -> tuple[Any, dict[str, list[tuple[int, float]]]]:
    """Start the detached worker on the selection and wait for it; (run info, metrics)."""
    from engine.runs import get_run, process_alive, run_metrics, start_run

    run_id = start_run(ws)
    info = get_run(ws.store, run_id)
    try:
        while info.status in ("queued", "running"):
            time.sleep(10)
            info = get_run(ws.store, run_id)
    finally:
        if info.pid is not None and process_alive(info.pid):
            os.kill(info.pid, signal.SIGTERM)
    return info, run_metrics(ws.store, run_id)


def evaluate(
    ws: Any, task: Any, name: str, items: list[Any], adapter: Path | None, tokens: int
) -> tuple[int, int]:
    """(correct, n) of greedy answers by the base model (with the adapter if given)."""
    from engine.evaluate import iter_eval
    from engine.stages import run_blocking

    done = run_blocking(
        iter_eval(
            ws, task, name, items, model_spec=task.models.base, adapter=adapter, max_tokens=tokens
        )
    )
    assert done is not None
    return int(done.counts["correct"]), int(done.counts["n"])


def label_check(ctx: Any, n: int) -> dict[str, Any] | None:
    """The instructor labels `n` computed one-step word problems by the label stage's vote: label accuracy vs truth."""
    from engine.instructor_check import iter_instructor_check, latest_report
    from engine.stages import run_blocking

    if n <= 0:
        return None
    done = run_blocking(iter_instructor_check(ctx, "worded", worded_label_set(n)))
    report = latest_report(ctx.store)
    assert done is not None and report is not None
    table = ", ".join(
        f">={row['level']:.2f}: {row['correct']}/{row['labels']}" for row in report["table"]
    )
    log(
        f"  instructor label accuracy vs truth on {n} computed one-step word problems: "
        f"{report['accuracy']:.0%} (right/labels by agreement {table})"
    )
    return report


def compare_prompting(template: str, n: int, votes: int) -> dict[str, float]:
    """The instructor's label accuracy on `n` computed problems, asked by chat for JSON vs few-shot text."""
    from engine.backends.instructor import clear_cache
    from engine.stages import StageContext
    from engine.task_file import update_task_text
    from engine.workspace import init_workspace

    accuracy: dict[str, float] = {}
    for mode in ("chat", "fewshot"):
        with tempfile.TemporaryDirectory(prefix="sdrl-prompting-") as tmp:
            ws = init_workspace(Path(tmp) / "ws", template)
            ws.task_file.write_text(
                update_task_text(
                    ws.task_file.read_text(), {"generation": {"prompting": mode, "votes": votes}}
                )
            )
            clear_cache()
            log(f"prompting = {mode!r} ({votes} votes):")
            t0 = time.time()
            report = label_check(StageContext.open(ws), n)
            assert report is not None
            accuracy[mode] = report["accuracy"]
            log(f"  {time.time() - t0:.0f} s")
            ws.close()
    log(f"label accuracy: chat {accuracy['chat']:.0%}, fewshot {accuracy['fewshot']:.0%}")
    return accuracy


def train_and_report(ws: Any, out: dict[str, Any]) -> Path | None:
    """Train on the selection; the adapter when training finished (else the limit goes into `out`)."""
    t0 = time.time()
    info, metrics = train(ws)
    out["train_s"] = time.time() - t0
    rewards = [v for _, v in metrics.get("reward_mean", [])]
    zero = [v for _, v in metrics.get("zero_std_share", [])]
    out["rewards"], out["zero_std"] = rewards, zero
    log(f"  training {info.status} in {out['train_s']:.0f} s: {len(rewards)} steps")
    log(f"    reward per step: {' '.join(f'{r:.2f}' for r in rewards)}")
    if zero:
        log(
            f"    zero-variance group share per step: {' '.join(f'{z:.2f}' for z in zero)} (mean {statistics.mean(zero):.2f})"
        )
    if info.status != "finished":
        out["limit"] = f"training {info.status}: {info.message}"
        return None
    return Path(info.adapter)


def study_seed(
    opts: argparse.Namespace,
    seed: int,
    tests: dict[str, list[Any]],
    base_cache: dict[str, tuple[int, int]],
) -> dict[str, Any]:
    """One seed end to end; returns its figures."""
    from engine.stages import StageContext
    from engine.stats import compute_stats
    from engine.workspace import init_workspace

    out: dict[str, Any] = {"seed": seed}
    with tempfile.TemporaryDirectory(prefix="sdrl-learning-") as tmp:
        ws = init_workspace(Path(tmp) / "ws", opts.template)
        configure(ws, opts, seed)
        ctx = StageContext.open(ws)
        task = ctx.task
        log(
            f"\n=== seed {seed}: template {opts.template!r}, task {task.name!r}, base {task.models.base}, instructor {task.models.instructor}"
        )
        if seed == opts.seeds[0]:  # the instructor's accuracy hardly depends on the seed
            out["label_check"] = label_check(ctx, opts.label_check)
        t0 = time.time()
        try:
            out["stages"] = run_stages(ctx)
        except SdrlError as exc:  # e.g. nothing labelled: a finding of the study, not a crash
            out["limit"] = f"pipeline stopped: {exc.title}"
            log(f"  {out['limit']}")
        out["pipeline_s"] = time.time() - t0
        pool = pool_report(ctx.store, ctx.revision.id)
        log("  samples by origin and status: " + str(pool["by_origin_status"]))
        log("  dropped, by stage and reason: " + (str(pool["failures"]) or "none"))
        checked, right = pool["label_truth_checked"], pool["label_truth_right"]
        out["label_accuracy"] = right / checked if checked else None
        log(
            f"  label accuracy vs truth on generated questions: {right}/{checked} plain-arithmetic labels right"
            + ("" if checked else " (no generated question is plain arithmetic: not computable)")
        )
        stats = compute_stats(ctx.store, ctx.revision.id)
        rates = stats["pass_rate"]
        log(f"  pass-rate bins {rates['bins']}")
        log(f"    before adaptation {rates['before_adaptation']}  {rates['initial']}")
        log(f"    after adaptation  {rates['after_adaptation']}  {rates['pool']}")
        selection = stats["selection"] or {"train": 0, "val": 0}
        out["selected"] = selection["train"]
        out["histograms"] = {k: rates[k] for k in ("before_adaptation", "after_adaptation")}
        log(f"  selection (paper rule): {selection['train']} train, {selection['val']} val")
        for name, items in tests.items():
            clash = overlap(items, pool["questions"])
            log(
                f"  held-out {name}: {len(items)} items, {len(clash)} also generated"
                + (f" (left out: {clash[:5]})" if clash else "")
            )
            tests[name] = [it for it in items if it.question not in set(clash)]
        adapter = None
        if "limit" not in out and not selection["train"]:
            out["limit"] = "pass rates: the paper rule selected nothing (no sample with 0 < p < 1)"
            log(f"  no training: {out['limit']}")
        if "limit" not in out:
            adapter = train_and_report(ws, out)
        out["eval"] = {}
        for name, items in tests.items():
            tokens = opts.gsm8k_tokens if name == "gsm8k" else opts.exact_tokens
            key = name + "\0" + "\0".join(it.question for it in items)
            if key not in base_cache:  # greedy base answers do not depend on the seed
                base_cache[key] = evaluate(ws, task, name, items, None, tokens)
            before = base_cache[key]
            after = evaluate(ws, task, name, items, adapter, tokens) if adapter else None
            out["eval"][name] = (before, after)
            log(
                f"  {name}: before {wilson(*before)}  after "
                + (wilson(*after) if after else "- (nothing trained)")
                + f"  ({before[1]} items)"
            )
        ws.close()
    return out


def verdict(results: list[dict[str, Any]]) -> str:
    """Which limit held the bundled models back, from the measured figures."""
    labels = [r["label_accuracy"] for r in results if r.get("label_accuracy") is not None]
    checks = [r["label_check"]["accuracy"] for r in results if r.get("label_check")]
    zero = [statistics.mean(r["zero_std"]) for r in results if r.get("zero_std")]
    parts = sorted({r["limit"] for r in results if "limit" in r})
    if checks and checks[0] is not None and checks[0] < 0.6:
        parts.append(
            f"label accuracy (the instructor's vote is right on {checks[0]:.0%} of computed one-step word problems)"
        )
    if labels and statistics.mean(labels) < 0.6:
        parts.append(
            f"label accuracy (mean {statistics.mean(labels):.0%} of plain-arithmetic labels right)"
        )
    if zero and statistics.mean(zero) > 0.5:
        parts.append(
            f"reward variance (mean zero-variance group share {statistics.mean(zero):.2f})"
        )
    return "; ".join(parts) or "none identified"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, tiny sizes: a smoke run")
    parser.add_argument("--template", default="demo")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--n", type=int, default=None, help="samples to generate")
    parser.add_argument("--votes", type=int, default=4)
    parser.add_argument("--k", type=int, default=8, help="answers per sample when scoring")
    parser.add_argument("--m", type=int, default=64, help="samples to select")
    parser.add_argument("--steps", type=int, default=None, help="GRPO steps")
    parser.add_argument(
        "--exact", type=int, default=200, help="exact-answer test items (>= 200 for the study)"
    )
    parser.add_argument("--gsm8k", type=int, default=None, help="GSM8K test items")
    parser.add_argument(
        "--label-check",
        type=int,
        default=12,
        help="computed word problems the instructor labels (0: skip)",
    )
    parser.add_argument(
        "--compare-prompting",
        type=int,
        default=0,
        metavar="N",
        help="only compare the instructor's label accuracy on N computed problems, prompting chat vs fewshot",
    )
    parser.add_argument("--exact-tokens", type=int, default=24)
    parser.add_argument("--gsm8k-tokens", type=int, default=256)
    opts = parser.parse_args()
    if opts.compare_prompting:
        compare_prompting(opts.template, opts.compare_prompting, opts.votes)
        return
    quick = opts.quick
    opts.seeds = opts.seeds or ([0] if quick else [0, 1, 2])
    opts.n = opts.n or (8 if quick else 48)
    opts.steps = opts.steps or (4 if quick else 30)
    opts.gsm8k = opts.gsm8k if opts.gsm8k is not None else (10 if quick else 100)
    if quick:
        opts.exact = min(opts.exact, 40)

    from engine.answers import checker_for
    from engine.evaluate import load_benchmark

    tests = {
        "exact": exact_test_set(opts.exact),
        "gsm8k": load_benchmark("gsm8k", checker_for("numeric"), limit=opts.gsm8k),
    }
    log(
        f"study: seeds {opts.seeds}, n={opts.n} votes={opts.votes} k={opts.k} m={opts.m} steps={opts.steps}, held-out exact {len(tests['exact'])} + gsm8k {len(tests['gsm8k'])}"
    )
    base_cache: dict[str, tuple[int, int]] = {}
    results = []
    for seed in opts.seeds:
        results.append(study_seed(opts, seed, {k: list(v) for k, v in tests.items()}, base_cache))
    log("\n=== summary")
    rows = []
    for name in tests:
        pairs = [r["eval"][name] for r in results if name in r.get("eval", {})]
        deltas = [after[0] / after[1] - before[0] / before[1] for before, after in pairs if after]
        if not pairs:
            continue
        before = pairs[0][0]
        if not deltas:
            log(f"  {name}: before {wilson(*before)}; no seed trained, so no change to measure")
            rows.append(
                Result("learning", f"{name} accuracy (base; nothing trained)", wilson(*before))
            )
            continue
        log(f"  {name}: before {wilson(*before)}; change after training {interval(deltas)}")
        rows.append(
            Result(
                "learning",
                f"{name} accuracy change after training",
                interval(deltas),
                wilson(*before) + " before",
                note=f"{len(deltas)} seeds, n={opts.n}, steps={opts.steps}",
            )
        )
    limit = verdict(results)
    log(f"  limit: {limit}")
    rows.append(
        Result(
            "learning",
            "what held the bundled models back",
            limit,
            note=f"selected per seed: {[r.get('selected') for r in results]}",
        )
    )
    if not quick:
        save_rows("learning", rows)


if __name__ == "__main__":
    main()
