"""Check the keyword arguments our code passes to TRL, PEFT and vLLM against the installed libraries' signatures,
so that an argument renamed upstream fails loudly before any run: `python -m engine.signature_check [trl|vllm|all]`.

The arguments come from the same option builders the code calls (configs.grpo_options, vllm_*.engine_options, ...),
never from a copy kept here. TRL/PEFT are checked on any machine; vLLM where it is installed (scripts/gpu-check.sh).
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def accepted_names(target: Any) -> set[str] | None:
    """The keyword names `target` (a class or function) accepts; None when it takes any (`**kwargs` with no
    known destination)."""
    if dataclasses.is_dataclass(target):
        return {f.name for f in dataclasses.fields(target) if f.init}
    fields = getattr(
        target, "__struct_fields__", None
    )  # msgspec structs (vLLM's SamplingParams, LoRARequest)
    if fields is not None:
        return set(fields)
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def unknown_arguments(what: str, names: Iterable[str], accepted: set[str] | None) -> list[str]:
    """One problem line per name that `accepted` lacks (nothing when the target takes any keyword)."""
    if accepted is None:
        return []
    return [f"{what} has no argument {name!r}" for name in sorted(set(names) - accepted)]


def check_trl() -> list[str]:
    """GRPOConfig, LoraConfig and GRPOTrainer against what configs.py and the worker pass, in every mode."""
    from peft import LoraConfig
    from trl import GRPOConfig, GRPOTrainer

    from engine.config import TrainingSettings
    from engine.training.configs import grpo_options, lora_options, trainer_options

    modes = {
        "CPU": (TrainingSettings(report_to=["tensorboard"]), False),
        "GPU": (TrainingSettings(), True),
        "GPU + vLLM colocate": (TrainingSettings(use_vllm=True), True),
        "GPU + vLLM server": (TrainingSettings(use_vllm=True, vllm_mode="server"), True),
    }
    problems: list[str] = []
    config_fields = accepted_names(GRPOConfig)
    for mode, (settings, gpu) in modes.items():
        options = grpo_options(settings, Path("out"), gpu=gpu)
        problems += unknown_arguments(f"trl.GRPOConfig ({mode})", options, config_fields)
    problems += unknown_arguments(
        "peft.LoraConfig", lora_options(TrainingSettings()), accepted_names(LoraConfig)
    )
    problems += unknown_arguments(
        "trl.GRPOTrainer", trainer_options(*[None] * 7), accepted_names(GRPOTrainer.__init__)
    )
    return problems


def _engine_names() -> set[str] | None:
    """What `vllm.LLM(...)` accepts: its own parameters plus EngineArgs' fields (where its **kwargs go)."""
    from vllm import LLM

    own = accepted_names(LLM.__init__)
    if own is not None:
        return own
    from vllm.engine.arg_utils import EngineArgs

    own_names = {
        p.name
        for p in inspect.signature(LLM.__init__).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    }
    return own_names | (accepted_names(EngineArgs) or set())


def _lora_ranks_vllm_takes() -> set[int] | None:
    try:
        from vllm.config.lora import MaxLoRARanks
    except ImportError:
        return None
    return {int(v) for v in typing.get_args(MaxLoRARanks)}


def check_vllm() -> list[str]:
    """LLM, SamplingParams, structured outputs, LoRARequest, LLM.chat/generate, the LoRA ranks and TRL's vLLM
    arguments against the installed vLLM."""
    from vllm import LLM, SamplingParams

    from engine.backends import vllm_instructor, vllm_solver
    from engine.models import GEMMA3, SMOLLM2, resolve_model

    problems: list[str] = []
    engine = _engine_names()
    instructor = vllm_instructor.engine_options(resolve_model(SMOLLM2), 4096, 0.4)
    problems += unknown_arguments("vllm.LLM (instructor)", instructor, engine)
    solver = vllm_solver.engine_options(
        resolve_model(GEMMA3), adapter=None, n_ctx=4096, lora_rank=16, gpu_memory_utilization=0.4
    )
    problems += unknown_arguments(
        "vllm.LLM (solver)", {**solver, "enable_lora": True, "max_lora_rank": 16}, engine
    )
    sampling = accepted_names(SamplingParams)
    problems += unknown_arguments(
        "vllm.SamplingParams (instructor)", vllm_instructor.sampling_options(0.7, 8, 0), sampling
    )
    problems += unknown_arguments(
        "vllm.SamplingParams (solver)",
        vllm_solver.sampling_options(2, 0.7, 0.95, 8, 0, ["\n"]),
        sampling,
    )
    try:
        from vllm.sampling_params import StructuredOutputsParams

        problems += unknown_arguments(
            "vllm StructuredOutputsParams", ["json"], accepted_names(StructuredOutputsParams)
        )
        problems += unknown_arguments("vllm.SamplingParams", ["structured_outputs"], sampling)
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        problems += unknown_arguments(
            "vllm GuidedDecodingParams", ["json"], accepted_names(GuidedDecodingParams)
        )
        problems += unknown_arguments("vllm.SamplingParams", ["guided_decoding"], sampling)
    from vllm.lora.request import LoRARequest

    positional = list(getattr(LoRARequest, "__struct_fields__", ()))[:3]
    if positional and positional != ["lora_name", "lora_int_id", "lora_path"]:
        problems.append(
            f"vllm LoRARequest's first fields are {positional}, not lora_name, lora_int_id, lora_path"
        )
    problems += unknown_arguments("vllm.LLM.chat", ["use_tqdm"], accepted_names(LLM.chat))
    problems += unknown_arguments(
        "vllm.LLM.generate", ["lora_request", "use_tqdm"], accepted_names(LLM.generate)
    )
    ranks = _lora_ranks_vllm_takes()
    if ranks is not None and not set(vllm_solver.LORA_RANKS) <= ranks:
        problems.append(
            f"vLLM takes max_lora_rank in {sorted(ranks)}; vllm_solver.LORA_RANKS has "
            f"{sorted(set(vllm_solver.LORA_RANKS) - ranks)} beyond it"
        )
    return problems


CHECKS: dict[str, Callable[[], list[str]]] = {"trl": check_trl, "vllm": check_vllm}


def main(argv: list[str]) -> int:
    names = list(CHECKS) if not argv or argv == ["all"] else argv
    failed = False
    for name in names:
        if name not in CHECKS:
            print(f"error: unknown check {name!r}\n  fix: use one of {', '.join(CHECKS)} or all")
            return 2
        try:
            problems = CHECKS[name]()
        except ImportError as exc:
            problems = [
                f"{name} cannot be checked: {exc} (install it: pip install 'sdrl-studio[gpu]')"
            ]
        for problem in problems:
            print(f"error: {problem}")
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
