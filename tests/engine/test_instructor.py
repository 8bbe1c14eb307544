"""Instructor backends: the real bundled GGUF via llama.cpp, an OpenAI-compatible HTTP server, bad models, vLLM (GPU)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.backends.base import Completion, ask, ask_many, ask_stream
from engine.backends.instructor import clear_cache, get_instructor
from engine.backends.openai_instructor import OpenAIInstructor
from engine.config import TaskDefinition
from engine.errors import BackendError, ModelError
from engine.parsing import KEYWORDS_SCHEMA, Keywords, parse_keywords


def _task(**models: object) -> TaskDefinition:
    return TaskDefinition(
        name="t",
        description="Add numbers.",
        output_format="#### N",
        answer_type="numeric",
        models=models,
    )


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict], dict]]:
    seen: list[dict] = []
    behaviour = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body | {"_path": self.path})
            plain = not self.path.endswith(
                "/chat/completions"
            )  # /completions: a prompt to continue
            if behaviour["status"] != 200:
                self.send_response(behaviour["status"])
                self.end_headers()
                return
            content = '{"domain": "math", "keywords": ["sum"]}'
            self.send_response(200)
            if body.get("stream"):
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in (content[:10], content[10:]):
                    choice = {"text": piece} if plain else {"delta": {"content": piece}}
                    self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            choice = {"text": content} if plain else {"message": {"content": content}}
            payload = json.dumps({"choices": [choice]}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen, behaviour
    httpd.shutdown()
    httpd.server_close()


def test_openai_chat_stream_and_request_shape(server) -> None:  # type: ignore[no-untyped-def]
    url, seen, _ = server
    instructor = OpenAIInstructor(url, "my-model", api_key="k")
    reply = instructor.chat(
        [{"role": "user", "content": "hi"}],
        temperature=0.3,
        max_tokens=20,
        seed=7,
        json_schema=KEYWORDS_SCHEMA,
    )
    assert parse_keywords(reply) == Keywords("math", ("sum",))
    assert seen[0]["model"] == "my-model" and seen[0]["seed"] == 7 and seen[0]["temperature"] == 0.3
    assert seen[0]["response_format"]["json_schema"]["schema"] == KEYWORDS_SCHEMA
    pieces = list(
        instructor.stream([{"role": "user", "content": "hi"}], temperature=0.0, max_tokens=20)
    )
    assert len(pieces) == 2 and "".join(pieces) == reply
    assert instructor.chat_many(
        [[{"role": "user", "content": "a"}]] * 2, temperature=0.0, max_tokens=5, seed=1
    ) == [reply, reply]
    assert [b["seed"] for b in seen[-2:]] == [1, 2]
    instructor.close()


def test_openai_plain_text_completions_for_fewshot_prompting(server) -> None:  # type: ignore[no-untyped-def]
    url, seen, _ = server
    instructor = OpenAIInstructor(url, "my-model")
    request = Completion("Question: 1 + 1?\nAnswer: 2\n\nQuestion:", ("\n\n", "\nQuestion:"))
    reply = instructor.complete(
        request, temperature=0.5, max_tokens=30, seed=3, json_schema=KEYWORDS_SCHEMA
    )
    assert reply == '{"domain": "math", "keywords": ["sum"]}'
    body = seen[-1]
    assert body["_path"] == "/v1/completions" and body["prompt"] == request.prompt
    assert body["stop"] == ["\n\n", "\nQuestion:"] and body["seed"] == 3
    assert "messages" not in body and "response_format" not in body  # a schema does not apply
    assert "".join(instructor.stream_complete(request, temperature=0.0, max_tokens=5)) == reply
    assert seen[-1]["stream"] is True and seen[-1]["_path"] == "/v1/completions"
    assert instructor.complete_many([request] * 2, temperature=0.0, max_tokens=5, seed=1) == [
        reply,
        reply,
    ]
    assert [b["seed"] for b in seen[-2:]] == [1, 2]
    # ask() cuts a reply at the first stop string, whether or not the server stopped there
    cut = Completion("x", ('"keywords"',))
    assert ask(instructor, cut, temperature=0.0, max_tokens=5) == '{"domain": "math", '
    assert (
        "".join(ask_stream(instructor, cut, temperature=0.0, max_tokens=5)) == '{"domain": "math", '
    )
    with pytest.raises(ValueError, match="mixes"):
        ask_many(
            instructor, [cut, [{"role": "user", "content": "x"}]], temperature=0.0, max_tokens=5
        )
    instructor.close()


def test_openai_failing_server_is_retried_a_bounded_number_of_times(server) -> None:  # type: ignore[no-untyped-def]
    url, seen, behaviour = server
    behaviour["status"] = 503
    instructor = OpenAIInstructor(url, "m", retries=2)
    with pytest.raises(BackendError) as err:
        instructor.chat([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=5)
    assert len(seen) == 2
    assert url in err.value.title and "openai_base_url" in err.value.hint
    with pytest.raises(
        BackendError
    ):  # a stream that cannot start is retried the same bounded number of times
        list(instructor.stream([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=5))
    assert len(seen) == 4


def test_openai_json_object_form_for_llama_cpp_servers(server) -> None:  # type: ignore[no-untyped-def]
    url, seen, _ = server
    instructor = OpenAIInstructor(url, "m", response_format="json_object")
    instructor.chat(
        [{"role": "user", "content": "x"}],
        temperature=0.0,
        max_tokens=5,
        json_schema=KEYWORDS_SCHEMA,
    )
    assert seen[-1]["response_format"] == {"type": "json_object", "schema": KEYWORDS_SCHEMA}
    instructor.chat([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=5)
    assert "response_format" not in seen[-1]  # no schema, no constraint
    instructor.close()


def test_openai_unreachable_server_is_a_clear_backend_error() -> None:
    instructor = OpenAIInstructor("http://127.0.0.1:9/v1", "m", retries=1)
    with pytest.raises(BackendError, match="unreachable"):
        instructor.chat([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=5)
    with pytest.raises(BackendError, match="unreachable"):
        list(instructor.stream([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=5))


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    clear_cache()
    with pytest.raises(ModelError, match="not a GGUF"):
        get_instructor(_task(instructor=str(fake)))


@pytest.mark.slow
def test_bundled_gguf_json_schema_chat_and_stream() -> None:
    clear_cache()
    task = _task()
    instructor = get_instructor(task)
    assert get_instructor(task) is instructor  # loaded once per process
    messages = [
        {
            "role": "user",
            "content": "Give the domain and three keywords for: grade school math word problems.",
        }
    ]
    reply = instructor.chat(
        messages, temperature=0.0, max_tokens=64, seed=0, json_schema=KEYWORDS_SCHEMA
    )
    assert isinstance(parse_keywords(reply), Keywords), reply
    pieces = list(
        instructor.stream(
            messages, temperature=0.0, max_tokens=64, seed=0, json_schema=KEYWORDS_SCHEMA
        )
    )
    assert len(pieces) > 3  # token by token
    assert isinstance(parse_keywords("".join(pieces)), Keywords)


@pytest.mark.gpu
def test_vllm_instructor_batches_a_stage() -> None:
    clear_cache()
    instructor = get_instructor(_task(instructor_backend="vllm"))
    replies = instructor.chat_many(
        [[{"role": "user", "content": f"Keywords for topic {i}"}] for i in range(4)],
        temperature=0.7,
        max_tokens=64,
        seed=1,
        json_schema=KEYWORDS_SCHEMA,
    )
    assert len(replies) == 4 and all(isinstance(parse_keywords(r), Keywords) for r in replies)
