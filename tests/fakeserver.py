"""A scripted OpenAI-compatible server over real HTTP on 127.0.0.1 (stdlib only).

In tests (through the `fake_server` fixture in tests/conftest.py):

    fake_server.add(FakeTurn(reasoning="think", content="hello", prompt_tokens=12))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "a.py"})]))
    fake_server.add(FakeTurn(status=429, retry_after=2))          # fault: HTTP error
    fake_server.add(FakeTurn(content="x", cut_after=3))            # fault: connection cut
    model = resolve_model("gpt-oss-20b", api_base=fake_server.url)
    ...
    fake_server.chat_bodies[-1]["messages"]; fake_server.requests[0].headers["authorization"]

Each POST /v1/chat/completions pops the next turn (from the queue for the request's model if
one was given with `add(..., model=...)`, else the shared queue). Streams are SSE over chunked
transfer encoding, with text and reasoning in small pieces, tool-call arguments across several
chunks (id and name only in the first), a finish chunk, a usage chunk (choices: []) when the
request asked for it, then `data: [DONE]`. Each event is written in two halves so clients must
reassemble lines split across network reads. With no turn left the server answers 400.

As a process (for subprocess end-to-end tests):

    python tests/fakeserver.py --script turns.json --port 0 --log requests.jsonl
    -> prints "READY http://127.0.0.1:PORT/v1"; turns.json is a list of turn objects (fields
       as in FakeTurn, tool_calls as [{"name", "arguments"}]) or {"turns": [...],
       "by_model": {"model-name": [...]}, "models": [...]}.
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

try:  # as a module in tests, or run as a script from tests/
    from fakehosts import MISCONFIGS, SHAPES, HostShape, echoed_reasoning, rejection, shape_usage
    from fakehosts import local_route, overflow_answer  # issue 18: local servers
except ImportError:  # pragma: no cover
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from fakehosts import MISCONFIGS, SHAPES, HostShape, echoed_reasoning, rejection, shape_usage
    from fakehosts import local_route, overflow_answer  # issue 18: local servers
from fake_responses import response_events, sse  # noqa: E402 - beside fakehosts, same path

KEEPALIVE = b": OPENROUTER PROCESSING\n\n"


@dataclass
class FakeToolCall:
    name: str
    arguments: str | dict = "{}"
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class FakeTurn:
    content: str = ""
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"  # or "reasoning" (OpenRouter, Groq, Ollama)
    tool_calls: list[FakeToolCall] = field(default_factory=list)
    prompt_tokens: int = 10
    completion_tokens: int = 5
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float | None = None  # OpenRouter-style usage.cost
    finish_reason: str | None = None  # default: "tool_calls" if tool_calls else "stop"
    # Faults.
    status: int | None = None  # answer with this HTTP status and an OpenAI error body
    error_message: str = "fake error"
    error_type: str = "invalid_request_error"
    retry_after: float | str | None = None  # Retry-After header with `status`
    delay_first_byte: float = 0.0
    chunk_delay: float = 0.0  # pause between SSE events
    cut_after: int | None = None  # close the connection after N data events, no [DONE]
    framing: str = "chunked"  # or "close": no transfer encoding, body ends at close
    malformed_at: int | None = None  # a broken JSON data event at this position
    stream_error_at: int | None = None  # an in-stream {"error": ...} event at this position
    stream_error_code: int | str = "server_error"
    keepalive: int = 0  # this many `: OPENROUTER PROCESSING` comments, first and mid-stream
    piece: int = 3  # characters per text/reasoning chunk
    arg_pieces: int = 3  # chunks each tool call's arguments are split into
    usage: bool | None = None  # None: send usage iff the request asked (stream_options)
    # Shapes for the turn's recovery and limits (bounded: a stream stops by itself after
    # `hang_limit` seconds, or when the client goes away).
    error_body: dict | None = None  # with `status`: this JSON body instead of the default
    stream_error_body: dict | None = None  # with `stream_error_at`: this event instead
    same_index: bool = False  # every tool call streamed under index 0 (parallel calls)
    omit_ids: bool = False  # tool calls without ids
    raw_usage: dict | None = None  # this usage object as sent (NaN, negative, huge...)
    endless: bool = False  # after the content, text pieces every chunk_delay, never finishing
    trickle: float = 0.0  # after the content, one byte every `trickle` s, never finishing
    trickle_text: bool = False  # the trickled byte is a text delta, not an SSE comment
    hang_limit: float = 30.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FakeTurn":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown turn fields: {sorted(unknown)}")
        data = dict(data)
        data["tool_calls"] = [
            tc if isinstance(tc, FakeToolCall) else FakeToolCall(**tc)
            for tc in data.get("tool_calls", [])
        ]
        return cls(**data)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    raw: bytes = b""
    received_at: float = field(default_factory=time.time)  # wall clock, for launch benchmarks


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _split_n(text: str, n: int) -> list[str]:
    if not text:
        return [""]
    step = max(1, -(-len(text) // max(1, n)))
    return _split(text, step)


class FakeOpenAIServer:
    def __init__(
        self,
        turns: Iterable[FakeTurn] = (),
        *,
        port: int = 0,
        models: Iterable[str] = ("gpt-oss-20b", "gpt-oss-120b", "o4-mini"),
        require_key: str | None = None,
        log_path: str | None = None,
        host: str | None = None,
        misconfig: str | None = None,
    ) -> None:
        if host is not None and host not in SHAPES:
            raise ValueError(f"unknown host shape {host!r}: one of {sorted(SHAPES)}")
        if misconfig is not None and misconfig not in MISCONFIGS:
            raise ValueError(f"unknown misconfig {misconfig!r}: one of {sorted(MISCONFIGS)}")
        # Answer as this real host does (tests/fakehosts.py); None: the plain fake.
        self.shape: HostShape | None = SHAPES[host] if host else None
        self.misconfig = misconfig
        # Per chat request: the reasoning the host read back from its assistant tool-call messages.
        self.echoed: list[list[str]] = []
        self._lock = threading.Lock()
        self._queue: deque[FakeTurn] = deque(turns)
        self._by_model: dict[str, deque[FakeTurn]] = {}
        self._requests: list[RecordedRequest] = []
        self._delivered: list[dict[str, Any] | None] = []
        self._conns: set[socket.socket] = set()
        self._counter = 0
        self.models = list(models)
        self.require_key = require_key
        self.log_path = log_path
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeOpenAIServer":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", self._port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # unblock handler threads idling on keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The API base, as clients want it: http://127.0.0.1:PORT/v1"""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------------------------
    def add(self, *turns: FakeTurn | dict, model: str | None = None) -> "FakeOpenAIServer":
        parsed = [t if isinstance(t, FakeTurn) else FakeTurn.from_dict(t) for t in turns]
        with self._lock:
            (self._by_model.setdefault(model, deque()) if model else self._queue).extend(parsed)
        return self

    def remaining(self) -> int:
        with self._lock:
            return len(self._queue) + sum(len(q) for q in self._by_model.values())

    def _next_turn(self, model: Any) -> FakeTurn | None:
        with self._lock:
            queue = self._by_model.get(model) if isinstance(model, str) else None
            if queue:
                return queue.popleft()
            return self._queue.popleft() if self._queue else None

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    # -- recorded traffic --------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """The model turns asked for (chat completions, Responses), in arrival order: not a
        loopback probe's GET /v1/models or POST /api/show (providers/localserver.py)."""
        return [r for r in self.requests if r.method == "POST"
                and r.path.rstrip("/").endswith(("/chat/completions", "/responses"))]

    @property
    def chat_bodies(self) -> list[Any]:
        """Parsed bodies of the chat-completion requests, in arrival order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def _deliver(self, usage: dict[str, Any] | None) -> None:
        with self._lock:
            self._delivered.append(usage)

    @property
    def delivered_usage(self) -> list[dict[str, Any] | None]:
        """Usage of every stream that reached [DONE], in order (None where none was sent)."""
        with self._lock:
            return list(self._delivered)

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as fh:
                    entry = {"method": req.method, "path": req.path, "headers": req.headers,
                             "body": req.body}
                    fh.write(json.dumps(entry) + "\n")


def _chunk(cid: str, model: str, delta: dict | None, finish: str | None = None, **extra: Any) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": choices, **extra}


def _usage(turn: FakeTurn) -> dict[str, Any]:
    if turn.raw_usage is not None:
        return turn.raw_usage
    usage: dict[str, Any] = {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
    }
    if turn.cost is not None:
        usage["cost"] = turn.cost
    return usage


def _finish(turn: FakeTurn) -> str:
    return turn.finish_reason or ("tool_calls" if turn.tool_calls else "stop")


def stream_events(turn: FakeTurn, body: dict[str, Any], n: int,
                  shape: HostShape | None = None) -> list[dict | str]:
    """The SSE data payloads for a turn (dicts, or raw strings for faults), before [DONE]."""
    cid, model = f"chatcmpl-fake-{n}", str(body.get("model", "fake"))
    events: list[dict | str] = [_chunk(cid, model, {"role": "assistant", "content": ""})]
    rfield = turn.reasoning_field if shape is None else shape.reasoning_field
    if rfield:  # OpenAI streams no reasoning text at all
        events += [_chunk(cid, model, {rfield: p}) for p in _split(turn.reasoning, turn.piece)]
    events += [_chunk(cid, model, {"content": p}) for p in _split(turn.content, turn.piece)]
    for i, tc in enumerate(turn.tool_calls):
        index = 0 if turn.same_index else i
        first = {"index": index, "id": tc.id or f"call_{n}_{i}", "type": "function",
                 "function": {"name": tc.name, "arguments": ""}}
        if turn.omit_ids:
            del first["id"]
        events.append(_chunk(cid, model, {"tool_calls": [first]}))
        for piece in _split_n(tc.arguments_json, turn.arg_pieces):
            events.append(_chunk(cid, model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    events.append(_chunk(cid, model, {}, _finish(turn)))
    wants = bool((body.get("stream_options") or {}).get("include_usage"))
    if shape is not None and turn.usage is not False:
        events = shape_usage(shape, events, _usage(turn))  # type: ignore[arg-type]
    elif turn.usage if turn.usage is not None else wants:
        events.append(_chunk(cid, model, None, usage=_usage(turn)))
    if turn.endless or turn.trickle:
        # Never finishes: no finish chunk, no usage.
        return [e for e in events if not _is_finish(e) and not (isinstance(e, dict) and e.get("usage"))]
    if turn.stream_error_at is not None:
        err = turn.stream_error_body or {"error": {"code": turn.stream_error_code,
                                                   "message": turn.error_message}}
        events.insert(turn.stream_error_at, err)
    if turn.malformed_at is not None:
        events.insert(turn.malformed_at, '{"choices": [{"delta": {"content": "trunc')
    return events


def _is_finish(event: Any) -> bool:
    return isinstance(event, dict) and any(c.get("finish_reason") for c in event.get("choices") or ())


def completion(turn: FakeTurn, body: dict[str, Any], n: int,
               shape: HostShape | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.content or None}
    rfield = turn.reasoning_field if shape is None else shape.reasoning_field
    if turn.reasoning and rfield:
        message[rfield] = turn.reasoning
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": tc.id or f"call_{n}_{i}", "type": "function",
             "function": {"name": tc.name, "arguments": tc.arguments_json}}
            for i, tc in enumerate(turn.tool_calls)
        ]
    return {"id": f"chatcmpl-fake-{n}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(turn)}],
            "usage": _usage(turn)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping connections (cut streams, timeouts) is routine here, not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the second waits for the client's
    # delayed ACK (about 40 ms a response on loopback), which no real server pays.
    disable_nagle_algorithm = True
    fake: FakeOpenAIServer  # set on the per-server subclass
    timeout = 30  # idle keep-alive connections go away on their own

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._conns.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, etype: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": {"message": message, "type": etype, "code": None}}, headers)

    def _record(self, body: Any, raw: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(RecordedRequest(self.command, self.path, headers, body, raw))

    def do_GET(self) -> None:
        self._record(None, b"")
        shape = self.fake.shape
        if shape is not None and (answer := local_route(shape, "GET", self.path, None, self.fake.models)):
            return self._json(*answer)  # a local server's /props, /api/ps, /api/v0/models
        if shape is not None and shape.name == "ollama" and not self.path.startswith("/v1/"):
            return self._text(404, "404 page not found")  # Ollama's router outside /v1
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.fake.models]
            if shape is not None and shape.ctx_at == "max_model_len":  # vLLM lists its window
                data = [{**d, "max_model_len": shape.n_ctx} for d in data]
            self._json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        self._record(body, raw)
        shape = self.fake.shape
        if shape is not None and (answer := local_route(shape, "POST", self.path, body, self.fake.models)):
            return self._json(*answer)  # a local server's tokenizer and model info
        if shape is not None and shape.name == "ollama" and not self.path.startswith("/v1/"):
            return self._text(404, "404 page not found")  # Ollama's router outside /v1 and /api
        responses = self.path.rstrip("/").endswith("/responses")  # tests/fake_responses.py
        if not responses and not self.path.rstrip("/").endswith("/chat/completions"):
            return self._error(404, f"no route {self.path}", "not_found")
        if not isinstance(body, dict):
            return self._error(400, "request body is not a JSON object", "invalid_request_error")
        key = self.fake.require_key
        if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.fake.misconfig and body.get("tools"):
            return self._json(*MISCONFIGS[self.fake.misconfig])
        if shape is not None:
            refused = rejection(shape, body) or overflow_answer(shape, body)
            if refused is not None:
                return self._json(*refused)
            if shape.refuses_streamed_tools and body.get("stream") and body.get("tools"):
                return self._stream_refusal(shape.refuses_streamed_tools)
            with self.fake._lock:
                self.fake.echoed.append(echoed_reasoning(shape, body))
        turn = self.fake._next_turn(body.get("model"))
        if turn is None:
            return self._error(400, "fake server: no scripted turn left", "script_exhausted")
        n = self.fake._next_id()
        if turn.delay_first_byte:
            time.sleep(turn.delay_first_byte)
        if turn.status is not None:
            headers = {} if turn.retry_after is None else {"Retry-After": str(turn.retry_after)}
            if turn.error_body is not None:
                return self._json(turn.status, turn.error_body, headers)
            return self._error(turn.status, turn.error_message, turn.error_type, headers)
        if responses:
            return self._stream_responses(turn, body, n)
        if not body.get("stream"):
            return self._json(200, completion(turn, body, n, shape))
        self._stream(turn, body, n)

    def _stream_refusal(self, error: dict) -> None:
        """200, then one error event (llama-cpp-python refusing streamed tool calls)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(b"data: " + json.dumps(error).encode() + b"\n\n")
        self.wfile.flush()

    def _stream_responses(self, turn: FakeTurn, body: dict[str, Any], n: int) -> None:
        """The Responses API stream (always streamed here: Codex only streams)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            events = response_events(turn, body, n)
            for event in events:
                data = sse(event)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.fake._deliver(events[-1]["response"]["usage"])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _hang(self, turn: FakeTurn, write: Any, body: dict[str, Any], n: int) -> None:
        self.close_connection = True
        _hang_loop(turn, write, body, n)

    def _stream(self, turn: FakeTurn, body: dict[str, Any], n: int) -> None:
        chunked = turn.framing == "chunked"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

        def write(data: bytes) -> None:
            # Two writes per event: the client sees lines split across reads.
            for part in (data[: len(data) // 2], data[len(data) // 2 :]):
                if chunked:
                    part = b"%x\r\n%s\r\n" % (len(part), part) if part else b""
                self.wfile.write(part)
                self.wfile.flush()

        try:
            events = stream_events(turn, body, n, self.fake.shape)
            mid = len(events) // 2
            for _ in range(turn.keepalive):
                write(KEEPALIVE)
            for i, event in enumerate(events):
                if turn.cut_after is not None and i >= turn.cut_after:
                    self.close_connection = True
                    return  # no terminal chunk, no [DONE]: the client sees a cut stream
                if turn.chunk_delay and i:
                    time.sleep(turn.chunk_delay)
                if turn.keepalive and i == mid:
                    write(KEEPALIVE)
                payload = event if isinstance(event, str) else json.dumps(event)
                write(b"data: " + payload.encode() + b"\n\n")
            if turn.endless or turn.trickle:
                return self._hang(turn, write, body, n)
            write(b"data: [DONE]\n\n")
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            sent = [e["usage"] for e in events if isinstance(e, dict) and e.get("usage")]
            self.fake._deliver(sent[-1] if sent else None)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (timeouts, cancellation)


def _hang_loop(turn: FakeTurn, write: Any, body: dict[str, Any], n: int) -> None:
    """Never finish: text pieces (endless) or one byte at a time (trickle), bounded in time."""
    cid, model = f"chatcmpl-fake-{n}", str(body.get("model", "fake"))
    end = time.monotonic() + turn.hang_limit
    while time.monotonic() < end:
        if turn.endless:
            write(b"data: " + json.dumps(_chunk(cid, model, {"content": turn.content or "x"})).encode() + b"\n\n")
            time.sleep(max(turn.chunk_delay, 0.005))
            continue
        time.sleep(turn.trickle)
        if turn.trickle_text:
            write(b"data: " + json.dumps(_chunk(cid, model, {"content": "."})).encode() + b"\n\n")
        else:
            write(b":\n")  # an SSE comment line: bytes, but no event


def _load_script(path: str) -> tuple[list[dict], dict[str, list[dict]], list[str] | None]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, list):
        return data, {}, None
    return data.get("turns", []), data.get("by_model", {}), data.get("models")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scripted OpenAI-compatible server for tests")
    ap.add_argument("--script", help="JSON file with the turns to serve")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", help="append every request as a JSON line to this file")
    ap.add_argument("--require-key", help="answer 401 unless this bearer key is sent")
    ap.add_argument("--host", choices=sorted(SHAPES), help="answer as this real host does")
    ap.add_argument("--misconfig", choices=sorted(MISCONFIGS), help="a misconfigured server")
    args = ap.parse_args(argv)
    turns, by_model, models = _load_script(args.script) if args.script else ([], {}, None)
    server = FakeOpenAIServer(port=args.port, require_key=args.require_key, log_path=args.log,
                              host=args.host, misconfig=args.misconfig,
                              **({"models": models} if models else {}))
    server.add(*turns)
    for name, model_turns in by_model.items():
        server.add(*model_turns, model=name)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    print(f"READY {server.url}", flush=True)
    try:
        while not done.wait(0.2):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

