"""Reviewing a recorded session: reviewer annotations and a local server for the report.

Annotations are stored in session.json beside the AI's scores, never over them (``annotations``
is a separate list), written atomically, then the report and feedback.md are rendered again.

The server exists so the report page can save notes. It is deliberately small and closed:
- it binds to 127.0.0.1 only, on a random port unless one is given;
- it needs a key: a random token per run (``secrets.token_urlsafe(32)``) in the URL that
  ``review --serve`` prints and opens; the first request with it is redirected to the same path
  without it and given a ``SameSite=Lax; HttpOnly`` cookie, which every later request must carry
  (the token in the query string is accepted too); anything else gets 401. So another local user,
  who can reach 127.0.0.1 too, reads and writes nothing. The browser is opened on a launcher page
  (0600, in a 0700 folder) that forwards to the token's URL, because a URL given to the browser on
  its command line is readable by every local user in /proc/<pid>/cmdline. Lax, not Strict: the
  forward from a file:// page is a cross-site navigation, for which Strict cookies are withheld
  along the redirect; Lax still keeps the cookie from cross-site requests other than top-level
  GETs, and POSTs need the same Origin besides;
- a bounded pool of worker threads (16) serves the connections, at most 64 more wait, the rest get
  503 at once; a client that hangs up mid-request ends its connection quietly (no traceback);
- it refuses any request whose Host header is not ``127.0.0.1:PORT`` or ``localhost:PORT``, which
  defeats DNS-rebinding pages that would otherwise reach it under their own name;
- it serves files only inside the recordings folder: percent-decoded paths with ``..``, hidden
  names, back-slashes or NUL bytes are refused, and every path is resolved (symlinks included)
  and must still be inside the folder;
- the annotation endpoint takes only ``application/json`` (so a foreign page cannot post a
  "simple" cross-origin form without a CORS pre-flight, which is never granted), refuses foreign
  ``Origin`` and cross-site ``Sec-Fetch-Site`` headers, caps the body size and validates the body
  with pydantic.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hmac
import json
import mimetypes
import os
import re
import secrets
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from markupsafe import escape
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mockinterview.errors import MockInterviewError, SessionError
from mockinterview.review.report import REPORT_FILE, write_feedback_md, write_report
from mockinterview.schema import Annotation
from mockinterview.store import SESSION_FILE, load_session, save_session

API_ANNOTATIONS = "/api/annotations"
MAX_BODY_BYTES = 64 * 1024
_CRITERION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AnnotationError(MockInterviewError):
    """A reviewer note that cannot be stored (unknown turn or criterion, bad level...)."""


class ReviewerNote(BaseModel):
    """One reviewer note as given (by the page or ``mockinterview annotate``), before it is
    checked against the session."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0)
    at_s: float | None = Field(default=None, ge=0, le=4 * 3600, allow_inf_nan=False)
    comment: str = Field(default="", max_length=4000)
    reviewer: str = Field(default="reviewer", min_length=1, max_length=80)
    levels: dict[str, int] = Field(default_factory=dict, max_length=20)

    @field_validator("levels")
    @classmethod
    def _levels_1_to_5(cls, v: dict[str, int]) -> dict[str, int]:
        for crit, level in v.items():
            if not _CRITERION.match(crit):
                raise ValueError(f"criterion {crit!r} is not a criterion id")
            if isinstance(level, bool) or not 1 <= level <= 5:
                raise ValueError(f"level {level} for {crit} is outside 1-5")
        return v

    @model_validator(mode="after")
    def _says_something(self) -> ReviewerNote:
        if not self.comment.strip() and not self.levels:
            raise ValueError("a note needs a comment or at least one level")
        return self


class AnnotationRequest(ReviewerNote):
    """The body of ``POST /api/annotations``: a note plus the session folder's name."""

    session: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[Path, threading.Lock] = {}


