"""The reply parser: well-formed, malformed and hostile instructor replies; a hypothesis fuzz run of thousands."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.parsing import (
    MAX_REPLY_CHARS,
    GeneratedSample,
    Keywords,
    ParseFailure,
    VoteReply,
    load_object,
    parse_fewshot_sample,
    parse_keywords,
    parse_sample,
    parse_text,
    parse_vote,
)


def test_sample_plain_fenced_and_embedded() -> None:
    good = {"input": "How many apples are left?", "output": "3 - 1 = 2\n#### 2", "answer": 2}
    for text in (
        json.dumps(good),
        f"```json\n{json.dumps(good)}\n```",
        f"Sure! {json.dumps(good)} Hope it helps.",
    ):
        parsed = parse_sample(text)
        assert parsed == GeneratedSample("How many apples are left?", "3 - 1 = 2\n#### 2", "2")


def test_raw_newlines_inside_strings_are_accepted() -> None:
    parsed = parse_sample('{"input": "line one\nline two", "output": "x"}')
    assert isinstance(parsed, GeneratedSample) and parsed.input == "line one\nline two"


def test_failures_are_values_with_reasons() -> None:
    cases = {
        "": "empty",
        "   ": "empty",
        "not json at all": "not_json",
        "[1, 2]": "not_object",
        '{"input": "q"}': "missing_field",
        '{"input": "", "output": "a"}': "empty_field",
        '{"input": ["list"], "output": "a"}': "missing_field",
        '{"input": "q", "output": "' + "x" * 9000 + '"}': "field_too_long",
        "{" * 5000: "not_json",
        "x" * (MAX_REPLY_CHARS + 1): "too_long",
    }
    for text, reason in cases.items():
        result = parse_sample(text)
        assert isinstance(result, ParseFailure), text[:40]
        assert result.reason == reason, (text[:40], result)
    assert parse_sample(None).reason == "empty"  # type: ignore[arg-type,union-attr]


def test_fewshot_continuation_is_question_then_answer() -> None:
    reply = " Ann has 7 pens and buys 5 more. How many pens?\nAnswer: 7 + 5 = 12\n#### 12"
    assert parse_fewshot_sample(reply) == GeneratedSample(
        "Ann has 7 pens and buys 5 more. How many pens?", "7 + 5 = 12\n#### 12"
    )
    assert parse_fewshot_sample(" Ann has 7 pens. How many?").reason == "no_answer"  # type: ignore[union-attr]
    assert parse_fewshot_sample(" 7?\nAnswer: 7").reason == "empty_field"  # type: ignore[union-attr]
    assert parse_fewshot_sample(" Ann has 7 pens. How many?\nAnswer:  ").reason == "empty_field"  # type: ignore[union-attr]
    assert parse_fewshot_sample("").reason == "empty"  # type: ignore[union-attr]
    long = parse_fewshot_sample(" Ann has 7 pens?\nAnswer: " + "9" * 9000)
    assert long.reason == "field_too_long"  # type: ignore[union-attr]


def test_deeply_nested_json_does_not_crash() -> None:
    assert isinstance(load_object("[" * 100_000 + "]" * 100_000), ParseFailure)


def test_numbers_become_text_and_zero_is_kept() -> None:
    assert parse_vote('{"reasoning": "none", "answer": 0}') == VoteReply("none", "0")
    assert parse_vote('{"reasoning": "r", "answer": 4.0}') == VoteReply("r", "4")
    assert parse_vote('{"reasoning": "r", "answer": 2.5}') == VoteReply("r", "2.5")
    assert isinstance(parse_vote('{"reasoning": "r", "answer": true}'), ParseFailure)
    assert isinstance(parse_vote('{"reasoning": "r"}'), ParseFailure)


def test_keywords_drop_junk_and_duplicates() -> None:
    parsed = parse_keywords(
        '{"domain": "town math", "keywords": ["bus", "Bus", 3, null, "", "market fares"]}'
    )
    assert parsed == Keywords("town math", ("bus", "market fares"))
    assert parsed.query() == "town math bus market fares"
    assert isinstance(parse_keywords('{"keywords": ["a"]}'), ParseFailure)


def test_keywords_cut_off_by_max_tokens_are_salvaged() -> None:
    parsed = parse_keywords(
        '{ "domain": "school math", "keywords": ["addition, subtraction", "fractions", "multi'
    )
    assert parsed == Keywords("school math", ("addition", "subtraction", "fractions", "multi"))
    assert isinstance(
        parse_sample('{"input": "How many are left after'), ParseFailure
    )  # samples are never patched up


def test_pattern_text() -> None:
    assert parse_text('{"pattern": "two steps"}') == "two steps"
    assert isinstance(parse_text('{"other": 1}'), ParseFailure)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["input", "output", "answer", "reasoning", "domain", "keywords", "x"])
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        json_values.map(lambda v: json.dumps(v)),
        json_values.map(lambda v: "```json\n" + json.dumps(v)[:-1]),
    )
)
def test_fuzz_parsers_never_raise(reply: str) -> None:
    for parse in (parse_sample, parse_vote, parse_keywords, parse_text, parse_fewshot_sample):
        result = parse(reply)
        assert isinstance(result, ParseFailure | GeneratedSample | VoteReply | Keywords | str)
    sample = parse_sample(reply)
    if isinstance(sample, GeneratedSample):
        assert sample.input and sample.output


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_binary_garbage(data: bytes) -> None:
    result = parse_sample(data.decode("latin-1"))
    assert isinstance(result, ParseFailure | GeneratedSample)
