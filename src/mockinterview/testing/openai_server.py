"""A small OpenAI-compatible HTTP server whose "model" is a script, for tests and benchmarks.

No language model can run on a test machine, so tests talk real HTTP, through the real ``openai``
client, to this server instead: it serves ``GET /v1/models`` and ``POST /v1/chat/completions``
(plain JSON, and Server-Sent Events when ``stream`` is true, ending with ``data: [DONE]``). Each
test scripts what the "model" answers - a queue of :class:`ScriptedReply` or a handler function -
and can inject every fault the interviewer must survive: a reply slower than the client's timeout,
429 with Retry-After, 500/503, a dropped connection, malformed or truncated JSON, empty content, a
refusal, a context-length error, a stream that stops mid-sentence, and a server that rejects the
``json_schema`` response format. Every request received is recorded, so a test can assert on the
prompts the client sent.

Usage::

    with ScriptedOpenAIServer() as srv:
        srv.script(ScriptedReply.text("Why that threshold?"), ScriptedReply.rate_limited(1))
        client = OpenAI(base_url=srv.base_url, api_key="x")
        ...
        assert "BEGIN" in srv.requests[0].prompt_text

HTTP/1.1 with chunked transfer encoding is used for streams, so a stream cut mid-way is a real
protocol error on the client side (an incomplete chunked body), as with a crashed server.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = ["RecordedRequest", "ScriptedOpenAIServer", "ScriptedReply"]

Fault = Literal[
    None,
    "drop",  # close the connection without any response
    "malformed_json",  # 200 with a body that is not JSON
    "truncated_json",  # 200 with a JSON body cut in the middle
    "cut_stream",  # streaming: send part of the content, then close the connection abruptly
    "stream_no_finish",  # streaming: send part of the content, then end cleanly with no finish
]

_TOKEN_RE = re.compile(r"\S+\s*|\s+")


@dataclass
class ScriptedReply:
    """One scripted answer of the "model". Build them with the class methods.

    ``delay_s`` waits before the first byte (a hung model); ``token_delay_s`` (None: the server's
    default) is the time per token, spent between stream chunks or, when not streaming, before the
    whole body (so both modes take the same generation time, as a real server would).
    """

    content: str = ""
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    finish_reason: str = "stop"
    delay_s: float = 0.0
    token_delay_s: float | None = None
    fault: Fault = None
    cut_at: int | None = None  # characters of content sent before a cut_stream / stream_no_finish

    # ---- normal replies
    @classmethod
    def text(cls, content: str, **kw: Any) -> ScriptedReply:
        return cls(content=content, **kw)

    @classmethod
    def json(cls, obj: Any, **kw: Any) -> ScriptedReply:
        return cls(content=json.dumps(obj), **kw)

    # ---- faults
    @classmethod
    def hang(cls, seconds: float) -> ScriptedReply:
        """Answer only after ``seconds``: longer than the client's timeout."""
        return cls(content="too late", delay_s=seconds)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0) -> ScriptedReply:
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls(status=429, headers=headers, error={
            "message": "Rate limit reached for requests", "type": "requests",
            "code": "rate_limit_exceeded"})

    @classmethod
    def server_error(cls, status: int = 500) -> ScriptedReply:
        return cls(status=status, error={"message": f"The server had an error ({status})",
                                         "type": "server_error", "code": None})

    @classmethod
    def drop(cls) -> ScriptedReply:
        return cls(fault="drop")

    @classmethod
    def malformed_json(cls) -> ScriptedReply:
        return cls(fault="malformed_json")

    @classmethod
    def truncated_json(cls) -> ScriptedReply:
        return cls(fault="truncated_json")

    @classmethod
    def empty(cls) -> ScriptedReply:
        return cls(content="")

    @classmethod
    def refusal_reply(cls, text: str = "I'm sorry, I can't help with that.") -> ScriptedReply:
        return cls(content="", refusal=text)

    @classmethod
    def context_too_long(cls) -> ScriptedReply:
        return cls(status=400, error={
            "message": "This model's maximum context length is 8192 tokens. However, your "
                       "messages resulted in 9100 tokens. "
                       "Please reduce the length of the messages.",
            "type": "invalid_request_error", "param": "messages",
            "code": "context_length_exceeded"})

    @classmethod
    def cut_stream(cls, content: str, cut_at: int) -> ScriptedReply:
        """Stream ``content[:cut_at]`` and then drop the connection (a crashed server)."""
        return cls(content=content, fault="cut_stream", cut_at=cut_at)

    @classmethod
    def stream_without_finish(cls, content: str, cut_at: int) -> ScriptedReply:
        """Stream ``content[:cut_at]`` and end the body cleanly without a finish reason."""
        return cls(content=content, fault="stream_no_finish", cut_at=cut_at)


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def prompt_text(self) -> str:
        """All message contents joined: what the model would have read."""
        out = []
        for m in self.messages:
            c = m.get("content")
            if isinstance(c, list):
                c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
            out.append(f"[{m.get('role')}]\n{c or ''}")
        return "\n".join(out)

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))

    @property
    def response_format(self) -> str | None:
        rf = (self.body or {}).get("response_format")
        return rf.get("type") if isinstance(rf, dict) else None


