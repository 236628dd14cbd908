"""The review server against another local user (issue 16): everything on 127.0.0.1 is reachable
by every account on the machine, so every request must carry this run's token (or its cookie)."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from mockinterview.review.server import serve
from mockinterview.store import load_session
from mockinterview.testing.sessions import build_typed_session

from .ledger import attack


@pytest.fixture
def server(tmp_path):
    rec = tmp_path / "recordings"
    folder = rec / "20261201-100000-ds"
    build_typed_session(folder)
    from mockinterview.review.report import write_report

    write_report(folder)
    srv = serve(rec)
    yield srv, folder
    srv.stop()


def _ask(srv, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in {"Host": f"127.0.0.1:{srv.port}", **headers}.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_without_the_token_nothing_is_read_or_written(server):
    srv, folder = server
    other = serve(folder.parent)  # a second server: its cookie must not open this one
    try:
        foreign_cookie = other.cookie
    finally:
        other.stop()
    name = folder.name
    guesses = {"no credentials": {}, "empty token": {"Cookie": f"{srv.cookie.split('=')[0]}="},
               "wrong token": {"Cookie": f"{srv.cookie.split('=')[0]}=" + "A" * 43},
               "another server's cookie": {"Cookie": foreign_cookie},
               "token for the wrong cookie name": {"Cookie": f"mockinterview_review={srv.token}"}}
    paths = ["/", f"/{name}/report.html", f"/{name}/session.json", f"/{name}/audio/a00.wav",
             f"/{name}/report.html?token=" + srv.token[:-1] + "x", f"/{name}/report.html?token="]
    before = len(load_session(folder).annotations)
    for label, headers in guesses.items():
        for path in paths:
            status, body = _ask(srv, "GET", path, headers)
            ok = status == 401 and b"Bias is error" not in body
            attack("review server", ok, f"GET {path} with {label}: {status}")
            assert ok, (label, path, status)
        status, _ = _ask(srv, "POST", "/api/annotations",
                         {**headers, "Content-Type": "application/json",
                          "Origin": f"http://127.0.0.1:{srv.port}"},
                         json.dumps({"session": name, "turn": 0, "comment": "x"}).encode())
        attack("review server", status == 401, f"POST with {label}: {status}")
        assert status == 401
    assert len(load_session(folder).annotations) == before
    # With the token, from a page on another origin or Host (DNS rebinding): still refused.
    status, _ = _ask(srv, "GET", f"/{name}/report.html", {"Cookie": srv.cookie,
                                                          "Host": f"evil.example:{srv.port}"})
    attack("review server", status == 403, f"foreign Host with the cookie: {status}")
    assert status == 403
    status, _ = _ask(srv, "GET", f"/{name}/report.html", {"Cookie": srv.cookie})
    assert status == 200  # control: the token's holder is served


def test_hanging_up_and_flooding_connections_print_nothing(server, capfd):
    srv, folder = server
    for cut in (10, 60, 200):  # hang up inside the request line, the headers, the body
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall((f"POST /api/annotations HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                   f"Cookie: {srv.cookie}\r\nContent-Type: application/json\r\n"
                   "Content-Length: 5000\r\n\r\n" + "{" * 300).encode()[:cut + 150])
        s.close()
    flood = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(120)]
    for s in flood:
        s.close()
    status, _ = _ask(srv, "GET", f"/{folder.name}/report.html", {"Cookie": srv.cookie})
    out, err = capfd.readouterr()
    ok = status == 200 and "Traceback" not in out + err
    attack("review server", ok, f"hang-ups and a flood of 120 connections: {status}, "
                                f"{'traceback printed' if 'Traceback' in out + err else 'quiet'}")
    assert ok
