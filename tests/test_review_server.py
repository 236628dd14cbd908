"""The review server over real HTTP: files inside only, loopback Host only, validated notes."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import pytest

from mockinterview.review.report import write_feedback_md, write_report
from mockinterview.review.server import AnnotationError, add_annotation, serve
from mockinterview.store import load_session
from mockinterview.testing.sessions import build_typed_session

SECRET = "TOP-SECRET-OUTSIDE-THE-RECORDINGS"


@pytest.fixture
def served(recordings: Path, tmp_path: Path):
    (tmp_path / "secret.txt").write_text(SECRET)
    folder = recordings / "20261125-090000-ds"
    build_typed_session(folder)
    write_report(folder)
    write_feedback_md(folder)
    server = serve(recordings)
    yield server, folder
    server.stop()


def request(server, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str | None] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send the path exactly as given (http.client does not normalise ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        hdrs = {"Host": f"127.0.0.1:{server.port}", "Cookie": server.cookie}
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def post_note(server, payload: dict, **headers: str) -> tuple[int, dict]:
    hdrs = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{server.port}"}
    hdrs.update(headers)
    status, _, body = request(server, "POST", "/api/annotations", json.dumps(payload).encode(),
                              hdrs)
    return status, json.loads(body)


def test_binds_to_loopback_only(served):
    server, _ = served
    assert server._httpd.socket.getsockname()[0] == "127.0.0.1"
    assert server.port > 0


def test_serves_files_inside(served):
    server, folder = served
    status, headers, body = request(server, "GET", f"/{folder.name}/report.html")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert body == (folder / "report.html").read_bytes()
    assert b"Content-Security-Policy" in body
    assert "content-security-policy" not in headers  # the report has its own, in a meta tag
    status, headers, body = request(server, "GET", f"/{folder.name}/session.json")
    assert status == 200 and json.loads(body)["id"] == folder.name
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert headers["x-content-type-options"] == "nosniff"
    # The session folder redirects to its report; the root lists the sessions.
    status, headers, _ = request(server, "GET", f"/{folder.name}/")
    assert status == 302 and headers["location"] == f"/{folder.name}/report.html"
    status, _, body = request(server, "GET", "/")
    assert status == 200 and folder.name.encode() in body


def test_audio_byte_ranges(served):
    """Browsers seek audio with Range requests; the bytes returned are the file's bytes."""
    server, folder = served
    wav = (folder / "audio" / "a00.wav").read_bytes()
    status, headers, body = request(server, "GET", f"/{folder.name}/audio/a00.wav",
                                    headers={"Range": "bytes=100-199"})
    assert status == 206
    assert headers["content-range"] == f"bytes 100-199/{len(wav)}"
    assert headers["content-type"] == "audio/wav"
    assert body == wav[100:200]
    status, _, body = request(server, "GET", f"/{folder.name}/audio/a00.wav",
                              headers={"Range": "bytes=-10"})
    assert status == 206 and body == wav[-10:]
    status, _, _ = request(server, "GET", f"/{folder.name}/audio/a00.wav",
                           headers={"Range": f"bytes={len(wav) + 5}-"})
    assert status == 416


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/{sid}/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/{sid}/..%2f..%2fsecret.txt",
    "/{sid}/audio/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt",
    "/{sid}/%00/session.json",
])
def test_refuses_traversal(served, path):
    server, folder = served
    status, _, body = request(server, "GET", path.format(sid=folder.name))
    assert status == 403, (path, status)
    assert SECRET.encode() not in body


def test_double_encoding_is_just_a_missing_file(served):
    server, folder = served
    status, _, body = request(server, "GET", "/%252e%252e/secret.txt")
    assert status == 404 and SECRET.encode() not in body


def test_refuses_symlinks_pointing_outside(served, tmp_path):
    server, folder = served
    os.symlink(tmp_path / "secret.txt", folder / "audio" / "leak.wav")
    os.symlink(tmp_path, folder.parent / "outside")
    for path in (f"/{folder.name}/audio/leak.wav", "/outside/secret.txt"):
        status, _, body = request(server, "GET", path)
        assert status == 403, path
        assert SECRET.encode() not in body
    # A symlink that stays inside is fine.
    os.symlink(folder / "session.json", folder / "copy.json")
    assert request(server, "GET", f"/{folder.name}/copy.json")[0] == 200


