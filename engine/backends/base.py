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


@dataclass(frozen=True)
class Completion:
    """A plain-text prompt the instructor continues (few-shot prompting, `generation.prompting = "fewshot"`),
    cut at the first of `stop`. Small instructors follow a list of examples far better than a chat request for JSON."""

    prompt: str
    stop: tuple[str, ...] = ()


Request = Messages | Completion
"""One instructor request: chat messages, or a plain-text prompt to continue."""


def without_schema(sampling: Sampling) -> Sampling:
    """The sampling of a plain-text completion: a JSON schema does not apply."""
    plain = sampling.copy()
    plain["json_schema"] = None
    return plain


class Instructor(Protocol):
    """Writes questions, rewrites and votes. One instance per process per model (loading is expensive)."""

    name: str

    def complete(self, request: Completion, **sampling: Unpack[Sampling]) -> str:
        """The continuation of a plain-text prompt (`json_schema` does not apply)."""

    def complete_many(
        self, requests: Sequence[Completion], **sampling: Unpack[Sampling]
    ) -> list[str]:
        """Many continuations; batched in one call where the backend supports it (vLLM)."""

    def stream_complete(self, request: Completion, **sampling: Unpack[Sampling]) -> Iterator[str]:
        """The continuation piece by piece (previews)."""

    def chat(self, messages: Messages, **sampling: Unpack[Sampling]) -> str:
        """One reply. With `json_schema` the reply is constrained to JSON matching it (where the backend can)."""

    def chat_many(self, requests: Sequence[Messages], **sampling: Unpack[Sampling]) -> list[str]:
        """Many replies; batched in one call where the backend supports it (vLLM), else sequential."""

    def stream(self, messages: Messages, **sampling: Unpack[Sampling]) -> Iterator[str]:
        """The reply piece by piece as it is generated (previews)."""

    def close(self) -> None: ...


class OneAtATime:
    """`chat_many`/`complete_many` for backends that answer one request at a time (llama.cpp, an OpenAI-compatible server)."""

    def chat_many(
        self: Instructor, requests: Sequence[Messages], **sampling: Unpack[Sampling]
    ) -> list[str]:
        return [self.chat(m, **nth_request(sampling, i)) for i, m in enumerate(requests)]

    def complete_many(
        self: Instructor, requests: Sequence[Completion], **sampling: Unpack[Sampling]
    ) -> list[str]:
        return [self.complete(c, **nth_request(sampling, i)) for i, c in enumerate(requests)]


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string (backends that stop late, or not at all, agree with those that stop)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))
    return text[:cut]


def ask(instructor: Instructor, request: Request, **sampling: Unpack[Sampling]) -> str:
    """One reply to a chat request or a plain-text prompt."""
    if isinstance(request, Completion):
        return cut_at_stop(instructor.complete(request, **sampling), request.stop)
    return instructor.chat(request, **sampling)


def ask_many(
    instructor: Instructor, requests: Sequence[Request], **sampling: Unpack[Sampling]
) -> list[str]:
    """Replies to requests of one kind (all chat or all plain-text), in one batched call where the backend can."""
    if not requests:
        return []
    if all(isinstance(r, Completion) for r in requests):
        completions = [r for r in requests if isinstance(r, Completion)]
        replies = instructor.complete_many(completions, **sampling)
        return [cut_at_stop(t, c.stop) for t, c in zip(replies, completions, strict=True)]
    if any(isinstance(r, Completion) for r in requests):
        raise ValueError("a batch of instructor requests mixes chat and plain-text prompts")
    return instructor.chat_many([r for r in requests if not isinstance(r, Completion)], **sampling)


def ask_stream(
    instructor: Instructor, request: Request, **sampling: Unpack[Sampling]
) -> Iterator[str]:
    """A reply piece by piece; a plain-text prompt's stream ends at its first stop string."""
    if not isinstance(request, Completion):
        yield from instructor.stream(request, **sampling)
        return
    seen = ""
    for piece in instructor.stream_complete(request, **sampling):
        kept = cut_at_stop(seen + piece, request.stop)
        if len(kept) > len(seen):
            yield kept[len(seen) :]
        if len(kept) < len(seen) + len(piece):
            return
        seen = kept


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
