"""Assemble an interview from configuration and options, run it, write its outputs.

The CLI calls these; tests call them too, so the same wiring is exercised end to end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockinterview.bank import Bank, load_bank, sha256_file
from mockinterview.config import Config
from mockinterview.errors import MockInterviewError
from mockinterview.interviewer.prompts import default_prompts_dir
from mockinterview.schema import Plan, Session
from mockinterview.session.flow import Components, Interview, RecordingUI
from mockinterview.speech.listen import AnswerSource
from mockinterview.speech.speak import Player
from mockinterview.store import load_session, new_session_dir, save_session, update_index


@dataclass
class RunOptions:
    engine: str | None = None  # offline | llm | None (auto from config)
    model: str | None = None  # speech model name or path
    play: bool = True
    vocabulary: bool = True
    max_follow_ups: int | None = None
    voice: str | None = None  # piper | espeak | None (config audio.voice, default auto)
    deterministic_voice: bool = False  # noise scales 0: identical audio run to run (tests)


def make_brain(cfg: Config, engine: str, style: str, on_fault=None, role: str = "ml-engineer",
               level: str = "mid", profiles=None):
    """The offline engine, or the LLM engine with the offline engine as its fallback."""
    from mockinterview.interviewer.offline import OfflineBrain

    if engine == "offline":
        return OfflineBrain(style)
    try:
        from mockinterview.interviewer.llm import make_llm_brain
    except ImportError as e:  # pragma: no cover - shipped with the package
        raise MockInterviewError(f"the LLM engine is unavailable ({e})") from None
    return make_llm_brain(cfg, style=style, on_fault=on_fault, role=role, level=level,
                          profiles=profiles)


def prompt_dir(cfg: Config) -> Path:
    return default_prompts_dir(cfg.prompts)


def file_hashes(bank: Bank, cfg: Config) -> dict[str, str]:
    hashes = {f"rubrics/{k}": v for k, v in bank.hashes.items()}
    pdir = prompt_dir(cfg)
    if pdir.is_dir():
        for p in sorted(pdir.glob("*.j2")):
            hashes[f"prompts/{p.name}"] = sha256_file(p)
    return hashes


def new_session(cfg: Config, plan: Plan, engine: str, stt_model: str, source_kind: str,
                follow_up_of: str | None = None,
                answer_folder: Path | None = None, tailoring=None) -> tuple[Session, Path]:
    recordings = cfg.recordings_dir()
    folder = new_session_dir(recordings, f"{plan.role}-{plan.level}")
    bank = load_bank(cfg.rubrics)
    session = Session(id=folder.name, engine=engine, stt_model=stt_model,
                      answer_source=source_kind, plan=plan,
                      answer_folder=str(Path(answer_folder).resolve()) if answer_folder else None,
                      hashes=file_hashes(bank, cfg), follow_up_of=follow_up_of,
                      tailoring=tailoring)
    save_session(session, folder)
    return session, folder


def run_interview(cfg: Config, session: Session, folder: Path, source: AnswerSource,
                  opts: RunOptions, ui=None, bank: Bank | None = None, clock=None,
                  transcriber: Any = None, fallback_text=None, resumed: bool = False) -> Session:
    bank = bank or load_bank(cfg.rubrics)
    if session.tailoring is not None and session.tailoring.generated:
        # the model's questions for this job (issue 19)
        from mockinterview.session.tailor import with_generated

        bank = with_generated(bank, session.tailoring.generated)
    engine = session.engine.split(":")[0]
    faults: list[tuple[str, dict]] = []
    interview: Interview | None = None

    told: set[str] = set()

    def on_fault(kind: str, data: dict) -> None:
        if interview is not None:
            interview.event("llm_fault", fault=kind, **data)
            if kind not in told:  # say so once per kind of fault, not on every call
                told.add(kind)
                interview.p.ui.info(f"model problem ({kind}) during {data.get('call', 'a call')}:"
                                    " the offline engine answers instead")
        else:
            faults.append((kind, data))

    brain = make_brain(cfg, engine, session.plan.style, on_fault=on_fault,
                       role=session.plan.role, level=session.plan.level, profiles=bank.profiles)
    if transcriber is None and source.kind != "text":
        from mockinterview.speech.transcribe import WhisperTranscriber

        transcriber = WhisperTranscriber(opts.model or cfg.stt.model,
                                         compute_type=cfg.stt.compute_type,
                                         cpu_threads=cfg.stt.cpu_threads)
    from mockinterview.speech.piper import choose_voice, voice_info

    notices: list[str] = []
    voice, _why = choose_voice(opts.voice or cfg.audio.voice, style=session.plan.style,
                               deterministic=opts.deterministic_voice, on_notice=notices.append)
    session.voice = voice_info(voice)
    parts = Components(
        bank=bank, brain=brain, voice=voice, source=source, transcriber=transcriber,
        player=Player(device=cfg.audio.output_device, enabled=opts.play and cfg.audio.play),
        ui=ui or RecordingUI(), vocabulary=opts.vocabulary and cfg.stt.vocabulary,
        verify=cfg.stt.verify,
        fallback_text=fallback_text,
    )
    if clock is not None:
        parts.clock = clock
    if source.kind == "mic" and source.tape is None:
        from mockinterview.speech.tape import SessionTape

        source.tape = SessionTape(folder / "audio" / "session.wav")
    max_fu = opts.max_follow_ups if opts.max_follow_ups is not None else \
        (1 if engine == "offline" else cfg.llm.max_follow_ups)
    interview = Interview(session, folder, parts, max_follow_ups=max_fu)
    for notice in notices:  # one line: the natural voice is missing and why
        parts.ui.info(notice)
    for kind, data in faults:
        interview.event("llm_fault", fault=kind, **data)
    try:
        session = interview.run(resumed=resumed)
    finally:
        interview.save()
        with_outputs(cfg, session, folder)
    return session


def with_outputs(cfg: Config, session: Session, folder: Path) -> list[str]:
    """feedback.md, report.html and the index; a failure here never loses the session."""
    problems = []
    from mockinterview.review.report import write_feedback_md, write_report

    try:
        write_feedback_md(folder, session)
        write_report(folder, session)
    except MockInterviewError as e:
        problems.append(str(e))
    try:
        update_index(cfg.recordings_dir(), session, folder)
    except MockInterviewError as e:
        problems.append(str(e))
    return problems


def resume(cfg: Config, folder: Path, source: AnswerSource, opts: RunOptions, ui=None,
           transcriber: Any = None) -> Session:
    session = load_session(folder)
    if session.status == "completed":
        raise MockInterviewError(f"{folder}: this session is already complete")
    return run_interview(cfg, session, folder, source, opts, ui=ui, transcriber=transcriber,
                         resumed=True)


def short_id() -> str:
    return uuid.uuid4().hex[:8]
