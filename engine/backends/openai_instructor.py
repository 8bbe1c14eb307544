"""An instructor behind any OpenAI-compatible chat server (llama.cpp server, vLLM serve, hosted APIs), over plain HTTP."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any, Unpack

from engine.backends.base import Completion, Messages, OneAtATime, Sampling
from engine.errors import BackendError

RETRIES = 3
"""Bounded: a failing server is reported after this many tries, never retried forever."""


class OpenAIInstructor(OneAtATime):
    """Requests go one at a time (the server may batch concurrent clients; a stage is one client)."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = RETRIES,
        response_format: str = "json_schema",
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.retries = max(1, retries)
        self.response_format = response_format
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    @classmethod
    def from_settings(cls, settings: Any) -> OpenAIInstructor:
        return cls(
            settings.openai_base_url,
            settings.openai_model,
            os.environ.get(settings.openai_api_key_env),
            response_format=settings.openai_response_format,
        )

    def _sampled(
        self, temperature: float, max_tokens: int, seed: int | None = None, **content: Any
    ) -> dict[str, Any]:
        """The fields every request has (model, sampling), plus `content` (messages, or a prompt and stops)."""
        body: dict[str, Any] = {
            "model": self.model,
            **content,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if seed is not None:
            body["seed"] = seed
        return body

    def _body(
        self,
        messages: Messages,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = self._sampled(temperature, max_tokens, seed, messages=messages)
        if json_schema is not None and self.response_format == "json_object":
            body["response_format"] = {"type": "json_object", "schema": json_schema}
        elif json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": json_schema},
            }
        return body

    def _unreachable(self, exc: Exception) -> BackendError:
        return BackendError(
            f"The OpenAI-compatible server at {self.base_url} is unreachable or failing ({type(exc).__name__}: {exc})",
            "start the server, or fix models.openai_base_url in task.toml (it should end in /v1)",
        )

    def _completion_body(
        self,
        request: Completion,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A /completions request (a plain-text prompt to continue; no response format applies)."""
        stop = (
            {"stop": list(request.stop)[:4]} if request.stop else {}
        )  # the API takes at most four
        return self._sampled(temperature, max_tokens, seed, prompt=request.prompt, **stop)

    def _post(self, body: dict[str, Any], path: str = "/chat/completions") -> dict[str, Any]:
        import httpx

        last: Exception | None = None
        for attempt in range(self.retries):
            try:
                response = self.client.post(path, json=body)
                if response.status_code >= 500 or response.status_code == 429:
                    raise httpx.HTTPStatusError(
                        f"HTTP {response.status_code}", request=response.request, response=response
                    )
                if response.status_code >= 400:
                    raise BackendError(
                        f"The server at {self.base_url} refused the request: HTTP {response.status_code} {response.text[:300]}",
                        "check models.openai_model and the API key variable models.openai_api_key_env",
                    )
                return response.json()
            except (httpx.TransportError, httpx.HTTPStatusError, json.JSONDecodeError) as exc:
                last = exc
                time.sleep(min(2.0, 0.25 * 2**attempt))
        assert last is not None
        raise self._unreachable(last)

    def chat(self, messages: Messages, **sampling: Unpack[Sampling]) -> str:
        data = self._post(self._body(messages, **sampling))
        try:
            return data["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            return ""  # a malformed reply is an unparseable item, counted by the stage

    def complete(self, request: Completion, **sampling: Unpack[Sampling]) -> str:
        data = self._post(self._completion_body(request, **sampling), "/completions")
        try:
            return data["choices"][0].get("text") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            return ""  # a malformed reply is an unparseable item, counted by the stage

    def stream(self, messages: Messages, **sampling: Unpack[Sampling]) -> Iterator[str]:
        body = {**self._body(messages, **sampling), "stream": True}
        return self._stream("/chat/completions", body)

    def stream_complete(self, request: Completion, **sampling: Unpack[Sampling]) -> Iterator[str]:
        body = {**self._completion_body(request, **sampling), "stream": True}
        return self._stream("/completions", body)

    def _stream(self, path: str, body: dict[str, Any]) -> Iterator[str]:
        import httpx

        last: Exception | None = None
        for attempt in range(self.retries):
            started = False
            try:
                with self.client.stream("POST", path, json=body) as response:
                    if response.status_code >= 500 or response.status_code == 429:
                        last = httpx.HTTPStatusError(
                            f"HTTP {response.status_code}",
                            request=response.request,
                            response=response,
                        )
                        time.sleep(min(2.0, 0.25 * 2**attempt))
                        continue
                    if response.status_code >= 400:
                        raise BackendError(
                            f"The server at {self.base_url} answered HTTP {response.status_code}",
                            "check models.openai_model and models.openai_response_format",
                        )
                    for piece in _stream_pieces(response.iter_lines()):
                        started = True
                        yield piece
                    return
            except httpx.TransportError as exc:
                if (
                    started
                ):  # half a reply cannot be continued: the caller gets an error, not a retry
                    raise self._unreachable(exc) from exc
                last = exc
                time.sleep(min(2.0, 0.25 * 2**attempt))
        assert last is not None
        raise self._unreachable(last)

    def close(self) -> None:
        self.client.close()


def _stream_pieces(lines: Iterator[str]) -> Iterator[str]:
    """The content pieces of a server-sent-events stream (chat deltas or completion text), up to `[DONE]`;
    malformed events are skipped."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            choice = json.loads(payload)["choices"][0]
            piece = choice["delta"].get("content") if "delta" in choice else choice.get("text")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue
        if piece:
            yield piece