@contextmanager
def _session_lock(session_dir: Path):
    """One writer at a time per session: threads of the server and other processes (the CLI)."""
    key = session_dir.resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        try:  # never through a symlink: a planted link would have us create or lock any file
            fd = os.open(session_dir / ".annotate.lock",
                         os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            why = "is a symlink" if e.errno == errno.ELOOP else (e.strerror or str(e))
            raise SessionError(f"{session_dir / '.annotate.lock'}: cannot lock ({why})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def add_annotation(session_dir: Path, turn: int, comment: str = "", at_s: float | None = None,
                   levels: dict[str, int] | None = None, reviewer: str = "reviewer") -> Annotation:
    """Validate a reviewer note against the session, store it, re-render report and feedback.

    Raises AnnotationError (one line) for a note that does not fit the session: unknown turn,
    a time past the end of the answer, a criterion the question was not scored on.
    """
    session_dir = Path(session_dir)
    try:
        req = ReviewerNote(turn=turn, at_s=at_s, comment=comment, levels=levels or {},
                                reviewer=reviewer)
    except ValidationError as e:
        raise AnnotationError(f"{session_dir}: {_first_error(e)}") from None
    with _session_lock(session_dir):
        session = load_session(session_dir)
        t = next((x for x in session.turns if x.index == req.turn), None)
        if t is None:
            known = ", ".join(str(x.index) for x in session.turns) or "none"
            raise AnnotationError(f"{session_dir}: turn {req.turn} does not exist "
                                  f"(turns: {known})")
        length = None
        if t.transcript and t.transcript.duration_s:
            length = t.transcript.duration_s
        if t.delivery and t.delivery.duration_s:
            length = max(length or 0.0, t.delivery.duration_s)
        if req.at_s is not None and length is not None and req.at_s > length + 1.0:
            raise AnnotationError(f"{session_dir}: at {req.at_s:.1f} s is past the end of turn "
                                  f"{req.turn}'s answer ({length:.1f} s)")
        known_criteria = {c.criterion for run in session.scoring_runs for s in run.scores
                          if s.question_id == t.question_id for c in s.criteria}
        unknown = sorted(set(req.levels) - known_criteria) if known_criteria else []
        if unknown:
            raise AnnotationError(f"{session_dir}: turn {req.turn} was not scored on "
                                  f"{unknown[0]!r} (criteria: {', '.join(sorted(known_criteria))})")
        note = Annotation(reviewer=req.reviewer.strip() or "reviewer", question_id=t.question_id,
                          turn=req.turn, at_s=req.at_s, comment=req.comment.strip(),
                          levels=dict(req.levels))
        session.annotations.append(note)
        save_session(session, session_dir)
        _update_index(session, session_dir)
        write_report(session_dir)
        write_feedback_md(session_dir)
    return note


def _update_index(session, session_dir: Path) -> None:
    """Keep ``progress`` in step when the session lives in an indexed recordings folder."""
    recordings = session_dir.parent
    if not (recordings / "index.db").exists():
        return
    from mockinterview.store import update_index

    update_index(recordings, session, session_dir)


# ----------------------------------------------------------------------------- the server


WORKERS = 16  # connections served at once (a browser keeps about 6 open per page)
WAITING = 64  # accepted connections that may wait for a worker; beyond, 503 at once
TOKEN_PARAM = "token"


class _Server(HTTPServer):
    """HTTPServer with a bounded pool of workers instead of a thread per connection."""

    allow_reuse_address = False
    # the listen backlog (the stdlib's 5 makes bursts wait for SYN retries)
    request_queue_size = 128

    def __init__(self, root: Path, port: int, token: str):
        self.root = root
        self.token = token
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="review")
        self._slots = threading.BoundedSemaphore(WORKERS + WAITING)
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def cookie_name(self) -> str:
        return f"mockinterview_review_{self.port}"  # cookies ignore ports: one name per server

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        try:
            self._pool.submit(self._work, request, client_address)
        except RuntimeError:  # shutting down
            self._slots.release()
            self.shutdown_request(request)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a client hanging up is routine: nothing to print
            pass
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: the stdlib prints a traceback for every client that hangs up."""

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "mockinterview-review"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may stay silent (a body shorter than announced)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: only the CLI prints."""

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True  # the client hung up or went silent: nothing to say

    def _authorised(self, head: bool = False) -> bool:
        """The token from the cookie or the query string; answers 401 (or the redirect that sets
        the cookie) itself and returns False when the request goes no further."""
        token = self.server.token
        cookies = self.headers.get_all("Cookie") or []
        name = self.server.cookie_name
        for header in cookies:
            for part in header.split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and hmac.compare_digest(v.encode(), token.encode()):
                    return True
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        given = [v for k, v in query if k == TOKEN_PARAM]
        if given and hmac.compare_digest(given[0].encode(), token.encode()):
            if self.command in ("GET", "HEAD"):
                rest = urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])
                self._send(HTTPStatus.SEE_OTHER, b"", "text/plain",
                           {"Location": split.path + (f"?{rest}" if rest else ""),
                            "Set-Cookie": f"{name}={token}; Path=/; HttpOnly; SameSite=Lax"},
                           head)
                return False
            return True
        self._error(HTTPStatus.UNAUTHORIZED, "this server needs its token: open the URL that "
                    "'mockinterview review --serve' printed", head)
        return False

    # ------------------------------------------------------------------ responses

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None,
              head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self._security_headers()
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _security_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")

    def _error(self, status: int, message: str, head: bool = False) -> None:
        body = json.dumps({"error": message}).encode()
        self._send(status, body, "application/json", {"Connection": "close"}, head=head)
        self.close_connection = True

    # ------------------------------------------------------------------ checks

    def _host_ok(self) -> bool:
        port = self.server.port
        host = (self.headers.get("Host") or "").strip().lower()
        return host in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _resolve(self, url_path: str) -> Path | None | str:
        """The file for a URL path; None when absent; a string saying why it is refused."""
        try:
            decoded = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return "path is not UTF-8"
        if "\x00" in decoded or "\\" in decoded:
            return "bad characters in path"
        parts = [p for p in decoded.split("/") if p]
        if any(p in ("..", ".") or p.startswith(".") for p in parts):
            return "path leaves the recordings folder or names a hidden file"
        root = self.server.root
        try:
            target = root.joinpath(*parts).resolve(strict=True)
        except FileNotFoundError:
            return None
        except (OSError, RuntimeError):
            return "path cannot be resolved"
        if target != root and not target.is_relative_to(root):
            return "path resolves outside the recordings folder"
        return target

    # ------------------------------------------------------------------ GET / HEAD

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self._get(head=True)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._get(head=False)

    def _get(self, head: bool) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header", head)
            return
        if not self._authorised(head):
            return
        path = urlsplit(self.path).path
        target = self._resolve(path)
        if isinstance(target, str):
            self._error(HTTPStatus.FORBIDDEN, target, head)
            return
        if target is None:
            self._error(HTTPStatus.NOT_FOUND, "not found", head)
            return
        if target.is_dir():
            if target == self.server.root:
                self._index(head)
                return
            if (target / REPORT_FILE).is_file():
                rel = target.relative_to(self.server.root).as_posix()
                self._send(HTTPStatus.FOUND, b"", "text/plain",
                           {"Location": f"/{rel}/{REPORT_FILE}"}, head)
                return
            self._error(HTTPStatus.NOT_FOUND, "no report in this folder", head)
            return
        if not target.is_file():
            self._error(HTTPStatus.NOT_FOUND, "not found", head)
            return
        self._file(target, head)

    def _index(self, head: bool) -> None:
        from mockinterview.store import session_dirs

        rows = []
        for d in session_dirs(self.server.root):
            if (d / REPORT_FILE).is_file():
                rows.append(f'<li><a href="/{escape(d.name)}/{REPORT_FILE}">{escape(d.name)}</a>'
                            "</li>")
            else:
                rows.append(f"<li>{escape(d.name)} (no report yet: mockinterview report "
                            f"{escape(d.name)})</li>")
        html = ("<!doctype html><meta charset=utf-8><meta http-equiv=\"Content-Security-Policy\" "
                "content=\"default-src 'none'\"><title>Sessions</title><h1>Sessions</h1><ul>"
                + "".join(rows) + "</ul>")
        self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8",
                   {"Content-Security-Policy": "default-src 'none'"}, head)

    def _file(self, target: Path, head: bool) -> None:
        ctype = {".wav": "audio/wav", ".md": "text/markdown; charset=utf-8",
                 ".json": "application/json", ".html": "text/html; charset=utf-8",
                 ".py": "text/plain; charset=utf-8"}.get(target.suffix.lower())
        if ctype is None:
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        try:
            size = target.stat().st_size
            f = open(target, "rb")
        except OSError:
            self._error(HTTPStatus.NOT_FOUND, "cannot read", head)
            return
        with f:
            start, end = 0, size - 1
            status = HTTPStatus.OK
            rng = self.headers.get("Range")
            if rng:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
                if not m or (not m.group(1) and not m.group(2)):
                    self._error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "bad range", head)
                    return
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:  # suffix range: the last N bytes
                    start = max(0, size - int(m.group(2)))
                if start >= size or start > end:
                    self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                               {"Content-Range": f"bytes */{size}"}, head)
                    return
                status = HTTPStatus.PARTIAL_CONTENT
            length = end - start + 1 if size else 0
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            if target.name != REPORT_FILE:
                # Anything but a report (which carries its own policy) gets no script at all,
                # should a browser ever render it as a page.
                self.send_header("Content-Security-Policy", "default-src 'none'; sandbox")
            self._security_headers()
            self.end_headers()
            if head or not length:
                return
            f.seek(start)
            remaining = length
            while remaining > 0:
                chunk = f.read(min(65536, remaining))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                remaining -= len(chunk)

    # ------------------------------------------------------------------ POST

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return
        if not self._authorised():
            return
        if urlsplit(self.path).path != API_ANNOTATIONS:
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        port = self.server.port
        origin = self.headers.get("Origin")
        if origin is not None and origin not in (f"http://127.0.0.1:{port}",
                                                 f"http://localhost:{port}"):
            self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
            return
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            self._error(HTTPStatus.FORBIDDEN, "cross-site request refused")
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
            return
        try:
            n = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return
        if n < 0 or n > MAX_BODY_BYTES:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"body over {MAX_BODY_BYTES} bytes")
            return
        body = self.rfile.read(n)
        if len(body) < n:  # the client hung up mid-body
            self.close_connection = True
            return
        try:
            req = AnnotationRequest.model_validate_json(body)
        except ValidationError as e:
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, _first_error(e))
            return
        folder = self.server.root / req.session
        try:
            ok = folder.resolve(strict=True).parent == self.server.root and \
                (folder / SESSION_FILE).is_file()
        except (OSError, RuntimeError):
            ok = False
        if not ok:
            self._error(HTTPStatus.NOT_FOUND, f"no session {req.session}")
            return
        try:
            note = add_annotation(folder, req.turn, req.comment, req.at_s, req.levels,
                                  req.reviewer)
        except AnnotationError as e:
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, str(e).split(": ", 1)[-1])
            return
        except MockInterviewError as e:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(e).splitlines()[0])
            return
        self._send(HTTPStatus.CREATED, note.model_dump_json().encode(), "application/json")

    def do_PUT(self) -> None:  # noqa: N802 - stdlib naming
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT  # noqa: N815 - no CORS pre-flight is ever granted


