"""The interview loop: sections in order, questions, follow-ups, commands, the clock, resume.

Order of work per answer, so that nothing is lost: the answer reaches disk (the source writes the
WAV or the typed text goes into the turn), session.json is saved, then it is transcribed, then the
follow-up is decided, and scoring runs in the background. The flow never prints: it reports to a
:class:`UI` that the CLI draws with rich (and tests record).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mockinterview.bank import Bank
from mockinterview.clock import Clock, RealClock
from mockinterview.errors import MockInterviewError
from mockinterview.interviewer.base import AnswerContext, Brain
from mockinterview.interviewer.scoring import delivery_metrics
from mockinterview.schema import (
    Delivery,
    Event,
    Question,
    QuestionScore,
    ScoringRun,
    Session,
    Transcript,
    Turn,
    TurnKind,
)
from mockinterview.session.commands import detect_command
from mockinterview.speech.listen import AnswerRequest, AnswerSource, CapturedAnswer
from mockinterview.speech.speak import Player, Voice
from mockinterview.store import save_session

FEEDBACK_RESERVE_S = 60.0
PATIENCE = {"friendly": 1.2, "neutral": 1.0, "demanding": 0.85}
SECTION_INTROS = {
    "introduction": "Let's start with a short introduction.",
    "technical": "Now some technical questions.",
    "coding": "Next, a coding challenge.",
    "behavioral": "Let's move on to some behavioural questions.",
    "system_design": "Now a system design question.",
    "candidate_questions": "We have a few minutes left. What questions do you have for me?",
    "feedback": "That's the end of the questions. Here is my feedback.",
}
STYLE_WORDS = {
    "friendly": {"hello": "Hi, and welcome! I'm your interviewer today, and I'm glad you're here.",
                 "thanks": "Thank you, that was helpful.", "skip": "No problem, let's move on."},
    "neutral": {"hello": "Hello, I'm your interviewer today.",
                "thanks": "Thank you.", "skip": "Okay, let's move on."},
    "demanding": {"hello": "Hello. I'm your interviewer. We have a lot to cover, so let's be "
                           "efficient.", "thanks": "Noted.", "skip": "Skipping. Let's continue."},
}


class UI(Protocol):
    def interviewer(self, text: str) -> None: ...
    def candidate(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def clock(self, section: str, section_left_s: float, total_left_s: float) -> None: ...
    def step(self, label: str) -> contextlib.AbstractContextManager: ...
    def listening(self, meter: Any = None) -> contextlib.AbstractContextManager: ...


class RecordingUI:
    """A UI that keeps what it was shown: for tests and non-interactive runs."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def interviewer(self, text: str) -> None:
        self.lines.append(("interviewer", text))

    def candidate(self, text: str) -> None:
        self.lines.append(("candidate", text))

    def info(self, text: str) -> None:
        self.lines.append(("info", text))

    def clock(self, section: str, section_left_s: float, total_left_s: float) -> None:
        pass

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.lines.append(("step", label))
        yield

    @contextlib.contextmanager
    def listening(self, meter: Any = None) -> Iterator[None]:
        yield


@dataclass
class Components:
    """Everything the flow talks to: one object per external dependency."""

    bank: Bank
    brain: Brain
    voice: Voice
    source: AnswerSource
    transcriber: Any | None  # Transcriber; None when every answer is typed
    player: Player = field(default_factory=lambda: Player(enabled=False))
    ui: UI = field(default_factory=RecordingUI)
    clock: Clock = field(default_factory=RealClock)
    fallback_text: Callable[[str], str] | None = None  # typed input after a device failure
    vocabulary: bool = True
    verify: bool = True  # the vocabulary pass's acoustic verification (vocab.verify)


