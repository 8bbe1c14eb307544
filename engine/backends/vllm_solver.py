"""The vLLM solver (GPU): every prompt x n in one batched call; LoRA adapters through LoRARequest."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import BackendError
from engine.models import ModelRef, hf_folder


class VllmSolver:
    def __init__(
        self,
        ref: ModelRef,
        *,
        adapter: Path | None = None,
        stop: Sequence[str] = (),
        n_ctx: int = 4096,
        max_lora_rank: int = 64,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError(
                "vLLM is not installed",
                'pip install "sdrl-studio[gpu]" on a CUDA machine, '
                'or set models.solver_backend = "transformers"',
            ) from exc
        from engine.backends.gguf_tokenizer import tokenizer_folder

        self.name = f"vllm:{ref.key}" + (f"+{adapter}" if adapter else "")
        self.stop = list(stop)
        self.adapter = Path(adapter) if adapter else None
        options: dict[str, Any] = {
            "model": str(hf_folder(ref)),
            "tokenizer": str(tokenizer_folder(ref)),
            "max_model_len": n_ctx,
            "seed": 0,
        }
        if self.adapter is not None:
            options.update(enable_lora=True, max_lora_rank=max_lora_rank)
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

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_tokens: int = 512,
        seed: int | None = None,
    ) -> list[list[str]]:
        from vllm import SamplingParams

        if n < 1:
            raise ValueError("n must be at least 1")
        params = SamplingParams(
            n=n,
            temperature=temperature,
            top_p=top_p if temperature > 0 else 1.0,
            max_tokens=max_tokens,
            seed=seed,
            stop=self.stop or None,
        )
        lora = None
        if self.adapter is not None:
            from vllm.lora.request import LoRARequest

            lora = LoRARequest("adapter", 1, str(self.adapter))
        results = self.llm.generate(list(prompts), params, lora_request=lora, use_tqdm=False)
        return [[c.text for c in r.outputs] for r in results]

    def close(self) -> None:
        self.llm = None
