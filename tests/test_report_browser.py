"""The report in a real headless Chromium: real WAVs, real transcripts, real clicks.

The session is built from speech rendered by pyttsx3 and transcribed by the real faster-whisper
model, so the word timestamps the page seeks to are the model's own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import soundfile as sf

from mockinterview.review.report import write_feedback_md, write_report
from mockinterview.review.server import serve
from mockinterview.store import load_session
from mockinterview.testing.sessions import HOSTILE, build_hostile_session, build_spoken_session

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's chromium is not installed (/usr/bin/chromium missing): "
                              "apt-get install chromium"),
]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def spoken(tmp_path_factory, transcriber):
    folder = tmp_path_factory.mktemp("rec") / "20261125-090000-ml-engineer"
    session = build_spoken_session(folder, transcriber)
    write_report(folder)
    write_feedback_md(folder)
    return folder, session


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    pg.console_lines = []
    pg.on("console", lambda m: pg.console_lines.append(m.text))
    pg.on("pageerror", lambda e: pg.console_lines.append(f"pageerror: {e}"))
    yield pg
    ctx.close()


def open_report(page, folder: Path) -> None:
    page.goto((folder / "report.html").resolve().as_uri())
    wait_audio_ready(page)


def wait_audio_ready(page) -> None:
    # Predicates are arrow functions: a bare expression string is eval'd, which the CSP forbids.
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1)",
        timeout=15000)


def words_of(session, turn: int):
    return [w for s in session.turns[turn].transcript.segments for w in s.words]


def test_every_audio_loads_and_plays_with_the_wav_duration(page, spoken):
    folder, session = spoken
    open_report(page, folder)
    audios = page.evaluate("""Array.from(document.querySelectorAll('audio')).map(a => ({
        src: a.getAttribute('src'), duration: a.duration, error: a.error && a.error.code}))""")
    expected = {t.prompt_audio for t in session.turns} | {t.answer_audio for t in session.turns}
    assert {a["src"] for a in audios} == expected
    for a in audios:
        info = sf.info(str(folder / a["src"]))
        assert a["error"] is None, a
        assert math.isclose(a["duration"], info.frames / info.samplerate, abs_tol=0.1), a
    # Each one plays: its clock advances.
    for i in range(len(audios)):
        page.evaluate(f"document.querySelectorAll('audio')[{i}].play()")
        page.wait_for_function(f"() => document.querySelectorAll('audio')[{i}].currentTime > 0.2",
                               timeout=10000)
        page.evaluate(f"document.querySelectorAll('audio')[{i}].pause()")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    csp = [line for line in page.console_lines if "Content Security Policy" in line]
    assert csp == [], csp  # the report's own scripts and styles pass its policy
    assert not [line for line in page.console_lines if line.startswith("pageerror")]


def test_clicking_a_word_seeks_to_its_start(page, spoken):
    folder, session = spoken
    open_report(page, folder)
    for turn in (0, 2):
        words = words_of(session, turn)
        for i in (len(words) // 2, len(words) - 1):
            page.click(f'.answer[data-turn="{turn}"] .w[data-i="{i}"]')
            t = page.evaluate(f"document.querySelector('.answer[data-turn=\"{turn}\"] audio')"
                              ".currentTime")
            assert abs(t - words[i].start) < 0.03, (turn, i, t, words[i].start)
            spoken_now = page.get_attribute(f'.answer[data-turn="{turn}"] .w.speaking', "data-i")
            assert spoken_now == str(i)


def test_playing_highlights_the_word_being_spoken(page, spoken):
    folder, session = spoken
    open_report(page, folder)
    words = words_of(session, 0)
    sel = '.answer[data-turn="0"]'
    page.evaluate(f"document.querySelector('{sel} audio').play()")
    page.wait_for_function(f"() => document.querySelector('{sel} audio').currentTime > 1.0",
                           timeout=10000)
    state = page.evaluate(f"""(() => {{
        const a = document.querySelector('{sel} audio');
        const w = document.querySelector('{sel} .w.speaking');
        return {{t: a.currentTime, i: w ? parseInt(w.dataset.i) : null,
                 n: document.querySelectorAll('{sel} .w.speaking').length}};
    }})()""")
    page.evaluate(f"document.querySelector('{sel} audio').pause()")
    assert state["n"] == 1 and state["i"] is not None, state
    # The highlighted word is the last one started; the clock may have moved on a frame since.
    assert words[state["i"]].start <= state["t"] + 0.05
    assert state["i"] == len(words) - 1 or words[state["i"] + 1].start > state["t"] - 0.3


def test_scores_table_matches_session_json(page, spoken):
    folder, _ = spoken
    session = load_session(folder)
    open_report(page, folder)
    tables = page.evaluate("""Array.from(document.querySelectorAll('table.scores')).map(t => ({
        question: t.dataset.question,
        rows: Array.from(t.querySelectorAll('tbody tr')).map(r => ({
            criterion: r.dataset.criterion,
            level: r.querySelector('.level').textContent.trim(),
            rationale: r.querySelector('.rationale').textContent.trim(),
            evidence: Array.from(r.querySelectorAll('q.quote')).map(q => q.textContent)}))}))""")
    expected = [{"question": s.question_id,
                 "rows": [{"criterion": c.criterion, "level": str(c.level),
                           "rationale": c.rationale, "evidence": c.evidence}
                          for c in s.criteria]}
                for s in session.latest_scores]
    assert tables == expected
    overall = page.evaluate("Array.from(document.querySelectorAll('[data-overall]'))"
                            ".map(e => parseFloat(e.dataset.overall))")
    assert overall == [s.overall for s in session.latest_scores]
    # The reviewer's level sits beside the AI's, not instead of it.
    row = page.locator('table.scores[data-question="ml.bias-variance"] '
                       'tr[data-criterion="correctness"]')
    assert row.locator(".level").inner_text() == "4"
    assert row.locator(".reviewer").inner_text() == "5 by alice"


def test_evidence_is_highlighted_and_seeks(page, spoken):
    folder, session = spoken
    open_report(page, folder)
    quote = session.latest_scores[0].criteria[0].evidence[0]
    highlighted = page.evaluate("""Array.from(document.querySelectorAll(
        '.answer[data-turn="0"] .w.ev')).map(w => w.textContent).join(' ')""")
    assert quote in highlighted
    page.click("q.quote[data-s]")
    t = page.evaluate("document.querySelector('.answer[data-turn=\"0\"] audio').currentTime")
    assert abs(t - words_of(session, 0)[0].start) < 0.03
    missing = page.locator("q.quote.missing")
    assert missing.count() == 1 and "quantum" in missing.inner_text()


def test_corrections_faults_and_follow_ups_are_shown(page, spoken):
    folder, _ = spoken
    open_report(page, folder)
    assert page.locator(".corrections .raw").text_content() == "buy us"
    faults = page.locator("#faults").inner_text()
    assert "llm_fault" in faults.lower() and "timeout after 20 s" in faults
    assert "fallback" in faults.lower() and "turn_end" not in faults.lower()
    assert "follow-up" in page.locator("#turn-1 .kind").inner_text().lower()
    assert page.locator("svg.chart.pace").count() == 3
    assert page.locator("#coding .verdict").inner_text() == "partial"
    results = page.locator("#coding .case .result").all_inner_texts()
    assert results == ["passed", "failed"]
    assert "two_sum([3, 4, 5], 9)" in page.locator("#coding .case.fail").inner_text()


def test_saving_a_note_from_a_file_explains_the_server_is_needed(page, spoken):
    folder, _ = spoken
    open_report(page, folder)
    form = page.locator('form.annotate[data-turn="2"]')
    form.locator("summary").click()
    form.locator("textarea").fill("needs the server")
    form.locator("button[type=submit]").click()
    assert "--serve" in form.locator(".status").inner_text()
    assert all(a.comment != "needs the server" for a in load_session(folder).annotations)


def test_the_launcher_page_opens_the_report_without_the_token_on_a_command_line(page, spoken,
                                                                              tmp_path):
    """`review --serve` opens a private file that forwards to the token's URL (a URL on the
    browser's command line is readable by every local user): the real browser follows it, keeps
    the cookie across the cross-site forward and redirect, and can then save a note."""
    import shutil
    import stat

    original, _ = spoken
    folder = tmp_path / "recordings" / original.name  # a copy: the module's session stays as it is
    shutil.copytree(original, folder)
    server = serve(folder.parent)
    try:
        launcher = server.launcher(folder)
        assert stat.S_IMODE(launcher.stat().st_mode) == 0o600
        assert stat.S_IMODE(launcher.parent.stat().st_mode) == 0o700
        page.goto(launcher.as_uri())
        page.wait_for_url(f"http://127.0.0.1:{server.port}/{folder.name}/report.html")
        assert "token=" not in page.url
        wait_audio_ready(page)  # the audio requests carry the cookie too
        form = page.locator('form.annotate[data-turn="2"]')
        form.locator("summary").click()
        form.locator("textarea").fill("Opened through the launcher.")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert load_session(folder).annotations[-1].comment == "Opened through the launcher."
    finally:
        server.stop()
    assert not launcher.exists()


def test_saving_a_note_through_the_local_server(page, spoken):
    folder, _ = spoken
    server = serve(folder.parent)
    try:
        page.goto(server.url_for(folder))
        wait_audio_ready(page)
        # Seeking works over HTTP too (the server answers byte ranges).
        page.click('.answer[data-turn="2"] .w[data-i="2"]')
        t = page.evaluate("document.querySelector('.answer[data-turn=\"2\"] audio').currentTime")
        assert t > 0
        form = page.locator('form.annotate[data-turn="2"]')
        form.locator("summary").click()
        form.locator(".use-time").click()
        form.locator("textarea").fill("Say what the checklist contained.")
        form.locator('select[data-criterion="structure"]').select_option("3")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        note = page.locator('.note[data-turn="2"]')
        assert "Say what the checklist contained." in note.inner_text()
        stored = load_session(folder).annotations[-1]
        assert (stored.turn, stored.levels, stored.comment) == \
            (2, {"structure": 3}, "Say what the checklist contained.")
        assert stored.at_s == pytest.approx(t, abs=0.06)
        row = page.locator('table.scores[data-question="beh.disagreement"] '
                           'tr[data-criterion="structure"]')
        assert row.locator(".level").inner_text() == "2"  # the AI's level is kept
        assert row.locator(".reviewer").inner_text() == "3 by reviewer"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rec") / "hostile"
    build_hostile_session(folder)
    write_report(folder)
    write_feedback_md(folder)
    return folder


def check_inert(page) -> None:
    page.wait_for_timeout(300)  # give an injected onerror handler its chance to fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\" i]').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2  # data + our code
    assert page.evaluate("document.querySelectorAll('[onerror], [onclick], [onload]').length") == 0
    body = page.evaluate("document.body.innerText")
    for s in HOSTILE:
        assert s in body, s


def test_hostile_session_renders_as_text(page, hostile):
    page.goto((hostile / "report.html").resolve().as_uri())
    check_inert(page)
    # Clicking every word, quote and note time runs only our handlers.
    for el in page.locator(".w, q.quote, button.seek").all():
        el.click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # The hostile audio paths were not linked at all.
    assert page.evaluate("document.querySelectorAll('audio').length") == 0
    assert "javascript:" in page.locator(".turn .muted").first.inner_text()


def test_hostile_session_over_http_and_its_notes(page, hostile):
    server = serve(hostile.parent)
    try:
        page.goto(server.url_for(hostile))
        check_inert(page)
        form = page.locator('form.annotate[data-turn="0"]')
        form.locator("summary").click()
        form.locator("textarea").fill(HOSTILE[1] + " reviewer says " + HOSTILE[0])
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        check_inert(page)
        assert "reviewer says" in page.locator("#turn-0").inner_text()
    finally:
        server.stop()


def test_json_data_block_cannot_close_its_script(hostile):
    html = (hostile / "report.html").read_text()
    start = html.index('<script type="application/json" id="report-data">')
    block = html[start:html.index("</script>", start)]
    assert "<" not in block.split(">", 1)[1]
    data = json.loads(block.split(">", 1)[1])
    assert data["folder"] == "hostile" and data["session_id"].startswith("hostile-<script>")


@pytest.mark.slow
def test_after_the_demo_every_answer_replays_word_by_word(page, recordings, transcriber,
                                                          tmp_path, monkeypatch):
    """The issue's 'done when', as a new user would: run the demo, open its report, and replay
    each answer word by word beside its scores and evidence."""
    from typer.testing import CliRunner

    from mockinterview.cli.app import app
    from mockinterview.store import session_dirs

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["demo", "--no-play"])
    assert result.exit_code == 0, result.output
    (folder,) = session_dirs(recordings)
    result = CliRunner().invoke(app, ["report"])  # the latest session by default
    assert result.exit_code == 0, result.output
    session = load_session(folder)
    open_report(page, folder)

    audios = page.evaluate("Array.from(document.querySelectorAll('audio'))"
                           ".map(a => [a.getAttribute('src'), a.duration])")
    assert len(audios) >= 5
    for src, duration in audios:
        info = sf.info(str(folder / src))
        assert math.isclose(duration, info.frames / info.samplerate, abs_tol=0.1), src
    answered = [t for t in session.turns if t.answer_audio and t.transcript]
    for t in answered:
        words = [w for s in t.transcript.segments for w in s.words]
        i = len(words) // 2
        page.click(f'.answer[data-turn="{t.index}"] .w[data-i="{i}"]')
        now = page.evaluate(f"document.querySelector('.answer[data-turn=\"{t.index}\"] "
                            "audio.answer-audio').currentTime")
        assert abs(now - words[i].start) < 0.03, (t.index, now, words[i].start)
    levels = page.evaluate("""Array.from(document.querySelectorAll('table.scores')).map(t =>
        [t.dataset.question, Array.from(t.querySelectorAll('tbody tr')).map(r =>
            [r.dataset.criterion, parseInt(r.querySelector('.level').textContent)])])""")
    assert levels == [[s.question_id, [[c.criterion, c.level] for c in s.criteria]]
                      for s in session.latest_scores]
    # Every evidence quote the engine kept is found and highlighted in the transcript.
    quotes = sum(len(c.evidence) for s in session.latest_scores for c in s.criteria)
    assert page.locator("q.quote[data-s]").count() == quotes
    assert page.locator("q.quote.missing").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-report.png"), full_page=True)
