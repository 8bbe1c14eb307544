"""The vLLM solver (GPU): every prompt x n in one batched call; LoRA adapters through LoRARequest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from engine.backends.base import Decoding, DecodingArgs
from engine.errors import BackendError
from engine.models import ModelRef, hf_folder

LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
"""The max_lora_rank values vLLM accepts; anything else is refused when the engine starts."""


def vllm_lora_rank(rank: int) -> int:
    """The smallest rank vLLM accepts that holds a LoRA of `rank` (vLLM pads smaller adapters)."""
    for allowed in LORA_RANKS:
        if allowed >= rank:
            return allowed
    raise BackendError(
        f"LoRA rank {rank} is above the largest vLLM serves ({LORA_RANKS[-1]})",
        'train with a smaller training.lora_rank, or use models.solver_backend = "transformers"',
    )


def adapter_rank(adapter: Path) -> int | None:
    """The rank `r` an adapter folder was trained with (its adapter_config.json), if readable."""
    try:
        return int(
            json.loads((Path(adapter) / "adapter_config.json").read_text(encoding="utf-8"))["r"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def engine_options(
    ref: ModelRef,
    *,
    adapter: Path | None,
    n_ctx: int,
    lora_rank: int,
    gpu_memory_utilization: float,
) -> dict[str, Any]:
    """Keyword arguments of `vllm.LLM` for the solver (checked against vLLM by engine/signature_check.py)."""
    from engine.backends.gguf_tokenizer import tokenizer_folder

    options: dict[str, Any] = {
        "model": str(hf_folder(ref)),
        "tokenizer": str(tokenizer_folder(ref)),
        "max_model_len": n_ctx,
        "seed": 0,
        "gpu_memory_utilization": gpu_memory_utilization,
    }
    if adapter is not None:
        rank = max(lora_rank, adapter_rank(adapter) or 0)
        options.update(enable_lora=True, max_lora_rank=vllm_lora_rank(rank))
    return options


def sampling_options(
    n: int, temperature: float, top_p: float, max_tokens: int, seed: int | None, stop: list[str]
) -> dict[str, Any]:
    """Keyword arguments of `vllm.SamplingParams` for one solver call."""
    return {
        "n": n,
        "temperature": temperature,
        "top_p": top_p if temperature > 0 else 1.0,
        "max_tokens": max_tokens,
        "seed": seed,
        "stop": stop or None,
    }


class VllmSolver:
    def __init__(
        self,
        ref: ModelRef,
        *,
        adapter: Path | None = None,
        stop: Sequence[str] = (),
        n_ctx: int = 4096,
        lora_rank: int = 16,
        gpu_memory_utilization: float = 0.4,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError(
                "vLLM is not installed",
                'pip install "sdrl-studio[gpu]" on a CUDA machine, '
                'or set models.solver_backend = "transformers"',
            ) from exc
        self.name = f"vllm:{ref.key}" + (f"+{adapter}" if adapter else "")
        self.stop = list(stop)
        self.adapter = Path(adapter) if adapter else None
        options = engine_options(
            ref,
            adapter=self.adapter,
            n_ctx=n_ctx,
            lora_rank=lora_rank,
            gpu_memory_utilization=gpu_memory_utilization,
        )
        try:
            self.llm: Any = LLM(**options)
        except (RuntimeError, ValueError, OSError) as exc:
            raise BackendError(
                f"vLLM cannot start on {ref.path}: {exc}",
                "check the GPU memory and the model folder",
            ) from exc

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        tokenizer = self.llm.get_tokenizer()
        if not getattr(tokenizer, "chat_template", None):
            raise BackendError(
                f"{self.name} has no chat template", 'set models.prompt_format = "plain"'
            )
        return str(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )

    def generate(self, prompts: Sequence[str], **decoding: Unpack[DecodingArgs]) -> list[list[str]]:
        from vllm import SamplingParams

        d = Decoding(**decoding)
        params = SamplingParams(
            **sampling_options(d.n, d.temperature, d.top_p, d.max_tokens, d.seed, self.stop)
        )
        lora = None
        if self.adapter is not None:
            from vllm.lora.request import LoRARequest

            lora = LoRARequest("adapter", 1, str(self.adapter))
        results = self.llm.generate(list(prompts), params, lora_request=lora, use_tqdm=False)
        return [[c.text for c in r.outputs] for r in results]

    def close(self) -> None:
        self.llm = None
