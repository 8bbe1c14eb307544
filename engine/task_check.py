"""Combinations in a valid task definition that cannot work: formats, demos and checker that disagree.

One function, used by `sdrl task check` and the studio's Task screen alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError


@dataclass(frozen=True)
class TaskProblem:
    field: str
    title: str
    hint: str


def task_problems(task: Any) -> list[TaskProblem]:
    """What the answer type's checker cannot read in the task's own output format and demos."""
    from engine.answers import task_checker

    try:
        checker = task_checker(task)
    except ConfigError as exc:  # a custom checker that cannot be imported
        return [TaskProblem("checker", exc.title, exc.hint)]
    example = checker.render(_example_answer(task))
    problems = []
    if checker.extract(task.output_format) is None:
        problems.append(
            TaskProblem(
                "output_format",
                f"the output format has no example the {task.answer_type} checker can read",
                f"end output_format with an example answer written as {example!r}, "
                "or change answer_type to match the format",
            )
        )
    unreadable = [
        i for i, demo in enumerate(task.demos, start=1) if checker.extract(demo.output) is None
    ]
    if unreadable:
        problems.append(
            TaskProblem(
                "demos",
                f"the {task.answer_type} checker cannot read the answer of demo(s) {unreadable}",
                f"end each demo's output with its answer written as {example!r}",
            )
        )
    return problems


def _example_answer(task: Any) -> str:
    if task.answer_type == "multiple_choice":
        return str(task.choices[0]) if task.choices else "A"
    return "42"
