"""The two backend interfaces. Implementations: instructor llamacpp/openai/vllm; solver transformers/vllm/llamacpp."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Required, TypedDict, Unpack

Messages = list[dict[str, str]]


def _never() -> bool:
    return False


_cancel_check: Callable[[], bool] = _never


def cancel_solvers_when(check: Callable[[], bool]) -> None:
    """The process's stop check (the stage's Ctrl-C/SIGTERM flag): a solver call in flight ends within a
    token of it turning true and raises Interrupted, so a stop never waits for a whole batch."""
    global _cancel_check
    _cancel_check = check


def cancel_requested() -> bool:
    return _cancel_check()


def raise_if_cancelled(what: str) -> None:
    """After a solver call: if it was cut short by a stop, its (partial) output must not be kept."""
    if _cancel_check():
        from engine.errors import Interrupted

        raise Interrupted(what)


class Sampling(TypedDict, total=False):
    """The sampling keywords of every instructor call, defined once for the protocol and its backends."""

    temperature: Required[float]
    max_tokens: Required[int]
    seed: int | None
    """The request's seed (None: the backend's own randomness); in chat_many, request i gets seed + i."""
    json_schema: dict[str, Any] | None
    """Constrain the reply to JSON matching this schema (where the backend can)."""


def nth_request(sampling: Sampling, i: int) -> Sampling:
    """The sampling of request `i` of a batch: seed + i, so identical prompts (votes) still differ."""
    seed = sampling.get("seed")
    return {**sampling, "seed": None if seed is None else seed + i}


class Instructor(Protocol):
    """Writes questions, rewrites and votes. One instance per process per model (loading is expensive)."""

    name: str

    def chat(self, messages: Messages, **sampling: Unpack[Sampling]) -> str:
        """One reply. With `json_schema` the reply is constrained to JSON matching it (where the backend can)."""

    def chat_many(self, requests: Sequence[Messages], **sampling: Unpack[Sampling]) -> list[str]:
        """Many replies; batched in one call where the backend supports it (vLLM), else sequential."""

    def stream(self, messages: Messages, **sampling: Unpack[Sampling]) -> Iterator[str]:
        """The reply piece by piece as it is generated (previews)."""

    def close(self) -> None: ...


class OneAtATime:
    """`chat_many` for backends that answer one request at a time (llama.cpp, an OpenAI-compatible server)."""

    def chat_many(
        self: Instructor, requests: Sequence[Messages], **sampling: Unpack[Sampling]
    ) -> list[str]:
        return [self.chat(m, **nth_request(sampling, i)) for i, m in enumerate(requests)]


class DecodingArgs(TypedDict, total=False):
    """The keywords of `Solver.generate`; `Decoding` gives their defaults."""

    n: int
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None


@dataclass(frozen=True)
class Decoding:
    """How a solver samples: `n` completions per prompt; temperature 0 = greedy."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("n must be at least 1")


class Solver(Protocol):
    """The base model: answers questions for probing, scoring and evaluation."""

    name: str

    def generate(self, prompts: Sequence[str], **decoding: Unpack[DecodingArgs]) -> list[list[str]]:
        """For each prompt, `n` completions (completion text only, never the prompt); see Decoding."""

    def close(self) -> None: ...