def test_refuses_hidden_files(served):
    server, folder = served
    (folder / ".annotate.lock").write_text("")
    assert request(server, "GET", f"/{folder.name}/.annotate.lock")[0] == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1",
                                  "127.0.0.1:{other}", "localhost.evil.example:{port}", ""])
def test_refuses_foreign_host(served, host):
    server, folder = served
    h = host.format(port=server.port, other=server.port + 1)
    status, _, body = request(server, "GET", f"/{folder.name}/session.json", headers={"Host": h})
    assert status == 403
    assert folder.name.encode() not in body
    status, _ = post_note(server, {"session": folder.name, "turn": 0, "comment": "x"}, Host=h)
    assert status == 403
    assert load_session(folder).annotations == []


def test_accepts_localhost_by_name(served):
    server, folder = served
    status, _, _ = request(server, "GET", f"/{folder.name}/session.json",
                           headers={"Host": f"localhost:{server.port}"})
    assert status == 200


def test_stores_a_valid_annotation_beside_the_scores(served):
    server, folder = served
    before = load_session(folder)
    status, body = post_note(server, {"session": folder.name, "turn": 0, "at_s": 0.4,
                                      "comment": "Explain which assumptions.",
                                      "reviewer": "carol", "levels": {"depth": 3}})
    assert status == 201, body
    assert body["comment"] == "Explain which assumptions." and body["levels"] == {"depth": 3}
    after = load_session(folder)
    assert len(after.annotations) == 1
    note = after.annotations[0]
    assert (note.turn, note.at_s, note.reviewer, note.levels, note.question_id) == \
        (0, 0.4, "carol", {"depth": 3}, "ml.bias")
    assert after.scoring_runs == before.scoring_runs  # the AI's scores are untouched
    html = (folder / "report.html").read_text()
    assert "Explain which assumptions." in html and "3 by carol" in html
    assert "Explain which assumptions." in (folder / "feedback.md").read_text()
    assert not list(folder.glob(".*.tmp"))


@pytest.mark.parametrize("payload, fragment", [
    ({"turn": 0, "levels": {"depth": 7}}, "outside 1-5"),
    ({"turn": 0, "levels": {"depth": 0}}, "outside 1-5"),
    ({"turn": 99, "comment": "x"}, "turn 99 does not exist"),
    ({"turn": 0, "levels": {"charisma": 4}}, "not scored on 'charisma'"),
    ({"turn": 0, "comment": "x", "at_s": 99}, "past the end"),
    ({"turn": 0, "comment": "x", "at_s": -1}, "at_s"),
    ({"turn": 0}, "comment or at least one level"),
    ({"turn": 0, "comment": "x", "admin": True}, "admin"),
    ({"turn": "zero", "comment": "x"}, "turn"),
    ({"turn": 0, "comment": "x" * 5000}, "comment"),
])
def test_rejects_invalid_annotations(served, payload, fragment):
    server, folder = served
    before = (folder / "session.json").read_bytes()
    status, body = post_note(server, {"session": folder.name, **payload})
    assert status == 422, body
    assert fragment in body["error"]
    assert (folder / "session.json").read_bytes() == before