class Interview:
    """Runs (or resumes) one session stored in ``folder``."""

    def __init__(self, session: Session, folder: Path, parts: Components,
                 max_follow_ups: int = 1):
        self.s = session
        self.folder = Path(folder)
        self.p = parts
        self.max_follow_ups = max_follow_ups
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")
        self._futures: list[Future] = []
        self._ended = False
        self._lock = threading.RLock()  # scoring threads record events and scores too
        # streamed answers whose verified vocabulary pass runs with the question's scoring, off
        # the turn's critical path: turn index -> (answer audio, the question's terms)
        self._to_verify: dict[int, tuple[Path, list[str]]] = {}
        c = self.s.cursor
        c.setdefault("section", 0)
        c.setdefault("question", 0)
        c.setdefault("answers", 0)
        c.setdefault("elapsed_ms", 0)
        self._t0 = self.p.clock.now() - c["elapsed_ms"] / 1000.0
        if self.p.source.on_warning is None:
            self.p.source.on_warning = self.warn_time
        if not self.s.scoring_runs:
            self.s.scoring_runs.append(ScoringRun(
                id="live", engine=self.p.brain.name, hashes=dict(self.s.hashes),
                rubric_dir=str(self.p.bank.root)))

    # ------------------------------------------------------------------ bookkeeping

    def elapsed(self) -> float:
        return self.p.clock.now() - self._t0

    def total_left(self) -> float:
        return self.s.plan.minutes * 60.0 - self.elapsed()

    def event(self, kind: str, turn: int | None = None, **data: Any) -> None:
        with self._lock:
            self.s.events.append(Event(kind=kind, t_mono=round(self.p.clock.now(), 4),
                                       turn=turn, data=data))

    def save(self) -> None:
        with self._lock:
            self.s.cursor["elapsed_ms"] = int(self.elapsed() * 1000)
            save_session(self.s, self.folder)

    def _advance(self, seconds: float) -> None:
        self.p.clock.advance(seconds)

    # ------------------------------------------------------------------ speech out

    def say(self, text: str, turn: int | None = None, name: str | None = None,
            prepared: Any = None) -> str | None:
        """Render (and play) one utterance; returns its WAV path relative to the folder.

        A voice that streams (Piper) plays its first sentence while the rest is synthesised;
        ``prepared`` is audio already synthesised for ``text`` (say_stream's look-ahead)."""
        self.p.ui.interviewer(text)
        n = sum(1 for e in self.s.events if e.kind == "utterance")
        rel = f"audio/{name or f'say-{n + 1:03d}'}.wav"
        path = self.folder / rel
        voice = self.p.voice
        if voice.streams and self.p.player.available():
            return self._say_streaming(text, turn, rel, voice.stream(text) if prepared is None
                                       else iter([prepared]))
        if prepared is not None:
            from mockinterview.speech.audio import write_wav

            write_wav(path, prepared, self.p.voice.sample_rate)
        else:
            self.p.voice.render(text, path)
        self.event("utterance", turn, text=text, audio=rel)
        self.event("question_audio_start", turn, audio=rel)
        tape = self.p.source.tape
        if tape is not None:  # the whole session on one timeline, for reviewers
            tape.add_file(path, tape.clock.now())
        played = self.p.player.play(path)
        if self.p.player.unavailable_reason and not self.s.cursor.get("told_no_audio"):
            self.s.cursor["told_no_audio"] = 1
            self.p.ui.info(self.p.player.unavailable_reason)
        if not played:
            from mockinterview.speech.audio import duration_s

            self._advance(duration_s(path))
        self.event("question_audio_end", turn, audio=rel)
        return rel

    def _say_streaming(self, text: str, turn: int | None, rel: str, chunks) -> str:
        """Play a streaming voice's sentences as they are synthesised; keep the whole WAV at the
        voice's own rate (22,050 Hz for Piper) and place it on the session tape."""
        from mockinterview.errors import AudioError
        from mockinterview.speech.audio import _resample, write_wav

        sr = self.p.voice.sample_rate
        self.event("utterance", turn, text=text, audio=rel)
        started: list[float] = []

        def on_start() -> None:
            tape = self.p.source.tape  # the tape's clock: its timeline is the microphone's
            started.append(tape.clock.now() if tape is not None else self.p.clock.now())
            self.event("question_audio_start", turn, audio=rel)

        samples, played = self.p.player.play_stream(chunks, sr, on_start=on_start)
        if not started:
            on_start()
        if samples.size == 0:
            raise AudioError(f"{self.folder / rel}: text-to-speech produced no audio")
        write_wav(self.folder / rel, samples, sr)
        tape = self.p.source.tape
        if tape is not None:  # the tape is 16 kHz: resample the voice's 22,050 Hz
            tape.add(_resample(samples, sr), started[0])
        if self.p.player.unavailable_reason and not self.s.cursor.get("told_no_audio"):
            self.s.cursor["told_no_audio"] = 1
            self.p.ui.info(self.p.player.unavailable_reason)
        if not played:
            self._advance(samples.size / sr)
        self.event("question_audio_end", turn, audio=rel)
        return rel

    def say_stream(self, sentences: Iterator[str], turn: int | None, name: str
                   ) -> tuple[str, str | None]:
        """Speak sentences as they arrive (the LLM streams them), so the candidate waits for
        the first sentence only. Returns the whole text and one WAV joining the pieces.

        With a voice that can synthesise ahead (Piper), a thread pulls the next sentence from
        the model and synthesises it while the current one plays, so consecutive sentences
        follow with no synthesis gap."""
        items: Iterator[str | tuple[str, Any]] = (
            self._synthesise_ahead(sentences) if self.p.voice.streams else sentences)
        said: list[str] = []
        pieces: list[str] = []
        for item in items:
            sentence, prepared = item if isinstance(item, tuple) else (item, None)
            sentence = sentence.strip()
            if not sentence:
                continue
            said.append(sentence)
            rel = self.say(sentence, turn, name=f"{name}-part{len(said)}", prepared=prepared)
            if rel:
                pieces.append(rel)
        if not pieces:
            return "", None
        return " ".join(said), self._join_audio(pieces, f"audio/{name}.wav")

    def _synthesise_ahead(self, sentences: Iterator[str]) -> Iterator[tuple[str, Any]]:
        """(sentence, samples) pairs, synthesised one sentence ahead of the caller."""
        import queue

        q: queue.Queue = queue.Queue(maxsize=2)

        def produce() -> None:
            try:
                for s in sentences:
                    s = s.strip()
                    if s:
                        q.put((s, self.p.voice.synthesise(s)))
            except BaseException as e:  # re-raised in the speaking thread
                q.put(e)
            finally:
                q.put(None)

        threading.Thread(target=produce, daemon=True, name="tts-ahead").start()
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item[1].size:
                yield item

    def _join_audio(self, pieces: list[str], rel: str) -> str:
        import numpy as np
        import soundfile as sf

        from mockinterview.speech.audio import write_wav

        if len(pieces) == 1:
            (self.folder / pieces[0]).replace(self.folder / rel)
            return rel
        chunks, rate = [], 22050
        for p in pieces:
            data, rate = sf.read(str(self.folder / p), dtype="float32")
            chunks.append(data)
            chunks.append(np.zeros(int(0.25 * rate), dtype=np.float32))
        write_wav(self.folder / rel, np.concatenate(chunks), rate)
        return rel

    # ------------------------------------------------------------------ the interview

    def run(self, resumed: bool = False) -> Session:
        """Run the interview from the saved cursor.

        ``resumed`` says the session was picked up again after a stop or a crash: the event log
        records it even when the stop came before the first answer (the intro is then said again).
        """
        plan = self.s.plan
        words = STYLE_WORDS.get(plan.style, STYLE_WORDS["neutral"])
        try:
            fresh = self.s.cursor["section"] == 0 and self.s.cursor["question"] == 0 \
                and not self.s.turns
            if resumed:
                self.event("resume", section=self.s.cursor["section"],
                           question=self.s.cursor["question"])
            if fresh:
                if not any(e.kind == "interview_start" for e in self.s.events):
                    self.event("interview_start", minutes=plan.minutes)
                intro = (f"{words['hello']} This is a {plan.minutes}-minute mock interview for a "
                         f"{plan.level} {plan.role.replace('-', ' ')} role. We'll go through "
                         f"{_section_list(plan)}. Say 'repeat the question', 'skip this one' or "
                         "'let's end here' at any time.")
                self.say(intro, name="intro")
                for r in plan.reasons:
                    self.p.ui.info(r)
                self.save()
            else:
                self.say("Welcome back. Let's continue where we stopped.", name=None)
            while self.s.cursor["section"] < len(plan.sections) and not self._ended:
                ps = plan.sections[self.s.cursor["section"]]
                self._run_section(ps)
                if self._ended:
                    break
                self.s.cursor["section"] += 1
                self.s.cursor["question"] = 0
                self.save()
            self._finish()
        finally:
            self._pool.shutdown(wait=True)
        return self.s

    def _run_section(self, ps) -> None:
        start = self.elapsed()
        section_used = float(self.s.cursor.get("section_used_ms", 0)) / 1000.0
        if self.s.cursor["question"] == 0:
            section_used = 0.0
        base = start - section_used

        def section_left() -> float:
            return ps.budget_s - (self.elapsed() - base)

        if ps.section == "feedback":
            return  # handled by _finish, always
        if self.s.cursor["question"] == 0:
            self.event("section_start", section=ps.section, budget_s=ps.budget_s)
            self.say(SECTION_INTROS[ps.section], name=f"section-{ps.section}")
        if ps.section == "candidate_questions":
            self._candidate_questions(section_left)
            return
        while self.s.cursor["question"] < len(ps.question_ids) and not self._ended:
            qi = self.s.cursor["question"]
            q = self.p.bank.question(ps.question_ids[qi])
            left = section_left()
            if qi > 0 and left < 0.4 * min(q.time_limit_s, ps.budget_s):
                self.event("section_time_up", section=ps.section, left_s=round(left, 1))
                self.p.ui.info(f"{ps.section}: time budget spent, moving on")
                break
            if self.total_left() < FEEDBACK_RESERVE_S + 30:
                self.event("interview_time_up", left_s=round(self.total_left(), 1))
                break
            self._ask_question(q, section_left)
            self.s.cursor["question"] += 1
            self.s.cursor["section_used_ms"] = int((self.elapsed() - base) * 1000)
            self.save()
        self.event("section_end", section=ps.section, used_s=round(self.elapsed() - base, 1))

    def warn_time(self, remaining_s: float) -> None:
        """Spoken before an answer reaches its limit (the microphone source calls this)."""
        text = f"About {max(5, int(round(remaining_s / 5.0)) * 5)} seconds left for this answer."
        self.event("length_warning", remaining_s=round(remaining_s, 1))
        with self.p.source.muted():
            self.say(text, name=None)

    def _answer_limit(self, q: Question, section_left: Callable[[], float]) -> float:
        # patience: a friendly interviewer lets an answer run longer than a demanding one
        patience = PATIENCE.get(self.s.plan.style, 1.0)
        limit = min(q.time_limit_s * patience, self.total_left() - FEEDBACK_RESERVE_S)
        limit = min(limit, max(section_left(), 0) + 0.5 * q.time_limit_s)
        return max(20.0, limit)

    def _ask_question(self, q: Question, section_left: Callable[[], float]) -> None:
        rubric = self.p.bank.rubric(q.section)
        ctx = AnswerContext(question=q, rubric=rubric, answers=[], role=self.s.plan.role,
                            level=self.s.plan.level, style=self.s.plan.style,
                            max_follow_ups=self.max_follow_ups,
                            section_terms=list(rubric.common_terms),
                            pairs=list(self.p.bank.pairs))
        prompt = q.text
        kind: TurnKind = "coding" if q.section == "coding" else "question"
        code_path = None
        if q.section == "coding" and q.coding:
            code_path = self._coding_setup(q)
            prompt = (f"{q.text} I've written a starter file for you at {code_path.name} in the "
                      "session folder. Think aloud while you code, and say 'done' or press Enter "
                      "when you want me to run it.")
        attempts = 0
        while True:
            attempts += 1
            turn, answer = self._turn(q, prompt, kind, section_left)
            cmd = detect_command(answer.text) if answer else None
            if cmd in ("repeat", "rephrase") and attempts <= 3:
                self._supersede(turn, cmd)
                prompt = (q.rephrasing or q.text) if cmd == "rephrase" else q.text
                continue
            if cmd == "pause":
                self._supersede(turn, cmd)
                self._pause()
                continue
            if cmd == "question" and attempts <= 3:
                self._supersede(turn, cmd)
                self.say("Of course, go ahead.", turn.index)
                t2, a2 = self._turn(q, "(candidate question)", "candidate_question", section_left,
                                    speak=False)
                self._supersede(t2, "candidate_question")
                if a2 and a2.text:
                    self._reply(t2, a2.text)
                prompt = "Back to the question: " + q.text
                continue
            if cmd == "skip":
                self._supersede(turn, cmd)
                self.event("skipped", turn.index, question=q.id)
                self.say(STYLE_WORDS[self.s.plan.style]["skip"], turn.index)
                return
            if cmd == "end":
                self._supersede(turn, cmd)
                self.event("ended_by_candidate", turn.index)
                self._ended = True
                return
            break
        ctx.answers.append(answer.text if answer else "")
        if answer and answer.delivery:
            ctx.delivery.append(answer.delivery)
        if code_path is not None:
            ctx.coding = self._coding_run(q, code_path, turn)
            for line in self._coding_discussion(q, ctx.coding):
                t, a = self._turn(q, line, "follow_up", section_left)
                ctx.follow_ups.append(line)
                ctx.answers.append(a.text if a else "")
                if a and a.delivery:
                    ctx.delivery.append(a.delivery)
        while len(ctx.follow_ups) < self.max_follow_ups and self.total_left() > FEEDBACK_RESERVE_S:
            if code_path is not None:
                break
            ctx.remaining_s = self.total_left()
            ctx.section_remaining_s = section_left()
            index = len(self.s.turns)
            text, audio = self.say_stream(self._follow_up_source(ctx), index,
                                          name=f"turn-{index:03d}-question")
            if not text:
                break
            ctx.follow_ups.append(text)
            t, a = self._turn(q, text, "follow_up", section_left, speak=False, audio=audio)
            cmd = detect_command(a.text) if a else None
            if cmd in ("repeat", "rephrase"):
                self._supersede(t, cmd)
                t, a = self._turn(q, text, "follow_up", section_left)
                cmd = detect_command(a.text) if a else None
            if cmd in ("skip", "end"):
                self._supersede(t, cmd)
                self._ended = cmd == "end"
                break
            ctx.answers.append(a.text if a else "")
            if a and a.delivery:
                ctx.delivery.append(a.delivery)
        self._score_later(ctx)

    def _follow_up_source(self, ctx: AnswerContext) -> Iterator[str]:
        """In the introduction, the CV's templated follow-ups come before the brain's (issue 19):
        they quote the CV's own lines, so they never state a fact the candidate did not write."""
        t = self.s.tailoring
        if ctx.question.section == "introduction" and t is not None and t.cv_follow_ups:
            asked = {turn.prompt_text for turn in self.s.turns}
            for line in t.cv_follow_ups:
                if line not in asked:
                    return iter([line])
        return self._brain_call("follow_up", ctx)

    # ------------------------------------------------------------------ one turn

    def _turn(self, q: Question | None, prompt: str, kind: TurnKind,
              section_left: Callable[[], float], speak: bool = True, audio: str | None = None):
        index = len(self.s.turns)
        turn = Turn(index=index, section=q.section if q else "candidate_questions",
                    question_id=q.id if q else None, kind=kind, prompt_text=prompt,
                    prompt_audio=audio)
        with self._lock:
            self.s.turns.append(turn)
        if speak:
            turn.prompt_audio = self.say(prompt, index, name=f"turn-{index:03d}-question")
        self.p.ui.clock(turn.section, section_left(), self.total_left())
        answer_rel = f"audio/turn-{index:03d}-answer.wav"
        req = AnswerRequest(answer_index=self.s.cursor["answers"], turn_index=index,
                            prompt_text=prompt, audio_path=self.folder / answer_rel,
                            max_s=self._answer_limit(q, section_left) if q else 120.0,
                            question_id=q.id if q else None)
        self.event("listening", index, max_s=round(req.max_s, 1))
        with self.p.ui.listening(self.p.source.meter):
            captured = self.p.source.capture(req)
        self.s.cursor["answers"] += 1
        for kind_, t in captured.events:
            self.event(kind_, index, t_source=round(t, 4))
        turn.capture = {"end_reason": captured.end_reason, **captured.stats}
        if captured.audio_path is not None:
            turn.answer_audio = answer_rel
        if captured.typed_text is not None:
            turn.transcript = Transcript(text=captured.typed_text, source="text")
        self.save()  # the answer is on disk before anything else happens with it
        if captured.end_reason == "device-error":
            self.p.ui.info("The microphone failed; what you said so far is saved. "
                           "Please type the rest of your answer.")
            if self.p.fallback_text:
                typed = self.p.fallback_text("Type the rest of your answer: ")
                turn.capture["typed_after_device_error"] = typed
                self.save()  # the typed rest is on disk before transcription starts
        transcript = self._transcribe(captured, turn, q)
        turn.transcript = transcript
        dur = captured.duration_s or (len(transcript.text.split()) / 2.5)
        turn.delivery = delivery_metrics(transcript, duration_s=dur)
        self._advance(dur)
        self.event("transcript_final", index, words=len(transcript.text.split()))
        self.p.ui.candidate(transcript.text or "(no answer)")
        self.save()
        return turn, _Answer(transcript.text, turn.delivery)

    def _terms(self, q: Question | None) -> list[str]:
        """The vocabulary expected in an answer to this question (empty when turned off)."""
        if q is None or not self.p.vocabulary:
            return []
        from mockinterview import vocab

        return vocab.question_terms(q, self.p.bank.rubric(q.section))

    def _transcribe(self, captured: CapturedAnswer, turn: Turn, q: Question | None) -> Transcript:
        """Plain decoding, a guarded pass biased to the question's terms, corrections, then
        the edits the audio supports; session.json keeps the raw text, the corrected text and
        each correction. A streamed answer (live microphone) gets the offline correction now
        and the verified pass in the background, before its question is scored (see
        :meth:`_verify_pending`): it costs about 0.07 s per second of speech, too much for the
        turn's latency."""
        from mockinterview import vocab

        typed_after = turn.capture.get("typed_after_device_error")
        terms = self._terms(q)
        if captured.transcript is not None:  # a streaming source already decoded it
            tr = captured.transcript
            if terms and tr.text:
                tr = vocab.respell(vocab.correct(tr, terms), terms,
                                   vocab.bank_terms(self.p.bank))
                if (self.p.verify and captured.audio_path is not None
                        and self.p.transcriber is not None):
                    self._to_verify[turn.index] = (Path(captured.audio_path), terms)
        elif captured.audio_path is not None and self.p.transcriber is not None:
            with self.p.ui.step(f"transcribing answer {turn.index}"):
                tr = vocab.transcribe_with_vocabulary(
                    self.p.transcriber, captured.audio_path, terms,
                    wider_terms=vocab.bank_terms(self.p.bank) if terms else (),
                    check_audio=self.p.verify)
        elif captured.typed_text is not None:
            tr = Transcript(text=captured.typed_text, source="text")
        else:
            tr = Transcript(text="")
        if typed_after:  # after the correction, which rebuilds the text from the audio's words
            tr = tr.model_copy(update={"text": (tr.text + " " + typed_after).strip()})
        return tr

    def _supersede(self, turn: Turn, why: str) -> None:
        turn.capture["command"] = why
        turn.kind = "statement" if turn.kind != "candidate_question" else turn.kind
        self.event("command", turn.index, command=why)
        self.save()

    def _pause(self) -> None:
        self.say("Sure, we're paused. Say 'resume' when you're ready.")
        self.event("paused")
        for _ in range(20):
            t, a = self._turn(None, "(paused)", "statement", lambda: 0.0, speak=False)
            self._supersede(t, "paused")
            if a is None or detect_command(a.text) in ("resume", None):
                break
        self.event("resumed")

    # ------------------------------------------------------------------ candidate's questions

    def _answer_candidate(self, text: str) -> Iterator[str]:
        profile = self.p.bank.profiles.get(self.s.plan.role)
        if profile is None:
            yield "That's a good question; your recruiter can tell you more."
            return
        yield from self._brain_call("answer_candidate", text, profile, self.s.plan.style)

    def _reply(self, turn: Turn, question: str) -> None:
        """Answer the candidate's question and keep the reply in the turn's record."""
        text, audio = self.say_stream(self._answer_candidate(question), turn.index,
                                      name=f"turn-{turn.index:03d}-reply")
        turn.capture["reply"] = text
        if audio:
            turn.capture["reply_audio"] = audio
        self.save()

    def _candidate_questions(self, section_left: Callable[[], float]) -> None:
        for i in range(4):
            if section_left() <= 0 and i > 0:
                break
            t, a = self._turn(None, "What would you like to ask me?" if i == 0 else
                              "Anything else you'd like to know?", "candidate_question",
                              section_left, speak=i > 0)
            text = a.text.strip() if a else ""
            if not text or _no_more(text):
                self.say("Great. Let's wrap up.", t.index)
                return
            if detect_command(text) == "end":
                return
            self._reply(t, text)

    # ------------------------------------------------------------------ coding

    def _coding_setup(self, q: Question) -> Path:
        from mockinterview.coding import challenge as coding

        path = coding.write_starter(q, self.folder)
        self.event("coding_starter", question=q.id, path=str(path.relative_to(self.folder)))
        self.p.ui.info(f"Starter file: {path}")
        with contextlib.suppress(Exception):
            coding.open_editor(path)
        return path

    def _coding_run(self, q: Question, path: Path, turn: Turn) -> dict[str, Any]:
        from mockinterview.coding import sandbox

        with self.p.ui.step("running your code against the hidden test cases"):
            assert q.coding is not None  # the coding section holds coding questions only
            run = sandbox.run_solution(path, q.coding)
        run.code_path = str(path.relative_to(self.folder))  # the folder may move; keep it relative
        self.s.coding_runs.append(run)
        self.event("coding_run", turn.index, question=q.id, verdict=run.verdict,
                   passed=run.passed, total=run.total)
        self.p.ui.info(f"Code run: {run.verdict}")
        self.save()
        return run.model_dump()

    def _coding_discussion(self, q: Question, run: dict[str, Any]) -> list[str]:
        from mockinterview.coding import challenge as coding
        from mockinterview.schema import CodingRun

        return coding.discussion_prompts(CodingRun.model_validate(run), q)[:3]

    # ------------------------------------------------------------------ brains and scoring

    def _brain_call(self, method: str, *args: Any) -> Iterator[str]:
        try:
            yield from getattr(self.p.brain, method)(*args)
        except MockInterviewError as e:
            self.event("brain_fault", method=method, error=str(e)[:200])

    def _score_later(self, ctx: AnswerContext) -> None:
        brain = self.p.brain

        def job() -> QuestionScore:
            self._verify_pending(ctx)
            return brain.score(ctx)

        fut = self._pool.submit(job)
        qid = ctx.question.id
        fut.add_done_callback(lambda f: self._store_score(f, qid, ctx))
        self._futures.append(fut)

    def _verify_pending(self, ctx: AnswerContext) -> None:
        """Run the verified vocabulary pass on this question's streamed answers (scoring
        thread), so the score reads the same text a recorded answer would get. The turn's
        transcript is replaced under the lock; the main thread's next save writes it."""
        from mockinterview import vocab
        from mockinterview.speech.audio import load_audio

        with self._lock:
            turns = [t for t in self.s.turns if t.question_id == ctx.question.id
                     and t.index in self._to_verify and t.transcript is not None]
        transcriber = self.p.transcriber
        for t in turns:
            path, terms = self._to_verify.pop(t.index)
            old = t.transcript
            if old is None or transcriber is None:
                continue
            try:
                wider = vocab.bank_terms(self.p.bank)
                new = vocab.respell(vocab.verify(old, load_audio(path),
                                                 transcriber.scorer, terms, wider),
                                    terms, wider)
            except Exception as e:  # the corrected transcript stands; nothing is lost
                self.event("verify_fault", t.index, error=str(e)[:200])
                continue
            typed_after = t.capture.get("typed_after_device_error")
            if typed_after:  # the verified text is rebuilt from the audio's words
                new = new.model_copy(update={"text": (new.text + " " + typed_after).strip()})
            if new.text == old.text:
                continue
            with self._lock:
                t.transcript = new
                if old.text in ctx.answers:
                    ctx.answers[ctx.answers.index(old.text)] = new.text
                self.event("transcript_verified", t.index,
                           corrections=sum(c.via == "verified" for c in new.corrections))

    def _store_score(self, fut: Future, qid: str, ctx: AnswerContext) -> None:
        try:
            score = fut.result()
        except Exception as e:  # a brain bug must not lose the interview
            self.event("scoring_fault", question=qid, error=str(e)[:200])
            from mockinterview.interviewer.offline import OfflineBrain

            score = OfflineBrain(self.s.plan.style).score(ctx)
        with self._lock:
            run = self.s.scoring_runs[0]
            run.scores = [s for s in run.scores if s.question_id != qid] + [score]

    def _finish(self) -> None:
        with self.p.ui.step("waiting for the last scores"):
            for f in self._futures:
                with contextlib.suppress(Exception):
                    f.result()
        scores = self.s.scoring_runs[0].scores if self.s.scoring_runs else []
        self.event("section_start", section="feedback", budget_s=0)
        fb = self._feedback(scores)
        self.s.feedback = fb
        self.save()
        lines = [SECTION_INTROS["feedback"], fb.summary]
        if fb.strengths:
            lines.append("What went well: " + " ".join(fb.strengths[:2]))
        if fb.improvements:
            lines.append("What to improve: " + " ".join(fb.improvements[:2]))
        if fb.next_steps:
            lines.append("Your next step: " + fb.next_steps[0])
        for i, line in enumerate(lines):
            self.say(line, name=f"feedback-{i + 1}")
        self.s.status = "completed"
        self.event("interview_end", elapsed_s=round(self.elapsed(), 1))
        tape = self.p.source.tape
        if tape is not None:
            tape.mark_now()
            tape.close()
        self.save()

    def _feedback(self, scores: list[QuestionScore]):
        questions = self.p.bank.questions
        try:
            return self.p.brain.feedback(scores, questions, self.s.plan.style)
        except Exception as e:
            self.event("brain_fault", method="feedback", error=str(e)[:200])
            from mockinterview.interviewer.offline import OfflineBrain

            return OfflineBrain(self.s.plan.style).feedback(scores, questions, self.s.plan.style)


@dataclass
class _Answer:
    text: str
    delivery: Delivery | None


def _no_more(text: str) -> bool:
    t = text.lower().strip()
    words = t.replace(",", " ").split()
    if words and words[0] in ("no", "nope", "nah") and len(words) <= 8:
        return True
    return any(p in t for p in ("no questions", "no more questions", "nothing else", "that's all",
                                "that is all", "no, thank", "no thank", "i'm good", "i am good"))


def _section_list(plan) -> str:
    names = [p.section.replace("_", " ") for p in plan.sections]
    names = ["behavioural questions" if n == "behavioral" else n for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
