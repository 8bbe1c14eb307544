"""Prompt templates live in engine/prompts/*.txt ($placeholders); this module fills them. Parsing lives elsewhere."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from typing import Any

PROMPTS_DIR = Path(__file__).parent / "prompts"


@cache
def template(name: str) -> Template:
    return Template((PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def render(name: str, **values: Any) -> str:
    return template(name).substitute({k: "" if v is None else str(v) for k, v in values.items()})


def solve_prompt(task: Any, question: str) -> str:
    """The base model's prompt for one question, in plain-completion form (the paper's form for base models).

    Used identically by probing, scoring, training and evaluation, so rewards mean the same everywhere.
    """
    # no trailing newline: after "Answer:\n" a base model tends to start the next "Question:" at once
    return render(
        "solve",
        description=task.description.strip(),
        output_format=task.output_format.strip(),
        question=question.strip(),
    ).rstrip()


def solve_messages(task: Any, question: str) -> list[dict[str, str]]:
    """The same request as chat messages, for prompt_format = "chat"."""
    system = f"{task.description.strip()}\n\n{task.output_format.strip()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": question.strip()}]
