"""The two backend interfaces. Implementations: instructor llamacpp/openai/vllm; solver transformers/vllm/llamacpp."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

Messages = list[dict[str, str]]


class Instructor(Protocol):
    """Writes questions, rewrites and votes. One instance per process per model (loading is expensive)."""

    name: str

    def chat(
        self,
        messages: Messages,
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """One reply. With `json_schema` the reply is constrained to JSON matching it (where the backend can)."""

    def chat_many(
        self,
        requests: Sequence[Messages],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> list[str]:
        """Many replies; batched in one call where the backend supports it (vLLM), else sequential."""

    def stream(
        self,
        messages: Messages,
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """The reply piece by piece as it is generated (previews)."""

    def close(self) -> None: ...


class Solver(Protocol):
    """The base model: answers questions for probing, scoring and evaluation."""

    name: str

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
        """For each prompt, `n` completions (completion text only, never the prompt). temperature 0 = greedy."""

    def close(self) -> None: ...