class ReviewServer:
    """A running review server (a daemon thread); ``stop()`` ends it."""

    def __init__(self, recordings_dir: Path, port: int = 0):
        root = Path(recordings_dir).expanduser()
        if not root.is_dir():
            raise SessionError(f"{root}: no such recordings folder")
        try:
            self._httpd = _Server(root.resolve(), port, secrets.token_urlsafe(32))
            self._launch_dir: Path | None = None
        except OSError as e:
            raise MockInterviewError(f"127.0.0.1:{port}: cannot listen ({e.strerror})") from None
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,),
                                        name="review-server", daemon=True)
        self._thread.start()

    @property
    def root(self) -> Path:
        return self._httpd.root

    @property
    def port(self) -> int:
        return self._httpd.port

    @property
    def url(self) -> str:
        """The server's address, without the token (requests to it get 401)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def token(self) -> str:
        return self._httpd.token

    @property
    def cookie(self) -> str:
        """The ``Cookie`` header value a client holding the token sends."""
        return f"{self._httpd.cookie_name}={self._httpd.token}"

    @property
    def index_url(self) -> str:
        """The sessions list, with the token."""
        return f"{self.url}?{TOKEN_PARAM}={self.token}"

    def url_for(self, session_dir: Path) -> str:
        """The report's URL for a session folder inside the served folder, with the token."""
        rel = Path(session_dir).resolve().relative_to(self.root).as_posix()
        return f"{self.url}{rel}/{REPORT_FILE}?{TOKEN_PARAM}={self.token}"

    def wait(self) -> None:
        """Block until the server stops (the CLI waits here until Ctrl-C)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def launcher(self, session_dir: Path | None = None) -> Path:
        """A page only this user can read that forwards the browser to the token's URL.

        Opening the URL itself would put the token on the browser's command line, which any
        local user can read in /proc/<pid>/cmdline.
        """
        url = self.url_for(session_dir) if session_dir is not None else self.index_url
        if self._launch_dir is None:
            self._launch_dir = Path(tempfile.mkdtemp(prefix="mockinterview-review-"))  # 0700
        path = self._launch_dir / f"open-{secrets.token_hex(4)}.html"
        html = ("<!doctype html><meta charset=utf-8><meta name=referrer content=no-referrer>"
                f'<meta http-equiv="refresh" content="0; url={escape(url)}">'
                f'<title>mockinterview review</title><a href="{escape(url)}">Open the report</a>')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        return path

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        if self._launch_dir is not None:
            shutil.rmtree(self._launch_dir, ignore_errors=True)

    def __enter__(self) -> ReviewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(recordings_dir: Path, port: int = 0) -> ReviewServer:
    """Serve the recordings folder on 127.0.0.1 (random port by default); returns at once."""
    return ReviewServer(recordings_dir, port)
