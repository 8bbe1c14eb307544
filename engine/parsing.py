"""Parse instructor replies (JSON objects) into typed values; malformed replies become counted failures, never exceptions.

Model output is only ever parsed as data (json.loads), never executed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_REPLY_CHARS = 100_000
"""Longer replies are refused outright: a runaway generation is a failure, not a sample."""
MAX_FIELD_CHARS = 8_000

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    """Short, countable: empty, too_long, not_json, not_object, missing_field, empty_field, field_too_long,
    no_answer (a few-shot reply without "Answer:")."""
    detail: str = ""


@dataclass(frozen=True)
class GeneratedSample:
    input: str
    output: str
    answer: str = ""
    """The separate final-answer field, when the reply has one."""


@dataclass(frozen=True)
class Keywords:
    domain: str
    terms: tuple[str, ...]

    def query(self) -> str:
        return " ".join((self.domain, *self.terms))


@dataclass(frozen=True)
class VoteReply:
    reasoning: str
    answer: str


def load_object(text: Any) -> dict[str, Any] | ParseFailure:
    """The JSON object in a reply: the whole reply, a fenced block, or the first `{...}` span."""
    if not isinstance(text, str) or not text.strip():
        return ParseFailure("empty")
    if len(text) > MAX_REPLY_CHARS:
        return ParseFailure("too_long", f"{len(text)} characters")
    candidates = [text.strip()]
    fenced = _FENCE.match(text)
    if fenced:
        candidates.append(fenced.group(1))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate, strict=False)  # raw newlines inside strings are common
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
        return ParseFailure("not_object", type(value).__name__)
    return ParseFailure("not_json", text[:80])


def close_truncated(text: str) -> str:
    """Close the strings, arrays and objects a reply cut off by max_tokens left open (for lists such as keywords)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    tail = text + ('"' if in_string else "")
    tail = tail.rstrip().rstrip(",:").rstrip()
    return tail + "".join(reversed(stack))


def _field(obj: dict[str, Any], name: str, *, required: bool = True) -> str | ParseFailure:
    if name not in obj or obj[name] is None:
        return ParseFailure("missing_field", name) if required else ""
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ParseFailure("missing_field", f"{name} is {type(value).__name__}, not text")
    text = str(value).strip() if isinstance(value, str) else _number_text(value)
    if required and not text:
        return ParseFailure("empty_field", name)
    if len(text) > MAX_FIELD_CHARS:
        return ParseFailure("field_too_long", f"{name}: {len(text)} characters")
    return text


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def parse_sample(text: Any) -> GeneratedSample | ParseFailure:
    """A generated example `{"input": ..., "output": ...}`, with an optional `answer` field."""
    obj = load_object(text)
    if isinstance(obj, ParseFailure):
        return obj
    question = _field(obj, "input")
    if isinstance(question, ParseFailure):
        return question
    answer = _field(obj, "output")
    if isinstance(answer, ParseFailure):
        return answer
    final = _field(obj, "answer", required=False)
    return GeneratedSample(question, answer, "" if isinstance(final, ParseFailure) else final)


MIN_QUESTION_CHARS = 10
"""A few-shot question shorter than this is no question (the JSON schema's minLength for "input")."""


def parse_fewshot_sample(text: Any) -> GeneratedSample | ParseFailure:
    """A few-shot continuation of "Question:": the question, then "Answer:" and the output (cut at the
    stop strings already). Nothing but text is read."""
    if not isinstance(text, str) or not text.strip():
        return ParseFailure("empty")
    question, sep, output = text.partition("Answer:")
    question, output = question.strip(), output.strip()
    if not sep:
        return ParseFailure("no_answer", 'the reply has no "Answer:" after the question')
    if len(question) < MIN_QUESTION_CHARS:
        return ParseFailure("empty_field", f"question of {len(question)} characters")
    if not output:
        return ParseFailure("empty_field", "output")
    for name, value in (("question", question), ("output", output)):
        if len(value) > MAX_FIELD_CHARS:
            return ParseFailure("field_too_long", f"{name}: {len(value)} characters")
    return GeneratedSample(question, output)


def parse_keywords(text: Any, limit: int = 10) -> Keywords | ParseFailure:
    """`{"domain": ..., "keywords": [...]}`; non-text terms are dropped, duplicates removed; a cut-off list is closed."""
    obj = load_object(text)
    if isinstance(obj, ParseFailure) and obj.reason == "not_json":
        obj = load_object(close_truncated(text))
    if isinstance(obj, ParseFailure):
        return obj
    domain = _field(obj, "domain")
    if isinstance(domain, ParseFailure):
        return domain
    raw = obj.get("keywords")
    terms: list[str] = []
    if isinstance(raw, list):
        pieces = [p for item in raw if isinstance(item, str) for p in re.split(r"[,;]", item)]
        for piece in pieces:
            term = " ".join(piece.split())
            if term and len(term) <= 80 and term.casefold() not in {t.casefold() for t in terms}:
                terms.append(term)
    return Keywords(" ".join(domain.split())[:200], tuple(terms[:limit]))


def parse_vote(text: Any) -> VoteReply | ParseFailure:
    """`{"reasoning": ..., "answer": ...}`; the answer may be a JSON number or text."""
    obj = load_object(text)
    if isinstance(obj, ParseFailure):
        return obj
    answer = _field(obj, "answer")
    if isinstance(answer, ParseFailure):
        return answer
    reasoning = _field(obj, "reasoning", required=False)
    if isinstance(reasoning, ParseFailure):
        reasoning = ""
    return VoteReply(reasoning, answer)


def parse_text(text: Any, field: str = "pattern") -> str | ParseFailure:
    """A single text field, e.g. the demo pattern summary."""
    obj = load_object(text)
    if isinstance(obj, ParseFailure):
        return obj
    return _field(obj, field)


# No maxLength anywhere: llama.cpp expands it into nested optional rules, which is very slow or
# crashes (segfault) for long limits. Runaway replies are cut by max_tokens and counted instead.


KEYWORDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "domain": {"type": "string", "minLength": 1},
        "keywords": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "maxItems": 10,
        },
    },
    "required": ["domain", "keywords"],
}

PATTERN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"pattern": {"type": "string", "minLength": 1}},
    "required": ["pattern"],
}


def vote_schema(answer_type: str, choices: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Reasoning first (so the answer follows it), then an answer typed by the task's answer type."""
    answer: dict[str, Any] = {"type": "string", "minLength": 1}
    if answer_type == "numeric":
        answer = {"type": "number"}
    elif answer_type == "multiple_choice" and choices:
        answer = {"type": "string", "enum": list(choices)}
    return {
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, "answer": answer},
        "required": ["reasoning", "answer"],
    }
