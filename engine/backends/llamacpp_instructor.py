"""The default instructor: llama-cpp-python on a GGUF, one loaded model per (path, n_ctx, threads) per process."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from typing import Any, Unpack

from engine.backends.base import Completion, Messages, OneAtATime, Sampling, without_schema
from engine.errors import ModelError
from engine.models import ModelRef

REPEAT_PENALTY = 1.1
"""Small models loop ("1, 1, 1, ...") until max_tokens; a mild penalty ends most loops."""
_MODELS: dict[tuple[str, int, int], Any] = {}
_LOCK = threading.Lock()


def default_threads() -> int:
    """Half the logical CPUs (at most 8): llama.cpp's threads spin at barriers, so a thread count that
    fills an already busy machine is many times slower (2 threads on a loaded 2-core box: 1 tok/s vs 16)."""
    return max(1, min((os.cpu_count() or 2) // 2, 8))


def load_llama(ref: ModelRef, n_ctx: int, threads: int | None) -> Any:
    """The process-wide llama.cpp model for this file and settings (loaded on first use, closed at exit)."""
    n_threads = threads or default_threads()
    key = (str(ref.path), n_ctx, n_threads)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        if ref.kind != "gguf":
            raise ModelError(
                f"The llamacpp instructor needs a GGUF file, and {ref.path} is an HF folder",
                "set models.instructor to a .gguf file, or models.instructor_backend to vllm/openai",
            )
        with open(ref.path, "rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelError(
                    f"{ref.path} is not a GGUF model file",
                    "point models.instructor to a .gguf file",
                )
        # reading a prompt is one big matmul per layer, which every core speeds up even on a busy
        # machine; only token-by-token decoding suffers from threads spinning at barriers
        batch_threads = threads or max(1, min(os.cpu_count() or 1, 16))
        model = open_llama(ref, n_ctx, n_threads, batch_threads)
        _MODELS[key] = model
        return model


def open_llama(ref: ModelRef, n_ctx: int, n_threads: int, n_threads_batch: int) -> Any:
    """A new llama.cpp model on the GGUF `ref`; a file llama.cpp cannot load is a ModelError."""
    from llama_cpp import Llama

    try:
        return Llama(
            model_path=str(ref.path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads_batch,
            chat_format=ref.chat_format,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(
            f"llama.cpp cannot load {ref.path}: {exc}",
            "check that the file is a complete GGUF model",
        ) from exc


_MODEL_LOCKS: dict[int, threading.RLock] = {}


def _model_lock(model: Any) -> threading.RLock:
    with _LOCK:
        return _MODEL_LOCKS.setdefault(id(model), threading.RLock())


@atexit.register
def close_all() -> None:
    """Close every loaded model (llama.cpp prints a TypeError at shutdown otherwise)."""
    with _LOCK:
        for model in _MODELS.values():
            with contextlib.suppress(Exception):  # best effort at interpreter exit
                model.close()
        _MODELS.clear()


class LlamaCppInstructor(OneAtATime):
    """Chat with the GGUF's own template (or a forced chat_format); JSON-schema replies via a cached grammar.

    Requests are answered one at a time: llama.cpp decodes one sequence at a time, and shared prompt
    prefixes come from its KV cache."""

    name = "llamacpp"

    def __init__(self, ref: ModelRef, n_ctx: int = 4096, threads: int | None = None) -> None:
        self.ref = ref
        self.llama = load_llama(ref, n_ctx, threads)
        self._grammars: dict[str, Any] = {}
        # one llama.cpp context serves one request at a time (the studio may call from several workers)
        self._busy = _model_lock(self.llama)

    def _grammar(self, schema: dict[str, Any] | None) -> Any:
        if schema is None:
            return None
        key = json.dumps(schema)  # property order matters: fields are written in schema order
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def _kwargs(
        self,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "grammar": self._grammar(json_schema),
            "repeat_penalty": REPEAT_PENALTY,
        }
        if seed is not None:
            kwargs["seed"] = seed & 0x7FFFFFFF
        return kwargs

    def chat(self, messages: Messages, **sampling: Unpack[Sampling]) -> str:
        with self._busy:
            reply = self.llama.create_chat_completion(messages=messages, **self._kwargs(**sampling))
        return reply["choices"][0]["message"].get("content") or ""

    def stream(self, messages: Messages, **sampling: Unpack[Sampling]) -> Iterator[str]:
        with self._busy:
            chunks = self.llama.create_chat_completion(
                messages=messages, stream=True, **self._kwargs(**sampling)
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

    def complete(self, request: Completion, **sampling: Unpack[Sampling]) -> str:
        kwargs = self._kwargs(**without_schema(sampling))
        with self._busy:
            reply = self.llama.create_completion(request.prompt, stop=list(request.stop), **kwargs)
        return reply["choices"][0].get("text") or ""

    def stream_complete(self, request: Completion, **sampling: Unpack[Sampling]) -> Iterator[str]:
        kwargs = self._kwargs(**without_schema(sampling))
        with self._busy:
            chunks = self.llama.create_completion(
                request.prompt, stop=list(request.stop), stream=True, **kwargs
            )
            for chunk in chunks:
                piece = chunk["choices"][0].get("text")
                if piece:
                    yield piece

    def close(self) -> None:
        """Models are shared per process and closed at exit; nothing to do per instance."""
