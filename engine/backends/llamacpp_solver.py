"""The llama.cpp solver: a GGUF base model on CPU, one completion at a time (llama.cpp does not batch sequences)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from engine.backends.base import Decoding, DecodingArgs, cancel_requested, raise_if_cancelled
from engine.backends.hf_solver import cut_at_stop
from engine.errors import BackendError, ModelError
from engine.models import ModelRef


def _cancel(input_ids: Any, logits: Any) -> bool:
    return cancel_requested()


class LlamaCppSolver:
    def __init__(
        self,
        ref: ModelRef,
        *,
        adapter: Path | None = None,
        stop: Sequence[str] = (),
        n_ctx: int = 4096,
        threads: int | None = None,
    ) -> None:
        if ref.kind != "gguf":
            raise ModelError(
                f"The llamacpp solver needs a GGUF file, and {ref.path} is an HF folder",
                'set models.solver_backend = "transformers" for HF folders',
            )
        if adapter is not None:
            raise BackendError(
                "The llamacpp solver cannot apply a PEFT LoRA adapter",
                'evaluate adapters with models.solver_backend = "transformers" or "vllm"',
            )
        from engine.backends.llamacpp_instructor import default_threads, open_llama

        self.name = f"llamacpp:{ref.key}"
        self.max_batch = 1  # one sequence at a time: callers commit after each prompt
        self.stop = list(stop)
        n = threads or default_threads()
        self.llm: Any = open_llama(ref, n_ctx, n, n)
        from llama_cpp import StoppingCriteriaList

        self._cancel = StoppingCriteriaList([_cancel])  # checked after every token

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        raise BackendError(
            "The llamacpp solver prompts by plain completion only",
            'set models.prompt_format = "plain", or use the transformers backend for chat',
        )

    def generate(self, prompts: Sequence[str], **decoding: Unpack[DecodingArgs]) -> list[list[str]]:
        d = Decoding(**decoding)
        out: list[list[str]] = []
        for p_idx, prompt in enumerate(prompts):
            texts = []
            for i in range(d.n):
                reply = self.llm.create_completion(
                    prompt,
                    max_tokens=d.max_tokens,
                    temperature=d.temperature,
                    top_p=d.top_p,
                    stop=self.stop or None,
                    seed=None if d.seed is None else d.seed + p_idx * d.n + i,
                    stopping_criteria=self._cancel,
                )
                raise_if_cancelled("the stage")
                texts.append(cut_at_stop(str(reply["choices"][0]["text"]), self.stop, prompt))
            out.append(texts)
        return out

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None