def test_rejects_requests_a_foreign_page_could_send(served):
    server, folder = served
    good = {"session": folder.name, "turn": 0, "comment": "x"}
    assert post_note(server, good, Origin="http://evil.example")[0] == 403
    assert post_note(server, good, **{"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert post_note(server, good, **{"Content-Type": "text/plain"})[0] == 415
    assert post_note(server, {**good, "session": "../x"})[0] == 422
    assert post_note(server, {**good, "session": "nope"})[0] == 404
    status, _, _ = request(server, "POST", "/api/annotations", b"x" * (70 * 1024),
                           {"Content-Type": "application/json"})
    assert status == 413
    assert request(server, "OPTIONS", "/api/annotations")[0] == 405
    assert load_session(folder).annotations == []


def test_add_annotation_directly(recordings):
    """The function the CLI's ``annotate`` calls: same checks, same storage."""
    folder = recordings / "s2"
    build_typed_session(folder)
    note = add_annotation(folder, turn=0, comment="ok", levels={"correctness": 4})
    assert load_session(folder).annotations == [note]
    assert (folder / "report.html").exists() and (folder / "feedback.md").exists()
    with pytest.raises(AnnotationError, match="outside 1-5"):
        add_annotation(folder, turn=0, levels={"correctness": 6})
    assert len(load_session(folder).annotations) == 1


def test_cli_review_serve_prints_a_working_url(recordings):
    """`mockinterview review SESSION --serve` as a user runs it: a real process, a real URL."""
    import subprocess
    import sys
    import time

    folder = recordings / "20261125-110000-ds"
    build_typed_session(folder)
    exe = Path(sys.executable).parent / "mockinterview"
    env = {**os.environ, "MOCKINTERVIEW_RECORDINGS": str(recordings), "COLUMNS": "200",
           "BROWSER": "true"}  # the URL it opens goes to /bin/true, not a real browser
    proc = subprocess.Popen([str(exe), "review", folder.name, "--serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "http://127.0.0.1:" in line:
                url = line.split()[1]
        assert url and f"/{folder.name}/report.html?token=" in url, url
        import urllib.error
        import urllib.request
        from http.cookiejar import CookieJar

        # The token's URL answers with a cookie and a redirect to the bare page: a client that
        # keeps cookies, as a browser does, gets the report; the bare URL alone gets 401.
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(url, timeout=10) as r:
            assert r.status == 200
            assert "token=" not in r.url
            assert b"Content-Security-Policy" in r.read()
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(url.split("?")[0], timeout=10)
    finally:
        proc.terminate()
        proc.wait(10)


# ----------------------------------------------------------------------------- the token (issue 16)


def test_every_request_without_the_token_is_refused(served):
    """Another local user can reach 127.0.0.1 too: without the token nothing is read or written."""
    server, folder = served
    for method, path in [("GET", "/"), ("GET", f"/{folder.name}/report.html"),
                         ("GET", f"/{folder.name}/session.json"), ("HEAD", "/"),
                         ("GET", f"/{folder.name}/report.html?token=wrong"),
                         ("GET", f"/{folder.name}/report.html?token=")]:
        status, _, body = request(server, method, path, headers={"Cookie": None})
        assert status == 401, (method, path, status)
        assert b"TOP-SECRET" not in body and b"session" not in body.lower().replace(b"--serve", b"")
    status, _, _ = request(server, "GET", "/", headers={
        "Cookie": f"{server.cookie.split('=')[0]}=not-the-token"})
    assert status == 401
    before = len(load_session(folder).annotations)
    hdrs = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{server.port}",
            "Cookie": None}
    status, _, _ = request(server, "POST", "/api/annotations",
                           json.dumps({"session": folder.name, "turn": 0,
                                       "comment": "intruder"}).encode(), hdrs)
    assert status == 401
    assert len(load_session(folder).annotations) == before


def test_the_token_url_sets_a_strict_httponly_cookie_and_drops_the_token(served):
    server, folder = served
    url = server.url_for(folder)
    path = url.split(str(server.port), 1)[1]
    status, headers, _ = request(server, "GET", path, headers={"Cookie": None})
    assert status == 303
    assert headers["location"] == f"/{folder.name}/report.html"
    cookie = headers["set-cookie"]
    assert cookie.startswith(server.cookie + ";")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    name_value = cookie.split(";")[0]
    status, _, body = request(server, "GET", headers["location"], headers={"Cookie": name_value})
    assert status == 200 and b"<html" in body.lower()


def test_client_hanging_up_mid_body_is_quiet_and_the_pool_stays_bounded(served, capfd):
    """Connections beyond the pool and its queue get 503 at once; clients that hang up print
    nothing; the server still answers afterwards."""
    import socket
    import threading

    from mockinterview.review import server as review

    server, folder = served
    socks = []
    for _ in range(5):  # announce a body, send half of it, hang up
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall((f"POST /api/annotations HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                   f"Cookie: {server.cookie}\r\nContent-Type: application/json\r\n"
                   "Content-Length: 1000\r\n\r\n{\"session\":").encode())
        s.close()
    silent = [socket.create_connection(("127.0.0.1", server.port))
              for _ in range(review.WORKERS + review.WAITING + 8)]
    socks += silent
    refused = 0
    for s in silent[-8:]:
        s.settimeout(5)
        try:
            refused += s.recv(100).startswith(b"HTTP/1.1 503")
        except OSError:
            pass
    assert refused == 8
    threads_before = threading.active_count()
    for s in socks:
        s.close()
    status, _, _ = request(server, "GET", "/")
    assert status == 200
    assert threading.active_count() <= threads_before
    assert sum(t.name.startswith("review_") for t in threading.enumerate()) <= review.WORKERS
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