Handler = Callable[[RecordedRequest], ScriptedReply]


class ScriptedOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 (random port) answering from a script.

    ``models``: ids listed by /v1/models; a chat request for another model gets 404.
    ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get 401.
    ``reject_json_schema``: answer 400 to any request with ``response_format`` json_schema, as
    servers without structured output do.
    ``token_delay_s``: default generation time per token.
    ``default``: the reply used when the queue is empty and no handler is set (None: 500, which a
    test sees as a fault). ``port``: 0 picks a free port.
    """

    def __init__(self, *, models: list[str] | None = None, api_key: str | None = None,
                 reject_json_schema: bool = False, token_delay_s: float = 0.0,
                 handler: Handler | None = None, default: ScriptedReply | None = None,
                 port: int = 0):
        self.models = list(models or ["scripted-model"])
        self.api_key = api_key
        self.reject_json_schema = reject_json_schema
        self.token_delay_s = token_delay_s
        self.handler = handler
        self.default = default
        self.requests: list[RecordedRequest] = []
        self._want_port = port
        self._queue: deque[ScriptedReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedOpenAIServer:
        owner = self

        class _Handler(_RequestHandler):
            server_owner = owner

        self._httpd = _QuietServer(("127.0.0.1", self._want_port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-openai",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending delays end at once. Afterwards the port refuses connections."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What to give ``OpenAI(base_url=...)`` or OPENAI_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ scripting

    def script(self, *replies: ScriptedReply) -> None:
        """Append replies to the queue; each chat request takes the next one."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, req: RecordedRequest) -> ScriptedReply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return self.handler(req)
        if self.default is not None:
            return self.default
        return ScriptedReply.server_error(500)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops; False when it stopped."""
        if seconds <= 0:
            return not self._stopping.is_set()
        return not self._stopping.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (their timeout, a dropped stream) are normal here, not errors."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_owner: ScriptedOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        return

    # ------------------------------------------------------------------ plumbing

    def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
        req = RecordedRequest(method=self.command, path=self.path,
                              headers={k.lower(): v for k, v in self.headers.items()},
                              body=body, received=time.monotonic())
        with self.server_owner._lock:
            self.server_owner.requests.append(req)
        return req

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None,
                   raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, status: int, message: str, type_: str, code: str | None = None,
               headers: dict[str, str] | None = None) -> None:
        self._send_json(status, {"error": {"message": message, "type": type_, "param": None,
                                           "code": code}}, headers)

    def _authorised(self) -> bool:
        key = self.server_owner.api_key
        if key is None:
            return True
        if self.headers.get("Authorization", "") == f"Bearer {key}":
            return True
        self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return False

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._record(None)
        if not self._authorised():
            return
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "scripted"}
                for m in self.server_owner.models]})
            return
        self._error(404, f"Unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._record(None)
            self._error(400, "Request body is not JSON", "invalid_request_error")
            return
        req = self._record(body)
        if not self._authorised():
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"Unknown path {self.path}", "invalid_request_error")
            return
        owner = self.server_owner
        model = body.get("model")
        if model not in owner.models:
            self._error(404, f"The model `{model}` does not exist or you do not have access to it.",
                        "invalid_request_error", "model_not_found")
            return
        if owner.reject_json_schema and req.response_format == "json_schema":
            self._error(400, "response_format type 'json_schema' is not supported by this server",
                        "invalid_request_error", "unsupported_response_format")
            return
        reply = owner._next_reply(req)
        try:
            self._answer(reply, model, req.stream)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout); nothing to do

    # ------------------------------------------------------------------ answering

    def _answer(self, reply: ScriptedReply, model: str, stream: bool) -> None:
        owner = self.server_owner
        if not owner._sleep(reply.delay_s):
            self._drop()
            return
        if reply.fault == "drop":
            self._drop()
            return
        if reply.status != 200:
            err = reply.error or {"message": "error", "type": "server_error"}
            self._send_json(reply.status, {"error": {"param": None, "code": None, **err}},
                            reply.headers)
            return
        token_delay = owner.token_delay_s if reply.token_delay_s is None else reply.token_delay_s
        tokens = _TOKEN_RE.findall(reply.content)
        if stream and reply.fault not in ("malformed_json", "truncated_json"):
            self._stream(reply, model, tokens, token_delay)
            return
        if not owner._sleep(token_delay * len(tokens)):
            self._drop()
            return
        body = _completion(model, reply.content, reply.refusal, reply.finish_reason)
        if reply.fault == "malformed_json":
            self._send_json(200, None, raw=b"<html>502 Bad Gateway</html> {not json")
        elif reply.fault == "truncated_json":
            data = json.dumps(body).encode()
            self._send_json(200, None, raw=data[: len(data) // 2])
        else:
            self._send_json(200, body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, obj: Any) -> None:
        payload = obj if isinstance(obj, str) else json.dumps(obj)
        self._chunk(f"data: {payload}\n\n".encode())

    def _stream(self, reply: ScriptedReply, model: str, tokens: list[str],
                token_delay: float) -> None:
        owner = self.server_owner
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cid = f"chatcmpl-scripted-{int(time.monotonic() * 1e6)}"

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": model, "choices": [{"index": 0, "delta": delta,
                                                 "finish_reason": finish, "logprobs": None}]}

        self._event(chunk({"role": "assistant", "content": ""}))
        if reply.refusal is not None:
            self._event(chunk({"refusal": reply.refusal}))
            self._event(chunk({}, "stop"))
            self._event("[DONE]")
            self._chunk(b"")
            return
        limit = len(reply.content) if reply.cut_at is None else reply.cut_at
        sent = 0
        for tok in tokens:
            if reply.fault in ("cut_stream", "stream_no_finish") and sent >= limit:
                break
            if not owner._sleep(token_delay):
                self._drop()
                return
            piece = tok
            if reply.fault in ("cut_stream", "stream_no_finish"):
                piece = tok[: max(0, limit - sent)]
            self._event(chunk({"content": piece}))
            sent += len(piece)
        if reply.fault == "cut_stream":
            self._drop()  # no terminating chunk: the client sees an incomplete body
            return
        if reply.fault != "stream_no_finish":
            self._event(chunk({}, reply.finish_reason))
            self._event("[DONE]")
        self._chunk(b"")


def _completion(model: str, content: str, refusal: str | None, finish: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{int(time.monotonic() * 1e6)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                     "message": {"role": "assistant",
                                 "content": content if refusal is None else None,
                                 "refusal": refusal}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(_TOKEN_RE.findall(content)),
                  "total_tokens": len(_TOKEN_RE.findall(content))},
    }


# ----------------------------------------------------------------------------- a canned interviewer

_FENCED = re.compile(r"^<<<UNTRUSTED_CANDIDATE_DATA (\w+) BEGIN>>>\n(.*?)\n"
                     r"<<<UNTRUSTED_CANDIDATE_DATA \1 END>>>$", re.DOTALL | re.MULTILINE)


def canned_interviewer(req: RecordedRequest) -> ScriptedReply:
    """A handler that plays a plausible (not clever) interviewer for the shipped prompts, so the
    whole program can be tried against a local server: it probes short answers, scores every
    criterion 3 with a real quote from the fenced answer, and writes generic feedback."""
    system = req.messages[0].get("content", "") if req.messages else ""
    user = req.messages[-1].get("content", "") if req.messages else ""
    m = _FENCED.search(user)
    data = m.group(2) if m else ""
    labels = "[answer to follow-up" in data
    data = "\n".join(x for x in data.splitlines() if not x.startswith("[answer to "))
    rf = (req.body or {}).get("response_format") or {}
    name = (rf.get("json_schema") or {}).get("name") if isinstance(rf, dict) else None
    words = re.findall(r"[A-Za-z0-9']+", data)
    first = re.split(r"(?<=[.!?])\s+", data.strip())[0] if data.strip() else ""
    if "You write interview questions for a mock interview bank" in system:
        return ScriptedReply.json({"questions": canned_questions(m.group(2) if m else "")})
    if name == "question_score" or '"criteria"' in system:
        ids = re.findall(r"^- id: ([a-z0-9_-]+) ", user, re.MULTILINE)
        if name == "question_score":
            ids = rf["json_schema"]["schema"]["properties"]["criteria"]["items"]["properties"][
                "criterion"]["enum"]
        quote = " ".join(first.split()[:12]).strip(" ,;:")
        return ScriptedReply.json({"criteria": [
            {"criterion": c, "level": 3 if len(words) > 40 else 2,
             "rationale": "A canned assessment from the local test server.",
             "evidence": [quote] if quote else []} for c in ids], "covered": [], "missed": []})
    if name == "feedback" or '"strengths"' in system:
        return ScriptedReply.json({
            "summary": "A canned summary from the local test server.",
            "strengths": ["You answered every question.", "You stayed on topic."],
            "improvements": ["Give a concrete example each time.", "Quantify your results."],
            "next_step": "Record yourself answering two questions with one example and one "
                         "number each.",
            "follow_up": {"focus": [], "questions": []}})
    if "NO_FOLLOW_UP" in system:
        if labels:  # one follow-up per question is enough for a canned interviewer
            return ScriptedReply.text("NO_FOLLOW_UP")
        if len(words) < 25:
            return ScriptedReply.text("Could you make that concrete? Give me an example from "
                                      "your own work.")
        said = " ".join(first.split()[:6]).rstrip(".,;:!?")
        return ScriptedReply.text(f'You said "{said}". What trade-off did that involve, and how '
                                  "did you measure whether it worked?")
    return ScriptedReply.text("Thanks for asking. Your recruiter can tell you more about that.")


def canned_questions(data: str) -> list[dict[str, Any]]:
    """Questions in the bank's schema for the terms listed under "UNCOVERED JOB TERMS:" in the
    fenced data: generic but valid, so the whole generation path can be tried offline."""
    part = data.split("UNCOVERED JOB TERMS:", 1)[1] if "UNCOVERED JOB TERMS:" in data else ""
    terms: list[str] = []
    for line in part.splitlines():
        if not line.startswith("- "):
            if terms:
                break
            continue
        terms.append(line[2:].strip())
    out = []
    for term in terms:
        slug = re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-") or "term"
        out.append({
            "id": slug, "section": "technical",
            "text": f"What is {term}, when would you use it in a project, and what is one "
                    "pitfall to watch for?",
            "topics": [slug[:30]], "time_limit_s": 150,
            "key_points": [
                {"id": "definition", "point": f"Defines {term} correctly",
                 "phrasings": [term, "is used for"]},
                {"id": "use-case", "point": f"Gives a concrete situation where {term} helps",
                 "phrasings": ["for example", "we used"]},
                {"id": "pitfall", "point": "Names a pitfall and how to avoid it",
                 "phrasings": ["pitfall", "trade-off", "risk"]}],
            "misconceptions": [{"claim": f"{term} always makes things better",
                                "correction": "It has costs; it depends on the use case",
                                "kind": "absolute"}],
            "probes": [{"key_point": "pitfall", "text": f"What can go wrong with {term}?"}],
            "outline": f"{term} is defined, a use case is given, and a pitfall is named with "
                       "its mitigation."})
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m mockinterview.testing.openai_server``: serve the canned interviewer until
    Ctrl-C, so ``OPENAI_BASE_URL=<printed url> mockinterview demo`` can be tried offline."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--model", default="scripted-model")
    ap.add_argument("--token-delay", type=float, default=0.02, help="seconds per token")
    a = ap.parse_args(argv)
    srv = ScriptedOpenAIServer(models=[a.model], token_delay_s=a.token_delay,
                               handler=canned_interviewer, port=a.port)
    srv.start()
    print(f"OPENAI_BASE_URL={srv.base_url} MOCKINTERVIEW_LLM_MODEL={a.model}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
