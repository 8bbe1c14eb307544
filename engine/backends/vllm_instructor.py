"""An instructor on a local GPU with vLLM's offline engine: every prompt of a stage in one batched call (optional extra)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Unpack

from engine.backends.base import Completion, Messages, Sampling, nth_request, without_schema
from engine.errors import BackendError
from engine.models import ModelRef, hf_folder


def engine_options(
    ref: ModelRef, max_model_len: int, gpu_memory_utilization: float
) -> dict[str, Any]:
    """Keyword arguments of `vllm.LLM` for the instructor (checked against vLLM by engine/signature_check.py)."""
    return {
        "model": str(hf_folder(ref)),
        "max_model_len": max_model_len,
        "enable_prefix_caching": True,
        "gpu_memory_utilization": gpu_memory_utilization,
    }


def sampling_options(
    temperature: float, max_tokens: int, seed: int | None, stop: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Keyword arguments of `vllm.SamplingParams` for one instructor request."""
    options: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    if stop:
        options["stop"] = list(stop)
    return options


class VllmInstructor:
    name = "vllm"

    def __init__(
        self, ref: ModelRef, max_model_len: int = 4096, *, gpu_memory_utilization: float = 0.4
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError(
                "The vllm instructor backend needs vLLM, which is not installed",
                "pip install 'sdrl-studio[gpu]' on a machine with a CUDA GPU, or use instructor_backend = \"llamacpp\"",
            ) from exc
        self.llm = LLM(**engine_options(ref, max_model_len, gpu_memory_utilization))

    def _params(
        self,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
        stop: tuple[str, ...] = (),
    ) -> Any:
        from vllm import SamplingParams

        extra: dict[str, Any] = {}
        if json_schema is not None:
            try:
                from vllm.sampling_params import StructuredOutputsParams

                extra["structured_outputs"] = StructuredOutputsParams(json=json_schema)
            except ImportError:  # older vLLM
                from vllm.sampling_params import GuidedDecodingParams

                extra["guided_decoding"] = GuidedDecodingParams(json=json_schema)
        return SamplingParams(**sampling_options(temperature, max_tokens, seed, stop), **extra)

    def chat_many(self, requests: Sequence[Messages], **sampling: Unpack[Sampling]) -> list[str]:
        if not requests:
            return []
        # one SamplingParams per request: identical prompts (votes) need different seeds to differ
        params = [self._params(**nth_request(sampling, i)) for i in range(len(requests))]
        outputs = self.llm.chat(list(requests), params, use_tqdm=False)
        return [o.outputs[0].text if o.outputs else "" for o in outputs]

    def chat(self, messages: Messages, **sampling: Unpack[Sampling]) -> str:
        return self.chat_many([messages], **sampling)[0]

    def stream(self, messages: Messages, **sampling: Unpack[Sampling]) -> Iterator[str]:
        # the offline engine has no token stream; the whole reply arrives as one piece
        yield self.chat(messages, **sampling)

    def complete_many(
        self, requests: Sequence[Completion], **sampling: Unpack[Sampling]
    ) -> list[str]:
        if not requests:
            return []
        params = [
            self._params(**without_schema(nth_request(sampling, i)), stop=r.stop)
            for i, r in enumerate(requests)
        ]
        outputs = self.llm.generate([r.prompt for r in requests], params, use_tqdm=False)
        return [o.outputs[0].text if o.outputs else "" for o in outputs]

    def complete(self, request: Completion, **sampling: Unpack[Sampling]) -> str:
        return self.complete_many([request], **sampling)[0]

    def stream_complete(self, request: Completion, **sampling: Unpack[Sampling]) -> Iterator[str]:
        yield self.complete(request, **sampling)

    def close(self) -> None:
        del self.llm
