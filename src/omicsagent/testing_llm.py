"""Fakes for the LLM brain, offline: a scripted "model" and a local OpenAI-compatible HTTP server.

A ``Playbook`` maps each step to the list of replies a model gives in one agent run; reply ``i`` answers the
request that already holds ``i`` assistant messages, so the script is stateless and the same step can run
in every iteration. Strings in arguments may use ``{iter_dir}``, ``{train_file}``, ``{validation_features}``
and ``{iteration}``, read from the step prompt.

    server = FakeOpenAIServer(Playbook({"exploration": [call("bash", command="head inputs/train.csv"),
                                                        final(summary="...", findings=[])]}))
    with server:
        config = load_llm_config(model="openai:gpt-4.1", base_url=server.url)

The same playbook drives pydantic-ai's ``FunctionModel`` through ``playbook_model(playbook)``. Faults
(``fault(500)``, ``fault(429)``, ``garbage()``) queued with ``server.inject`` answer the next requests first.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OUTPUT_TOOL = "final_result"  # pydantic-ai's name for the structured-answer tool
_MARKER = re.compile(r"^omicsagent-([a-z-]+): (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Reply:
    """One model turn: tool calls (name, arguments as dict or raw JSON text) and/or text."""

    calls: tuple[tuple[str, dict[str, Any] | str], ...] = ()
    text: str | None = None


@dataclass(frozen=True)
class Fault:
    """An HTTP failure: a status code with a JSON error, or a 200 whose body is not JSON."""

    status: int = 500
    body: str = '{"error": {"message": "scripted failure", "type": "server_error"}}'
    retry_after: float | None = None
    delay_s: float = 0.0  # wait this long before answering (to provoke client timeouts)


def call(tool: str, **args: Any) -> Reply:
    return Reply(calls=((tool, args),))


def final(**fields: Any) -> Reply:
    """The structured answer of a step."""
    return Reply(calls=((OUTPUT_TOOL, fields),))


def raw_call(tool: str, arguments: str) -> Reply:
    """A tool call whose arguments are sent verbatim (e.g. broken JSON, as weak local models produce)."""
    return Reply(calls=((tool, arguments),))


def text(content: str) -> Reply:
    return Reply(text=content)


def fault(status: int = 500, *, retry_after: float | None = None) -> Fault:
    return Fault(status=status, retry_after=retry_after)


def slow(delay_s: float) -> Fault:
    """A normal-looking error answer that arrives after ``delay_s`` seconds (clients time out first)."""
    return Fault(status=500, delay_s=delay_s)


def garbage() -> Fault:
    return Fault(status=200, body="<html>this is not the JSON you are looking for")


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, v in values.items():
            value = value.replace("{" + key + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


Scripted = Reply | Callable[[dict[str, str]], Reply]


@dataclass
class Playbook:
    """Replies per step; a step missing from the book answers with ``default`` (or fails loudly)."""

    steps: dict[str, Sequence[Scripted]]
    default: Scripted | None = None
    seen: list[tuple[str, int]] = field(default_factory=list)  # (step, turn) of every answered request

    def reply(self, prompt: str, turn: int) -> Reply:
        values = {m.group(1).replace("-", "_"): m.group(2).strip() for m in _MARKER.finditer(prompt)}
        step = values.get("step", "")
        self.seen.append((step, turn))
        script = self.steps.get(step)
        if not script:
            if self.default is None:
                return text(f"(no scripted reply for step {step!r})")
            item = self.default
        else:
            item = script[min(turn, len(script) - 1)]
        reply = item(values) if callable(item) else item
        calls = tuple(
            (name, _fill(args, values) if isinstance(args, dict) else args) for name, args in reply.calls
        )
        return Reply(calls=calls, text=reply.text)


# ----- pydantic-ai FunctionModel -----------------------------------------------------------------------

def playbook_model(playbook: Playbook, *, model_name: str = "scripted"):
    """A pydantic-ai ``FunctionModel`` that plays ``playbook``."""
    from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
    from pydantic_ai.models.function import FunctionModel

    def respond(messages: list, info: Any) -> ModelResponse:
        prompt = ""
        for m in messages:
            if isinstance(m, ModelRequest):
                prompt = next((str(p.content) for p in m.parts if isinstance(p, UserPromptPart)), "")
                if prompt:
                    break
        turn = sum(isinstance(m, ModelResponse) for m in messages)
        reply = playbook.reply(prompt, turn)
        parts: list[Any] = [TextPart(reply.text)] if reply.text else []
        parts += [ToolCallPart(name, args) for name, args in reply.calls]
        return ModelResponse(parts=parts or [TextPart("")])

    return FunctionModel(respond, model_name=model_name)


# ----- OpenAI-compatible HTTP server -------------------------------------------------------------------

REJECTED_KEY = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                          "code": "invalid_api_key"}}


class FakeOpenAIServer:
    """Serves ``POST /v1/chat/completions`` (and ``GET /v1/models``) on 127.0.0.1 from a playbook, in a
    background thread. With ``api_key``, any request without ``Authorization: Bearer <api_key>`` gets the
    401 a real provider gives for a wrong key."""

    def __init__(self, playbook: Playbook, *, model_name: str = "gpt-4.1",
                 usage: tuple[int, int] = (1000, 100), api_key: str | None = None) -> None:
        self.playbook = playbook
        self.model_name = model_name
        self.usage = usage  # (prompt_tokens, completion_tokens) reported per response
        self.api_key = api_key
        self.listings = 0  # GET /v1/models answered (with any status)
        self.requests: list[dict[str, Any]] = []  # bodies received
        self.headers: list[dict[str, str]] = []
        self.responses = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def inject(self, faults: Sequence[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def start(self) -> FakeOpenAIServer:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # called by the handler thread
    def _rejects(self, headers: dict[str, str]) -> bool:
        if self.api_key is None:
            return False
        sent = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        return sent != f"Bearer {self.api_key}"

    def list_models(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.listings += 1
        if self._rejects(headers):
            return 401, {"Content-Type": "application/json"}, json.dumps(REJECTED_KEY).encode()
        model = {"id": self.model_name, "object": "model", "created": 1_700_000_000, "owned_by": "tests"}
        data = {"object": "list", "data": [model]}
        return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()

    def answer(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            pending = self._faults.popleft() if self._faults else None
        if self._rejects(headers):
            return 401, {"Content-Type": "application/json"}, json.dumps(REJECTED_KEY).encode()
        if pending is not None:
            if pending.delay_s:
                time.sleep(pending.delay_s)
            extra = {"Retry-After": str(pending.retry_after)} if pending.retry_after is not None else {}
            ctype = "application/json" if pending.body.startswith("{") else "text/html"
            return pending.status, {"Content-Type": ctype, **extra}, pending.body.encode()
        messages = body.get("messages", [])
        prompt = next((_content(m) for m in messages if m.get("role") == "user"), "")
        turn = sum(m.get("role") == "assistant" for m in messages)
        reply = self.playbook.reply(prompt, turn)
        with self._lock:
            self.responses += 1
            n = self.responses
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.calls:
            message["tool_calls"] = [
                {"id": f"call_{n}_{i}", "type": "function",
                 "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
                for i, (name, args) in enumerate(reply.calls)]
        data = {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": 1_700_000_000,
                "model": self.model_name,
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if reply.calls else "stop"}],
                "usage": {"prompt_tokens": self.usage[0], "completion_tokens": self.usage[1],
                          "total_tokens": sum(self.usage)}}
        return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names its handlers do_<METHOD>
            if self.path.rstrip("/").endswith("/models"):
                self._send(*server.list_models(dict(self.headers.items())))
            else:
                self._send(404, {"Content-Type": "application/json"}, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"Content-Type": "application/json"}, b'{"error": {"message": "not found"}}')
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"Content-Type": "application/json"}, b'{"error": {"message": "bad json"}}')
                return
            status, headers, payload = server.answer(body, dict(self.headers.items()))
            self._send(status, headers, payload)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    return Handler
