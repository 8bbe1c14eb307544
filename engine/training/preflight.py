"""Checks before any compute is spent: data present, reward gives 1 to gold and 0 to wrong, zero-variance share, memory, device."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.answers import AnswerChecker, task_checker
from engine.errors import ModelError, RunError
from engine.training.data import Row
from engine.training.rewards import reward_funcs


@dataclass(frozen=True)
class Problem:
    level: str
    """"blocker" refuses the launch, "warning" asks first."""
    title: str
    hint: str
    forceable: bool = False
    """A blocker that `force` may override (the run would waste compute, not fail)."""


@dataclass
class Preflight:
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        """ok, warning or blocker: the worst problem found. ok launches; a warning asks first; a blocker
        is refused (a forceable one launches only when forced)."""
        levels = {p.level for p in self.problems}
        return "blocker" if "blocker" in levels else "warning" if levels else "ok"

    @property
    def ok(self) -> bool:
        """No blocker (warnings allowed)."""
        return self.level != "blocker"

    def block(self, title: str, hint: str, *, forceable: bool = False) -> None:
        self.problems.append(Problem("blocker", title, hint, forceable))

    def warn(self, title: str, hint: str) -> None:
        self.problems.append(Problem("warning", title, hint))

    def raise_if_failed(self, *, force: bool = False) -> None:
        """RunError naming every blocker; with `force`, forceable blockers let the launch through."""
        blockers = [
            p for p in self.problems if p.level == "blocker" and not (force and p.forceable)
        ]
        if blockers:
            forceable = all(p.forceable for p in blockers)
            raise RunError(
                "Preflight blocked the launch: " + "; ".join(p.title for p in blockers),
                "; ".join(dict.fromkeys(p.hint for p in blockers))
                + ("; or launch anyway with --force" if forceable else ""),
            )


ZERO_VARIANCE_WARN = 0.5
ZERO_VARIANCE_BLOCK = 0.95
"""Expected shares of groups with no learning signal above which a launch warns, or is blocked."""
ZERO_VARIANCE_HINT = (
    'pick samples the base model sometimes solves: another selection rule (selection.rule = "band" '
    'around 0.5, or "paper"), a bigger k (scoring.k) or group (training.group_size), or a bigger base model'
)


def zero_variance_share(pass_rates: Sequence[float], group_size: int) -> float:
    """Expected share of groups whose G rewards are all equal: mean of p^G + (1-p)^G."""
    if not pass_rates:
        return 0.0
    return sum(p**group_size + (1 - p) ** group_size for p in pass_rates) / len(pass_rates)


def wrong_answer(checker: AnswerChecker, gold: str, others: Sequence[str]) -> str:
    """An answer the checker must not accept for `gold`."""
    try:
        return (
            str(int(float(gold.replace(",", ""))) + 1)
            if float(gold.replace(",", "")).is_integer()
            else str(float(gold) + 1.5)
        )
    except ValueError:
        pass
    for candidate in (*others, *getattr(checker, "choices", ()), "zz-not-the-answer"):
        if candidate and not checker.equivalent(candidate, gold):
            return candidate
    return "zz-not-the-answer"


def check_rewards(pre: Preflight, task: Any, rows: Sequence[Row], limit: int = 200) -> None:
    checker = task_checker(task)
    correctness = reward_funcs(checker, task.training)[0]
    labels = [r.answer for r in rows]
    bad_gold: list[int] = []
    bad_wrong: list[int] = []
    try:
        for row in rows[:limit]:
            gold = correctness([checker.render(row.answer)], answer=[row.answer])[0]
            wrong = correctness(
                [checker.render(wrong_answer(checker, row.answer, labels))], answer=[row.answer]
            )[0]
            empty = correctness([""], answer=[row.answer])[0]
            if gold != 1.0:
                bad_gold.append(row.sample_id)
            if wrong == 1.0 or empty != 0.0:
                bad_wrong.append(row.sample_id)
    except RunError as exc:
        pre.block(exc.title, exc.hint)
        return
    if bad_gold:
        pre.block(
            f"The reward does not give 1 to the gold answer of {len(bad_gold)} sample(s) (e.g. {bad_gold[:5]})",
            "check answer_type/output_format in task.toml against the labels, or fix/reject those samples (`sdrl samples`)",
        )
    if bad_wrong:
        pre.block(
            f"The reward gives credit to a wrong or empty answer for {len(bad_wrong)} sample(s) (e.g. {bad_wrong[:5]})",
            "the checker is too lenient: fix the custom checker or the answer type",
        )


def estimate_memory_gb(model_folder: Path, settings: Any, prompt_tokens: int, gpu: bool) -> float:
    """A rough peak: policy weights + LoRA optimizer + activations and logits of one group."""
    cfg = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    text = cfg.get("text_config", cfg)
    weights = sum(p.stat().st_size for p in model_folder.glob("*.safetensors")) or 4 * 1e8
    weights = weights / 2 if gpu else weights  # bf16 on GPU, float32 stored
    hidden, layers, vocab = (
        text.get("hidden_size", 1024),
        text.get("num_hidden_layers", 24),
        text.get("vocab_size", 50000),
    )
    seq = prompt_tokens + settings.max_completion_tokens
    act_bytes = 2 if gpu else 4
    activations = settings.group_size * seq * (layers * hidden * 20 + vocab * 3) * act_bytes
    return (weights * 1.1 + activations) / 1e9


def preflight(
    task: Any, rows: Sequence[Row], model_spec: str, *, need_model: bool = True
) -> Preflight:
    """Run every check; problems come with fixes. Nothing here trains or generates."""
    from engine.training.configs import has_gpu, planned_steps

    pre = Preflight()
    settings = task.training
    gpu = has_gpu()
    pre.facts.update(
        mode="GPU" if gpu else "CPU",
        rows=len(rows),
        group_size=settings.group_size,
        steps=planned_steps(settings, len(rows)) if rows else 0,
    )
    if not rows:
        pre.block(
            "The training split is empty",
            "select samples first (`sdrl select`); samples need a label and 0 < pass rate < 1",
        )
        return pre
    check_rewards(pre, task, rows)
    rates = [r.pass_rate for r in rows if r.pass_rate is not None]
    share = zero_variance_share(rates, settings.group_size)
    pre.facts["zero_variance_share"] = round(share, 3)
    pre.facts["pass_rate_known"] = len(rates)
    if share >= ZERO_VARIANCE_BLOCK:
        pre.block(
            f"About {share:.0%} of groups are expected to have zero reward variance: the run would learn nothing",
            ZERO_VARIANCE_HINT,
            forceable=True,
        )
    elif share > ZERO_VARIANCE_WARN:
        pre.warn(
            f"About {share:.0%} of groups are expected to have zero reward variance (little learning signal)",
            ZERO_VARIANCE_HINT,
        )
    if settings.use_vllm and not gpu:
        pre.warn(
            "use_vllm is set but there is no GPU: generation runs in transformers",
            "unset training.use_vllm on CPU",
        )
    if settings.use_vllm and gpu and importlib.util.find_spec("vllm") is None:
        pre.block(
            "use_vllm is set but vllm is not installed",
            "pip install 'sdrl-studio[gpu]', or set training.use_vllm = false",
        )
    if "wandb" in settings.report_to and importlib.util.find_spec("wandb") is None:
        pre.block(
            "training.report_to names wandb but wandb is not installed",
            "pip install wandb, or remove wandb from training.report_to",
        )
    longest = max(len(r.prompt) for r in rows) // 3  # about 3+ characters per token
    pre.facts["longest_prompt_tokens_est"] = longest
    if longest > settings.max_prompt_tokens:
        pre.warn(
            f"The longest prompt is about {longest} tokens, above max_prompt_tokens {settings.max_prompt_tokens}",
            "shorten the description/output format, or raise training.max_prompt_tokens",
        )
    if need_model:
        _check_model(pre, model_spec, settings, longest, gpu)
    return pre


def _check_model(
    pre: Preflight, model_spec: str, settings: Any, prompt_tokens: int, gpu: bool
) -> None:
    import psutil

    from engine.models import hf_folder, resolve_model

    try:
        folder = hf_folder(resolve_model(model_spec))
    except ModelError as exc:
        pre.block(exc.title, exc.hint)
        return
    need = estimate_memory_gb(folder, settings, prompt_tokens, gpu)
    if gpu:
        import torch

        have = torch.cuda.get_device_properties(0).total_memory / 1e9
    else:
        have = psutil.virtual_memory().available / 1e9
    pre.facts.update(memory_estimate_gb=round(need, 2), memory_available_gb=round(have, 1))
    if need > have:
        pre.block(
            f"Estimated peak memory {need:.1f} GB exceeds the {have:.1f} GB available",
            "lower training.group_size or training.max_completion_tokens, or use a smaller base model",
            forceable=True,  # a rough estimate: the user may know better
        )
    elif need > 0.8 * have:
        pre.warn(
            f"Estimated peak memory {need:.1f} GB is close to the {have:.1f} GB available",
            "lower training.group_size or max_completion_tokens if the run is killed for memory",
        )
