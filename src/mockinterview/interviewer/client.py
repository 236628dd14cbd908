"""The model client: transport to any OpenAI-compatible server through the official ``openai``
client, apart from the interviewer's prompts and parsing (:mod:`mockinterview.interviewer.llm`).

- **Bounded retries.** Every call has a bounded number of attempts with exponential backoff and
  jitter (honouring ``Retry-After`` on 429, but never waiting past the call's budget); faults that
  retrying cannot cure (401, unknown model, context too long, a refusal) are raised at once as
  :class:`LLMFault`, classified, for the brain to fall back on the offline engine.
- **Speak early.** Live replies stream (``stream=True``) and are yielded a sentence at a time
  (:func:`split_complete`), so the flow speaks the first sentence while the model writes the rest.
- **The key stays secret.** It is read from :meth:`Config.api_key` into the client only; every
  error text that leaves this module is scrubbed of it (:class:`Scrubber`).

Timeouts: ``llm.timeout_live_s`` bounds each attempt of a live turn (the candidate is waiting) and
the whole turn gets ``LLMOptions.live_budget_factor`` times that; ``llm.timeout_final_s`` bounds
each attempt of scoring and feedback, which run in the background.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, cast

from mockinterview.clock import REAL_CLOCK, Clock

if TYPE_CHECKING:
    from openai import Stream
    from openai.types.chat import ChatCompletionChunk
from mockinterview.config import Config

log = logging.getLogger(__name__)


@dataclass
class LLMOptions:
    """Tuning that is not worth a config key. Defaults suit a local or hosted chat model."""

    stream_follow_ups: bool = True  # stream spoken turns; False only to measure the difference
    backoff_base_s: float = 0.5  # first retry waits about this long, then doubles
    backoff_max_s: float = 8.0  # no single wait is longer
    jitter: float = 0.25  # each wait is scaled by a random factor in [1 - jitter, 1 + jitter]
    live_budget_factor: float = 1.5  # a live turn may take at most this many live timeouts in all
    down_cooldown_s: float = 60.0  # after an unreachable server, live turns skip it this long
    final_budget_factor: float = 2.5  # scoring/feedback: at most this many final timeouts in all
    temperature_live: float = 0.4
    temperature_score: float = 0.0
    max_repair_chars: int = 6000  # how much of a broken reply is shown back in the repair request


# ----------------------------------------------------------------------------- faults


class LLMFault(Exception):
    """One classified failure of a model call; ``message`` is already scrubbed of the key."""

    def __init__(self, kind: str, message: str, *, retryable: bool = False,
                 retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.attempts = 1


class Scrubber:
    """Removes the API key (whole or in echoed pieces) from any text before it leaves the module.

    Servers echo parts of a wrong key ("Incorrect API key provided: sk-abc1****wxyz"), so any run
    of 6+ characters that is a piece of the key is removed too, as is anything shaped like a key.
    """

    _KEYLIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-*.]{6,}")
    _PIECE = re.compile(r"[^\s'\"`,;:()\[\]{}*<>=]{6,}")

    def __init__(self, secret: str | None):
        self.secret = secret or ""

    def __call__(self, text: object) -> str:
        s = str(text)
        if self.secret:
            s = s.replace(self.secret, "[redacted]")
            secret = self.secret

            def piece(m: re.Match[str]) -> str:
                core = m.group(0).strip(".")
                return "[redacted]" if len(core) >= 6 and core in secret else m.group(0)

            s = self._PIECE.sub(piece, s)
        return self._KEYLIKE.sub("[redacted]", s)


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(ra).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


_CONTEXT_RE = re.compile(r"context[_ ]length|maximum context|too many tokens|context window|"
                         r"prompt is too long|reduce the length", re.IGNORECASE)
_SCHEMA_RE = re.compile(r"response_format|json_schema|structured output", re.IGNORECASE)


def classify(exc: BaseException, scrub: Scrubber) -> LLMFault:
    """Map an exception from the openai client (or from parsing) onto a fault kind."""
    import openai

    if isinstance(exc, LLMFault):
        return exc
    msg = scrub(exc)
    if isinstance(exc, openai.APITimeoutError):
        return LLMFault("timeout", "the model server did not answer in time", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = scrub(cause) if cause else msg
        return LLMFault("connection", f"cannot reach the model server ({detail})", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        body = scrub(getattr(exc, "message", msg))
        if status == 429:
            return LLMFault("rate_limited", f"rate limited (429): {body}", retryable=True,
                            retry_after=_retry_after(exc.response.headers), status=status)
        if status >= 500:
            return LLMFault("server_error", f"server error ({status}): {body}", retryable=True,
                            status=status)
        if status in (401, 403):
            return LLMFault("auth", f"the server rejected the API key ({status})", status=status)
        if status == 404:
            return LLMFault("not_found", f"not found (404): {body}", status=status)
        code = ""
        if isinstance(exc.body, dict):
            code = str(exc.body.get("code") or "")
        if status in (400, 413, 422) and (code == "context_length_exceeded"
                                          or _CONTEXT_RE.search(body)):
            return LLMFault("context_too_long", f"the prompt is too long for the model: {body}",
                            status=status)
        if status in (400, 422) and _SCHEMA_RE.search(body):
            return LLMFault("schema_rejected", f"structured output rejected: {body}", status=status)
        return LLMFault("bad_request", f"request rejected ({status}): {body}", status=status)
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        # JSONDecodeError is a ValueError: a proxy answering HTML, or a body cut in the middle
        return LLMFault("malformed_response", f"the server's reply is not valid JSON ({msg})",
                        retryable=True)
    return LLMFault("error", f"{type(exc).__name__}: {msg}")


# ----------------------------------------------------------------------------- sentences

_ABBREV = frozenset({"e.g", "i.e", "vs", "etc", "dr", "mr", "mrs", "ms", "prof", "approx", "no",
                     "fig", "eq", "cf", "al", "inc", "ltd", "jr", "sr", "st", "a.k.a"})
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)")


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the start of ``buffer``, and the unfinished rest.

    A sentence is complete when its end mark is followed by whitespace (so "3.5" and "e.g. this"
    do not split, and a stream paused right after "." waits for the next character)."""
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(buffer):
        before = buffer[start:m.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if m.group(0).startswith(".") and (last in _ABBREV or (len(last) == 1 and last.isalpha())):
            continue
        sentence = buffer[start:m.end()].strip()
        if sentence:
            out.append(sentence)
        start = m.end()
    return out, buffer[start:]


def strip_marker_text(text: str) -> str:
    return re.sub(r"^[^A-Za-z0-9]+", "", text).upper()


# ----------------------------------------------------------------------------- the client


class ModelClient:
    """Transport to one OpenAI-compatible model: bounded retries with backoff and jitter inside
    a per-call budget, streaming split into sentences, fault classification and scrubbing.

    Knows nothing of interviews: :class:`~mockinterview.interviewer.llm.LLMBrain` builds the
    prompts, parses the replies and decides what a fault falls back to. ``clock``: deadlines and
    backoff (:mod:`mockinterview.clock`).
    """

    def __init__(self, config: Config, options: LLMOptions | None = None,
                 clock: Clock = REAL_CLOCK):
        from openai import OpenAI

        self.config = config
        self.model = config.llm.model
        self.options = options or LLMOptions()
        self.clock = clock
        self._no_temperature = False
        self._down_until = 0.0  # monotonic time until which live turns skip the server
        key = config.api_key()
        secret = key.get_secret_value() if key else None
        self.scrub = Scrubber(secret)
        self._client = OpenAI(base_url=config.llm.base_url or None, api_key=secret or "no-key",
                              timeout=config.llm.timeout_final_s, max_retries=0)
        del secret

    def server_answered(self) -> None:
        """The server answers again: live turns may use it."""
        self._down_until = 0.0


    def budget(self, live: bool) -> tuple[float, float]:
        """(per-attempt timeout, deadline on the monotonic clock)."""
        if live:
            t = self.config.llm.timeout_live_s
            return t, self.clock.now() + t * self.options.live_budget_factor
        t = self.config.llm.timeout_final_s
        return t, self.clock.now() + t * self.options.final_budget_factor

    def wait_before_retry(self, f: LLMFault, attempt: int, deadline: float) -> bool:
        """Sleep before the next attempt; False when retrying is pointless or out of budget."""
        if not f.retryable or attempt >= self.config.llm.max_retries:
            return False
        if f.retry_after is not None:
            wait = f.retry_after
        else:
            wait = min(self.options.backoff_max_s, self.options.backoff_base_s * 2 ** attempt)
            wait *= 1 + random.uniform(-self.options.jitter, self.options.jitter)
        if self.clock.now() + wait >= deadline - 0.05:
            f.message += f" (no time left to retry after {wait:.1f} s)"
            return False
        log.info("model %s, retrying in %.2f s (attempt %d)", f.kind, wait, attempt + 2)
        self.clock.sleep(wait)
        return True

    def drop_temperature(self, f: LLMFault, sent: bool) -> bool:
        """Some models (reasoning models) reject ``temperature``: stop sending it, retry at once."""
        if sent and f.kind == "bad_request" and "temperature" in f.message.lower():
            self._no_temperature = True
            return True
        return False

    def complete(self, messages: list[dict[str, str]], *, live: bool,
                  response_format: dict[str, Any] | None = None,
                  temperature: float | None = None) -> str:
        """One non-streaming completion with bounded retries; the reply text, or LLMFault."""
        per_attempt, deadline = self.budget(live)
        attempt = 0
        while True:
            kw: dict[str, Any] = {}
            try:
                remaining = deadline - self.clock.now()
                if remaining <= 0.05:
                    raise LLMFault("timeout", "no time left for the model call", retryable=False)
                if response_format is not None:
                    kw["response_format"] = response_format
                if temperature is not None and not self._no_temperature:
                    kw["temperature"] = temperature
                resp = self._client.chat.completions.create(
                    model=self.model, messages=messages,  # type: ignore[arg-type]
                    timeout=min(per_attempt, remaining), **kw)
                if not resp.choices:
                    raise LLMFault("empty", "the model returned no choices", retryable=True)
                choice = resp.choices[0]
                msg = choice.message
                if getattr(msg, "refusal", None) or choice.finish_reason == "content_filter":
                    raise LLMFault("refusal",
                                   f"the model refused: {msg.refusal or 'content filter'}")
                content = (msg.content or "").strip()
                if not content:
                    raise LLMFault("empty", "the model returned empty content", retryable=True)
                return content
            except Exception as e:  # noqa: BLE001 - every failure is classified, none escapes
                f = classify(e, self.scrub)
                if self.drop_temperature(f, "temperature" in kw):
                    continue
                f.attempts = attempt + 1
                if not self.wait_before_retry(f, attempt, deadline):
                    raise f from None
                attempt += 1

    def stream(self, messages: list[dict[str, str]], *, marker: str | None = None
                ) -> Iterator[str]:
        """Stream a live reply, yielding complete sentences; raise LLMFault when it fails.

        With ``marker`` (the no-follow-up token), a reply that starts with it yields nothing.
        Retries happen only while nothing has been yielded: a spoken sentence cannot be unsaid.
        """
        per_attempt, deadline = self.budget(live=True)
        attempt = 0
        yielded = 0
        while True:
            stream: Stream[ChatCompletionChunk] | None = None
            kw: dict[str, Any] = {}
            if not self._no_temperature:
                kw["temperature"] = self.options.temperature_live
            try:
                remaining = deadline - self.clock.now()
                if remaining <= 0.05:
                    raise LLMFault("timeout", "no time left for the model call")
                stream = cast("Stream[ChatCompletionChunk]", self._client.chat.completions.create(
                    model=self.model, messages=messages,  # type: ignore[arg-type]
                    stream=True, timeout=min(per_attempt, remaining), **kw))
                buf, decided, finish = "", marker is None, None
                for chunk in stream:
                    if self.clock.now() > deadline:
                        raise LLMFault("timeout", "the model's reply took too long to stream",
                                       retryable=yielded == 0)
                    if not chunk.choices:
                        continue
                    ch = chunk.choices[0]
                    delta = ch.delta
                    if delta is not None and getattr(delta, "refusal", None):
                        raise LLMFault("refusal", f"the model refused: {delta.refusal}")
                    if delta is not None and delta.content:
                        buf += delta.content
                    if ch.finish_reason:
                        finish = ch.finish_reason
                    if not decided:
                        head = strip_marker_text(buf.lstrip())
                        if head.startswith(marker or ""):
                            return  # the model chose not to ask
                        if len(head) >= len(marker or "") or not (marker or "").startswith(head):
                            decided = True
                    if decided:
                        sentences, buf = split_complete(buf)
                        for s in sentences:
                            yielded += 1
                            yield s
                if finish == "content_filter":
                    raise LLMFault("refusal", "the model's reply was blocked by a content filter")
                if finish is None or finish == "length":
                    what = "ended" if finish is None else "hit its token limit"
                    raise LLMFault("stream_truncated", f"the streamed reply {what} mid-sentence "
                                   f"after {yielded} sentence(s)", retryable=yielded == 0)
                if not decided:  # the whole reply is the marker, or a piece of it, or nothing
                    if not buf.strip():
                        raise LLMFault("empty", "the model returned empty content", retryable=True)
                    return
                rest = buf.strip()
                if rest:
                    yielded += 1
                    yield rest
                if yielded == 0:
                    raise LLMFault("empty", "the model returned empty content", retryable=True)
                return
            except GeneratorExit:
                raise
            except Exception as e:  # noqa: BLE001 - every failure is classified, none escapes
                f = classify(e, self.scrub)
                if yielded and f.kind in ("connection", "malformed_response", "error"):
                    f = LLMFault("stream_truncated", f"the stream broke after {yielded} "
                                 f"sentence(s): {f.message}")
                if not yielded and self.drop_temperature(f, "temperature" in kw):
                    continue
                f.attempts = attempt + 1
                if yielded or not self.wait_before_retry(f, attempt, deadline):
                    raise f from None
                attempt += 1
            finally:
                if stream is not None:
                    try:
                        stream.close()
                    except Exception:  # noqa: BLE001 - closing a dead stream
                        pass

    def spoken(self, messages: list[dict[str, str]], marker: str | None) -> Iterator[str]:
        """Streamed sentences, or (options.stream_follow_ups False) the whole reply at once.

        After the server was unreachable, live turns skip it for ``down_cooldown_s`` so the
        candidate does not wait through the retries again on every turn (scoring, which runs in
        the background, keeps trying and ends the pause when the server is back)."""
        if self.clock.now() < self._down_until:
            raise LLMFault("server_down", "the model server was unreachable moments ago; "
                           "skipped for this turn")
        try:
            yield from self._spoken_inner(messages, marker)
        except LLMFault as f:
            if f.kind == "connection":
                self._down_until = self.clock.now() + self.options.down_cooldown_s
            raise

    def _spoken_inner(self, messages: list[dict[str, str]], marker: str | None) -> Iterator[str]:
        if self.options.stream_follow_ups:
            yield from self.stream(messages, marker=marker)
            return
        text = self.complete(messages, live=True, temperature=self.options.temperature_live)
        if marker and strip_marker_text(text).startswith(marker):
            return
        sentences, rest = split_complete(text + " ")
        yield from sentences
        if rest.strip():
            yield rest.strip()


# ----------------------------------------------------------------------------- doctor


def check_endpoint(config: Config) -> list[str]:
    """What is wrong with the configured model endpoint, one line each; empty when it works.

    Lists the server's models, checks the configured model is among them, and asks it for one
    token. Never shows the key: every message is scrubbed.
    """
    import openai

    try:
        key = config.api_key()
    except Exception as e:  # noqa: BLE001 - ConfigError: the key file is unreadable or too open
        return [str(e)]
    secret = key.get_secret_value() if key else None
    scrub = Scrubber(secret)
    url = config.llm.base_url or "https://api.openai.com/v1"
    if not config.llm.base_url and not secret:
        return ["no model configured: set OPENAI_BASE_URL (a local server) or OPENAI_API_KEY"]
    client = openai.OpenAI(base_url=config.llm.base_url or None, api_key=secret or "no-key",
                           timeout=min(10.0, config.llm.timeout_live_s), max_retries=0)
    model = config.llm.model
    problems: list[str] = []

    def explain(e: BaseException, what: str) -> str:
        f = classify(e, scrub)
        if f.kind == "connection":
            return f"{url}: cannot connect ({f.message}); is the server running?"
        if f.kind == "timeout":
            return f"{url}: no answer within {client.timeout} s while {what}"
        if f.kind == "auth":
            return (f"{url}: the server rejected the API key ({f.status}) while {what}; check "
                    "OPENAI_API_KEY or llm.api_key_file")
        return f"{url}: {what} failed: {f.message}"

    try:
        listed = [m.id for m in client.models.list()]
    except openai.NotFoundError:
        listed = None  # some servers have no /models; the chat test below still tells
    except Exception as e:  # noqa: BLE001
        return [scrub(explain(e, "listing models"))]
    if listed is not None and model not in listed:
        shown = ", ".join(listed[:10]) + (" ..." if len(listed) > 10 else "")
        problems.append(f"{url}: model '{model}' is not served here (set MOCKINTERVIEW_LLM_MODEL "
                        f"or llm.model; available: {shown or 'none'})")
        return problems
    ping = [{"role": "user", "content": "Reply with the word OK."}]
    try:
        try:
            resp = client.chat.completions.create(model=model, messages=ping,  # type: ignore[arg-type]
                                                  max_tokens=1)
        except openai.BadRequestError as e:
            if "max_tokens" not in str(e):
                raise
            # newer OpenAI models take max_completion_tokens instead
            resp = client.chat.completions.create(model=model, messages=ping,  # type: ignore[arg-type]
                                                  max_completion_tokens=16)
        if not resp.choices:
            problems.append(f"{url}: model '{model}' returned no answer to a one-token chat")
    except openai.NotFoundError:
        problems.append(f"{url}: model '{model}' is unknown to the server")
    except Exception as e:  # noqa: BLE001
        problems.append(scrub(explain(e, f"asking '{model}' for one token")))
    return problems


__all__ = ["LLMFault", "LLMOptions", "ModelClient", "Scrubber", "check_endpoint", "classify",
           "split_complete"]
