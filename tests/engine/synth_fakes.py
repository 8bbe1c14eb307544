"""A scripted instructor for unit tests of the synthesis stages' logic (real stages, real store; no model)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

Reply = Callable[[list[dict[str, str]], int], str]


class ScriptedInstructor:
    """Answers by prompt kind: keywords, pattern, generation and votes; records every call."""

    name = "scripted"

    def __init__(self, generate: Reply | None = None, vote: Reply | None = None) -> None:
        self.calls: list[tuple[str, int | None]] = []
        self.prompts: list[list[dict[str, str]]] = []
        self._generate = generate or (
            lambda m, i: json.dumps(
                {
                    "input": f"Sam has {i + 3} apples and buys 2 more. How many apples now?",
                    "output": f"{i + 3} + 2 = {i + 5}",
                    "answer": i + 5,
                }
            )
        )
        self._vote = vote or (lambda m, i: json.dumps({"reasoning": "add them", "answer": 5}))
        self._n = 0

    def _kind(self, messages: list[dict[str, str]]) -> str:
        text = " ".join(m["content"] for m in messages)
        if '"domain"' in text:
            return "keywords"
        if '"pattern"' in text:
            return "pattern"
        if "Passage:" in text:
            return "generate"
        return "vote"

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        kind = self._kind(messages)
        self.calls.append((kind, seed))
        self.prompts.append(messages)
        self._n += 1
        if kind == "keywords":
            return json.dumps({"domain": "town math", "keywords": ["bus", "fares", "market"]})
        if kind == "pattern":
            return json.dumps({"pattern": "two steps, numeric answer"})
        if kind == "generate":
            return self._generate(messages, sum(1 for k, _ in self.calls if k == "generate") - 1)
        return self._vote(messages, sum(1 for k, _ in self.calls if k == "vote") - 1)

    def chat_many(
        self,
        requests: Sequence[list[dict[str, str]]],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> list[str]:
        return [
            self.chat(
                m,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=None if seed is None else seed + i,
                json_schema=json_schema,
            )
            for i, m in enumerate(requests)
        ]

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        reply = self.chat(
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            json_schema=json_schema,
        )
        for i in range(0, len(reply), 4):
            yield reply[i : i + 4]

    def close(self) -> None:
        pass


def chat_prompting(ws: Any) -> None:
    """The scripted instructors answer chat requests: the workspace's task asks for JSON by chat
    (the demo template's few-shot prompting is tested with the real model in test_fewshot.py)."""
    from engine.task_file import update_task_text

    text = update_task_text(ws.task_file.read_text(), {"generation": {"prompting": "chat"}})
    ws.task_file.write_text(text)


@pytest.fixture(autouse=True)
def _chat_prompting(request: pytest.FixtureRequest) -> None:
    """In modules that import this fixture: their `workspace` asks the instructor by chat."""
    if "workspace" in request.fixturenames:
        chat_prompting(request.getfixturevalue("workspace"))


def use_instructor(monkeypatch: pytest.MonkeyPatch, instructor: Any) -> Any:
    import engine.backends.instructor as factory

    factory.clear_cache()
    monkeypatch.setattr(factory, "_create", lambda task: instructor)
    return instructor
