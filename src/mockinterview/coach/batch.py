"""Batch work over many sessions: re-transcribe every answer, or re-score every session.

Why: a programme of 500 candidates x 10 sessions x 30 min holds 2,500 h of audio; after a better
speech model or a rubric change every answer must be processed again, which one process walking
sessions one by one cannot do in a night. The work runs on Ray (``pip install
'mockinterview[scale]'``) when it is installed, in this process otherwise (and says so).

How the job is cut and kept safe:

- **Answers, not sessions, are the unit of work.** Workers (Ray actors) load the speech model, or
  the scoring brain, once, and take answers one at a time (longest first), so one long session
  does not hold the job back. Each actor keeps ``in_flight`` answers queued to hide the round trip.
- **One writer per session file.** Workers only return results; this process (the driver) writes
  each session's ``session.json`` atomically once all of its answers are in, as a *new* version:
  a :class:`~mockinterview.schema.TranscriptionRun` beside the live transcripts, or a new
  :class:`~mockinterview.schema.ScoringRun` (as ``rescore`` does). Nothing is overwritten.
- **Resumable.** The job lives in ``<recordings>/.jobs/<job id>/``: ``job.json`` (what the job
  does), ``answers/`` (each finished answer's result, written atomically as it arrives) and
  ``done.jsonl`` (one line per session written or failed). The job id is a hash of what the job
  does (kind, model and options, or engine and rubric/prompt hashes), so running the same
  command again continues the same job: finished answers and sessions are skipped, and a session
  whose file already holds this job's run is never written twice.
- **A killed worker** (its process dies mid-answer) is restarted by Ray and its queued answers are
  retried (actor ``max_restarts`` / ``max_task_retries``); results are keyed by answer, so each
  answer lands exactly once.
- **Failures are per session.** An answer that fails (a damaged recording, a model error) fails
  its session, which is not written; the job goes on and lists the failures at the end. A rerun
  retries only what failed.

Nothing here prints: the CLI renders the events and the summary.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from mockinterview.errors import BatchError, MockInterviewError, SessionError
from mockinterview.store import (
    SESSION_FILE,
    atomic_write_text,
    find_session,
    load_session,
    save_session,
    session_dirs,
)

JOBS_DIR = ".jobs"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class BatchOptions:
    """Where and how wide the job runs.

    - ``address``: None starts a local Ray instance on 127.0.0.1 for the job (stopped after);
      ``"auto"`` joins the cluster this machine belongs to; ``"ray://HOST:PORT"`` a remote one
      through Ray Client. Ignored in-process.
    - ``workers=2``: actors (each loads the model once). On 2 quiet cores 2 workers with 1
      decoding thread each measured best: 23.3 audio s/s against 11.5 for one single-threaded
      worker (2.02x) and 13.4 for one worker with 2 threads (tiny.en, benchmarks/batch.py).
    - ``threads=0``: decoding threads per worker; 0 = the cores divided by the workers (>= 1).
    - ``in_flight=2``: answers queued per actor, so an actor never waits for the driver.
    - ``retries=3``: restarts of a dead actor and retries of its answers before the answer fails.
    - ``in_process``: run in this process even when Ray is installed (what the benchmark's
      in-process figure measures).
    - ``new_job``: start a fresh job even when the same one ran before (a job id with the time).
    """

    address: str | None = None
    workers: int = 2
    threads: int = 0
    in_flight: int = 2
    retries: int = 3
    in_process: bool = False
    new_job: bool = False

    def decode_threads(self) -> int:
        if self.threads:
            return self.threads
        return max(1, (os.cpu_count() or 2) // max(1, self.workers))


# ----------------------------------------------------------------------------- sessions


def resolve_sessions(recordings: Path, refs: list[str], all_sessions: bool = False) -> list[Path]:
    """Session folders from folder paths, ids (or unique prefixes), globs over folder names
    (``2026-12-*``), or every session with ``all_sessions``. Duplicates are removed; order kept."""
    out: list[Path] = []
    if all_sessions:
        out = session_dirs(recordings)
    for ref in refs:
        if any(ch in ref for ch in "*?["):
            p = Path(ref).expanduser()
            if p.parent != Path(".") and p.parent.is_dir():
                base, pattern = p.parent, p.name
            else:
                base, pattern = recordings, ref
            found = sorted(d for d in base.iterdir() if d.is_dir()
                           and fnmatch.fnmatch(d.name, pattern)
                           and (d / SESSION_FILE).exists()) if base.is_dir() else []
            if not found:
                raise BatchError(f"{ref}: no session folder matches in {base}")
            out += found
        else:
            out.append(find_session(recordings, ref))
    seen: set[Path] = set()
    unique = []
    for d in out:
        key = d.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(d)
    if not unique:
        raise BatchError(f"{recordings}: no sessions given (name folders, ids, globs, or --all)")
    return unique


# ----------------------------------------------------------------------------- work items


@dataclass
class Item:
    """One answer to process. ``payload`` goes to a worker; ``key`` names its result."""

    key: str  # "<session folder>/<answer>"
    session: str  # the session folder's name
    payload: dict[str, Any]
    audio_s: float = 0.0
    audio_path: Path | None = None  # read only when the answer is sent (never all at once)

    def wire(self) -> dict[str, Any]:
        """What travels to the worker: the payload, with the recording's bytes when it has one
        (a 2-minute 16 kHz WAV is 3.8 MB: 2,500 h of them could never be held at once)."""
        if self.audio_path is None:
            return self.payload
        return {**self.payload, "audio": self.audio_path.read_bytes()}


@dataclass
class SessionPlan:
    """What the job does with one session: its items, and what to check before writing."""

    folder: Path
    items: list[Item]
    fingerprint: str  # what the items were built from; a session edited since is not written
    problems: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # item keys in the order results are stored


class Kind(Protocol):
    """A kind of batch job: what to do per answer, and how results become a session version."""

    name: str

    def params(self) -> dict[str, Any]: ...

    def plan(self, folder: Path) -> SessionPlan: ...

    def worker_args(self) -> tuple: ...

    def worker_class(self) -> type: ...

    def write(self, folder: Path, plan: SessionPlan, results: dict[str, dict[str, Any]],
              job_id: str) -> str: ...


@contextmanager
def session_lock(folder: Path) -> Iterator[None]:
    """Hold the session's write lock (``.session.lock`` in its folder, flock): a batch write
    reads, appends and writes the file as one step, so two jobs at once never lose a run."""
    import fcntl

    fd = os.open(Path(folder) / ".session.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _answer_key(turn_index: int) -> str:
    return f"turn-{turn_index:03d}"


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


# --- transcribe


class TranscribeWorker:
    """Loads the speech model once; transcribes one answer's audio per call.

    The audio travels as the file's bytes (a 2-minute 16 kHz WAV is 3.8 MB), so workers on other
    machines need no shared storage.
    """

    def __init__(self, model: str | None, options: dict[str, Any], threads: int):
        from mockinterview.speech.transcribe import TranscribeOptions, WhisperTranscriber

        opts = dict(options)
        if isinstance(opts.get("temperature"), list):
            opts["temperature"] = tuple(opts["temperature"])
        self.transcriber = WhisperTranscriber(model, cpu_threads=threads,
                                              options=TranscribeOptions(**opts))

    def pid(self) -> int:
        return os.getpid()

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        from mockinterview.speech.audio import load_audio

        start = time.perf_counter()
        suffix = Path(payload["name"]).suffix or ".wav"
        with tempfile.TemporaryDirectory(prefix="mi-batch-") as tmp:
            path = Path(tmp) / f"answer{suffix}"
            path.write_bytes(payload["audio"])
            audio = load_audio(path)
        transcript = self.transcriber.transcribe(audio)
        return {"transcript": transcript.model_dump(mode="json"), "pid": os.getpid(),
                "seconds": round(time.perf_counter() - start, 3)}


class TranscribeKind:
    """Re-transcribe every recorded answer with ``model`` and decoding ``options``."""

    name = "transcribe"

    def __init__(self, model: str | None, options: Any = None, threads: int = 1):
        from mockinterview.speech.transcribe import EMBEDDED, TranscribeOptions

        self.model = model or EMBEDDED
        self.options = asdict(options or TranscribeOptions())
        self.threads = threads

    def params(self) -> dict[str, Any]:
        return {"model": self.model, "options": self.options}

    def worker_class(self) -> type:
        return TranscribeWorker

    def worker_args(self) -> tuple:
        return (self.model, self.options, self.threads)

    def plan(self, folder: Path) -> SessionPlan:
        import soundfile as sf

        s = load_session(folder)
        items, problems, marks = [], [], []
        for t in s.turns:
            if not t.answer_audio:
                continue
            path = folder / t.answer_audio
            marks.append((t.index, t.answer_audio))
            try:
                if not path.is_file():
                    raise FileNotFoundError(2, "no such file")
                seconds = float(sf.info(str(path)).duration)
            except OSError as e:
                problems.append(f"{path}: answer {t.index} recording cannot be read "
                                f"({e.strerror or e}); not transcribed")
                continue
            except Exception:  # noqa: BLE001 - libsndfile raises several types; the worker
                seconds = 0.0  # decodes other formats itself, or fails the answer clearly
            items.append(Item(key=f"{folder.name}/{_answer_key(t.index)}", session=folder.name,
                              payload={"turn": t.index, "name": t.answer_audio},
                              audio_s=seconds, audio_path=path))
        return SessionPlan(folder=folder, items=items, fingerprint=_hash(marks),
                           problems=problems, order=[i.key for i in items])

    def write(self, folder: Path, plan: SessionPlan, results: dict[str, dict[str, Any]],
              job_id: str) -> str:
        with session_lock(folder):
            return self._write(folder, plan, results, job_id)

    def _write(self, folder: Path, plan: SessionPlan, results: dict[str, dict[str, Any]],
               job_id: str) -> str:
        from mockinterview.schema import Transcript, TranscriptionRun

        s = load_session(folder)
        for run in s.transcription_runs:
            if run.job == job_id:
                return run.id  # written before the job was interrupted: never twice
        marks = [(t.index, t.answer_audio) for t in s.turns if t.answer_audio]
        if _hash(marks) != plan.fingerprint:
            raise SessionError(f"{folder / SESSION_FILE}: its answers changed during the job; "
                               "run the command again")
        transcripts = {}
        for key in plan.order:
            r = results[key]
            transcripts[int(r["turn"])] = Transcript.model_validate(r["transcript"])
        run = TranscriptionRun(id=f"transcribe-{len(s.transcription_runs) + 1}",
                               model=self.model, options=self.options, job=job_id,
                               transcripts=transcripts, problems=plan.problems)
        s.transcription_runs.append(run)
        save_session(s, folder)
        return run.id


# --- rescore


class RescoreWorker:
    """Loads the scoring brain once per interviewer style; scores one answered question per call.

    The driver builds each question's context from the stored turns with the bank it loaded (the
    same ``answer_contexts`` that ``rescore`` uses), so workers need neither the session files nor
    the rubric folder; the LLM engine reads its prompt templates once, in its constructor.
    """

    def __init__(self, cfg: Any, engine: str):
        self.cfg = cfg
        self.engine = engine
        self.brains: dict[str, Any] = {}

    def pid(self) -> int:
        return os.getpid()

    def brain(self, style: str):
        from mockinterview.coach.core import make_scorer

        if style not in self.brains:
            self.brains[style] = make_scorer(self.cfg, self.engine, style)
        return self.brains[style]

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        brain = self.brain(payload["style"])
        score = brain.score(payload["context"])
        return {"score": score.model_dump(mode="json"), "engine": getattr(brain, "name",
                                                                          self.engine),
                "pid": os.getpid(), "seconds": round(time.perf_counter() - start, 3)}


class RescoreKind:
    """Re-score every answered question with the bank in ``rubrics`` and ``engine``."""

    name = "rescore"

    def __init__(self, cfg: Any, engine: str = "offline", rubrics: Path | None = None,
                 prompts: Path | None = None):
        from mockinterview.bank import load_bank
        from mockinterview.coach.core import make_scorer, prompts_dir, version_hashes, with_dirs

        self.cfg = with_dirs(cfg, rubrics, prompts)
        self.engine = engine
        make_scorer(self.cfg, engine)  # a bad --engine or a missing endpoint fails here, once
        self.bank = load_bank(self.cfg.rubrics)
        self.hashes = version_hashes(self.bank, self.cfg)
        self.prompt_dir = str(prompts_dir(self.cfg))

    def params(self) -> dict[str, Any]:
        return {"engine": self.engine, "hashes": self.hashes}

    def worker_class(self) -> type:
        return RescoreWorker

    def worker_args(self) -> tuple:
        return (self.cfg, self.engine)

    def plan(self, folder: Path) -> SessionPlan:
        from mockinterview.coach.core import answer_contexts

        s = load_session(folder)
        contexts, problems = answer_contexts(s, self.bank)
        items = []
        for ctx in contexts:
            key = f"{folder.name}/{ctx.question.id}"
            words = sum(len(a.split()) for a in ctx.answers)
            items.append(Item(key=key, session=folder.name,
                              payload={"question": ctx.question.id, "style": s.plan.style,
                                       "context": ctx},
                              audio_s=sum(d.duration_s for d in ctx.delivery) or words / 2.5))
        return SessionPlan(folder=folder, items=items, fingerprint=_rescore_marks(s),
                           problems=problems, order=[i.key for i in items])

    def write(self, folder: Path, plan: SessionPlan, results: dict[str, dict[str, Any]],
              job_id: str) -> str:
        with session_lock(folder):
            return self._write(folder, plan, results, job_id)

    def _write(self, folder: Path, plan: SessionPlan, results: dict[str, dict[str, Any]],
               job_id: str) -> str:
        from mockinterview.coach.core import next_run_id
        from mockinterview.schema import QuestionScore, ScoringRun

        s = load_session(folder)
        for run in s.scoring_runs:
            if run.job == job_id:
                return run.id
        if _rescore_marks(s) != plan.fingerprint:
            raise SessionError(f"{folder / SESSION_FILE}: its answers changed during the job; "
                               "run the command again")
        scores = [QuestionScore.model_validate(results[k]["score"]) for k in plan.order]
        engine = results[plan.order[0]]["engine"] if plan.order else self.engine
        run = ScoringRun(id=next_run_id(s), engine=engine, rubric_dir=str(self.bank.root),
                         prompt_dir=self.prompt_dir, hashes=self.hashes, scores=scores,
                         job=job_id)
        s.scoring_runs.append(run)
        save_session(s, folder)
        return run.id


def _rescore_marks(session) -> str:
    return _hash([(t.index, t.question_id, t.kind, t.transcript.text if t.transcript else None,
                   sorted(t.capture)) for t in session.turns]
                 + [r.model_dump(mode="json") for r in session.coding_runs])


# ----------------------------------------------------------------------------- pools


class Pool(Protocol):
    """Runs items on workers; yields (item, result) or (item, the error's one line)."""

    backend: str
    workers: int

    def run(self, items: list[Item]) -> Iterator[tuple[Item, dict[str, Any] | str]]: ...

    def close(self) -> None: ...


class InProcessPool:
    """One worker in this process: what runs without Ray, and the benchmark's baseline."""

    backend = "in-process"
    workers = 1

    def __init__(self, worker_class: type, args: tuple):
        self.worker = worker_class(*args)

    def run(self, items: list[Item]) -> Iterator[tuple[Item, dict[str, Any] | str]]:
        for item in items:
            try:
                yield item, self.worker.run(item.wire())
            except MockInterviewError as e:
                yield item, str(e).splitlines()[0]
            except Exception as e:  # noqa: BLE001 - one answer's failure never stops the job
                yield item, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"

    def close(self) -> None:
        pass


def _one_line(e: BaseException) -> str:
    cause = getattr(e, "cause", None)  # RayTaskError carries the worker's exception
    if isinstance(cause, MockInterviewError):
        return str(cause).splitlines()[0]
    if cause is not None and str(cause):
        return f"{type(cause).__name__}: {str(cause).splitlines()[0]}"
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


class RayPool:
    """Ray actors, each with its own loaded model, fed answers as they free up.

    ``ray.init`` is called only when Ray is not initialised yet (a test or a notebook may have
    started it); an instance started here is shut down by :meth:`close`. A local instance binds
    to 127.0.0.1 and has no dashboard.
    """

    backend = "ray"

    def __init__(self, worker_class: type, args: tuple, options: BatchOptions):
        import ray

        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            try:
                if options.address:
                    ray.init(address=options.address, log_to_driver=False,
                             logging_level=logging.ERROR)
                else:
                    src = str(Path(__file__).resolve().parents[2])
                    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
                    ray.init(num_cpus=max(options.workers, os.cpu_count() or 1),
                             include_dashboard=False, _node_ip_address="127.0.0.1",
                             log_to_driver=False, logging_level=logging.ERROR,
                             runtime_env={"env_vars": {"PYTHONPATH": path}})
            except Exception as e:  # noqa: BLE001 - Ray raises many types for "cannot connect"
                where = options.address or "a local instance"
                hint = ""
                if (options.address or "").startswith("ray://") and \
                        os.environ.get("RAY_AUTH_MODE") != "token":
                    # measured with Ray 2.60: a head started by `ray start` wants the token, and
                    # a client without RAY_AUTH_MODE=token never sends it (a timeout, not a "no")
                    hint = ("; a cluster with token authentication needs RAY_AUTH_MODE=token and "
                            "its token (~/.ray/auth_token or RAY_AUTH_TOKEN) here")
                raise BatchError(f"--address {where}: cannot start or reach Ray "
                                 f"({_one_line(e)}){hint}") from None
            self.started = True
        self.workers = options.workers
        self.in_flight = max(1, options.in_flight)
        remote: Any = ray.remote(num_cpus=1, max_restarts=options.retries,
                            max_task_retries=options.retries)(worker_class)
        self.actors: list[Any] = [remote.remote(*args) for _ in range(options.workers)]

    def pids(self) -> list[int]:
        return self.ray.get([a.pid.remote() for a in self.actors])

    def run(self, items: list[Item]) -> Iterator[tuple[Item, dict[str, Any] | str]]:
        ray = self.ray
        queue = list(reversed(items))  # pop() takes the next item from the end
        running: dict[Any, tuple[Item, int]] = {}
        failed: list[tuple[Item, str]] = []

        def feed(actor_index: int) -> None:
            while queue:
                item = queue.pop()
                try:
                    payload = item.wire()
                except OSError as e:  # the recording went away since the job was planned
                    failed.append((item, f"{item.audio_path}: cannot read ({e.strerror or e})"))
                    continue
                ref = self.actors[actor_index].run.remote(payload)
                running[ref] = (item, actor_index)
                return

        for _ in range(self.in_flight):  # one answer to each actor, then the next round
            for i in range(len(self.actors)):
                feed(i)
        while running or failed:
            if failed:
                yield failed.pop()
                continue
            ready, _ = ray.wait(list(running), num_returns=1)
            ref = ready[0]
            item, actor_index = running.pop(ref)
            try:
                result: dict[str, Any] | str = ray.get(ref)
            except Exception as e:  # noqa: BLE001 - task error or actor dead after its retries
                result = _one_line(e)
            feed(actor_index)
            yield item, result

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001, S110 - already gone
                pass
        if self.started:
            self.ray.shutdown()


def make_pool(kind: Kind, options: BatchOptions) -> Pool:
    """Ray when installed (and not ``in_process``), this process otherwise."""
    if options.in_process or not ray_available():
        return InProcessPool(kind.worker_class(), kind.worker_args())
    return RayPool(kind.worker_class(), kind.worker_args(), options)


# ----------------------------------------------------------------------------- the job


@dataclass
class Progress:
    """What the driver reports after each answer (the CLI draws it)."""

    answers_total: int
    answers_done: int
    audio_total_s: float
    audio_done_s: float
    sessions_total: int
    sessions_done: int
    sessions_failed: int
    elapsed_s: float

    @property
    def audio_per_s(self) -> float:
        return self.audio_done_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchSummary:
    job: str
    kind: str
    backend: str
    workers: int
    folder: Path
    sessions: int = 0
    written: dict[str, str] = field(default_factory=dict)  # session -> the run written
    already_done: list[str] = field(default_factory=list)  # finished by an earlier run
    skipped: dict[str, str] = field(default_factory=dict)  # session -> why (nothing to do)
    failed: dict[str, str] = field(default_factory=dict)  # session -> the first error
    problems: list[str] = field(default_factory=list)  # answers left out (missing recordings)
    answers: int = 0  # processed in this run
    answers_resumed: int = 0  # results kept from an interrupted run
    audio_s: float = 0.0  # seconds of audio processed in this run
    elapsed_s: float = 0.0
    worker_s: float = 0.0  # the workers' own time on the answers: / elapsed_s = parallelism
    worker_pids: list[int] = field(default_factory=list)

    @property
    def audio_per_s(self) -> float:
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"job": self.job, "kind": self.kind, "backend": self.backend,
                "workers": self.workers, "job_folder": str(self.folder),
                "sessions": self.sessions, "written": self.written,
                "already_done": self.already_done, "skipped": self.skipped,
                "failed": self.failed, "problems": self.problems, "answers": self.answers,
                "answers_resumed": self.answers_resumed, "audio_s": round(self.audio_s, 2),
                "elapsed_s": round(self.elapsed_s, 3), "worker_s": round(self.worker_s, 3),
                "audio_s_per_s": round(self.audio_per_s, 2)}


class JobStore:
    """The job's folder: ``job.json``, ``answers/<session>/<answer>.json``, ``done.jsonl``."""

    def __init__(self, recordings: Path, kind: Kind, new_job: bool = False):
        params = {"kind": kind.name, **kind.params()}
        digest = _hash(params)[:12]
        if new_job:
            digest = _hash([params, time.time_ns()])[:12]
        self.id = f"{kind.name}-{digest}"
        self.folder = Path(recordings) / JOBS_DIR / self.id
        self.answers = self.folder / "answers"
        try:  # private to the owner, as the recordings are
            for d in (self.folder.parent, self.folder, self.answers):
                d.mkdir(exist_ok=True, mode=0o700)
        except OSError as e:
            raise BatchError(f"{self.folder}: cannot create the job folder ({e.strerror})") \
                from None
        job_file = self.folder / "job.json"
        if not job_file.exists():
            atomic_write_text(job_file, json.dumps(
                {"id": self.id, "created": datetime.now(UTC).isoformat(), **params},
                indent=2, default=str))
        self.log = self.folder / "done.jsonl"

    def done_sessions(self) -> dict[str, dict[str, Any]]:
        """Session -> its last line; a torn last line (a crash mid-append) is ignored."""
        out: dict[str, dict[str, Any]] = {}
        if not self.log.exists():
            return out
        for line in self.log.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[entry["session"]] = entry
        return out

    def mark(self, session: str, **fields: Any) -> None:
        line = json.dumps({"session": session, "at": datetime.now(UTC).isoformat(), **fields})
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(line + "\n")  # one line per write: a crash tears at most the last line
            f.flush()
            os.fsync(f.fileno())

    def _path(self, key: str) -> Path:
        session, _, answer = key.partition("/")
        return self.answers / session / f"{answer}.json"

    def result(self, key: str) -> dict[str, Any] | None:
        p = self._path(key)
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def save(self, key: str, result: dict[str, Any]) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(p, json.dumps(result))

    def forget(self, session: str) -> None:
        """Drop a written session's answer results (the session file now holds them)."""
        d = self.answers / session
        if d.is_dir():
            for p in d.iterdir():
                p.unlink(missing_ok=True)
            d.rmdir()


def run_batch(kind: Kind, folders: list[Path], recordings: Path, options: BatchOptions,
              on_progress: Callable[[Progress], None] | None = None,
              pool: Pool | None = None,
              on_plan: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Run (or continue) the job over ``folders``; returns what was written and what failed.

    ``pool`` may be given (a test keeps one Ray pool for several jobs); otherwise one is made
    for the job and closed after it. ``on_plan(done, total)`` follows the reading of the
    sessions before the first answer is sent (each session.json is parsed once).
    """
    store = JobStore(recordings, kind, options.new_job)
    done = store.done_sessions()
    plans: dict[str, SessionPlan] = {}
    summary = BatchSummary(job=store.id, kind=kind.name, backend="", workers=0,
                           folder=store.folder, sessions=len(folders))
    for n, folder in enumerate(folders):
        if on_plan is not None:
            on_plan(n, len(folders))
        name = folder.name
        if done.get(name, {}).get("status") == "written":
            summary.already_done.append(name)
            continue
        try:
            plan = kind.plan(folder)
        except MockInterviewError as e:
            summary.failed[name] = str(e).splitlines()[0]
            store.mark(name, status="failed", error=summary.failed[name])
            continue
        summary.problems += plan.problems
        if not plan.items:
            summary.skipped[name] = ("no recorded answers" if kind.name == "transcribe"
                                     else "no answered questions")
            continue
        plans[name] = plan
    finished: dict[str, set[str]] = {n: set() for n in plans}  # results live in the job folder
    todo: list[Item] = []
    for name, plan in plans.items():
        for item in plan.items:
            if store.result(item.key) is not None:
                finished[name].add(item.key)
                summary.answers_resumed += 1
            else:
                todo.append(item)
    todo.sort(key=lambda i: -i.audio_s)  # longest first: the last answers are the short ones
    left = {n: sum(1 for i in p.items if i.key not in finished[n]) for n, p in plans.items()}
    errors: dict[str, str] = {}
    prog = Progress(answers_total=len(todo), answers_done=0,
                    audio_total_s=sum(i.audio_s for i in todo), audio_done_s=0.0,
                    sessions_total=len(plans), sessions_done=0, sessions_failed=0,
                    elapsed_s=0.0)

    def finish(name: str) -> None:
        plan = plans[name]
        if name in errors:
            summary.failed[name] = errors[name]
            store.mark(name, status="failed", error=errors[name])
            prog.sessions_failed += 1
            return
        results: dict[str, dict[str, Any]] = {}
        for key in plan.order:
            result = store.result(key)
            if result is None:  # removed by hand since: the answer is done again next time
                errors[name] = f"{key}: its result is missing from {store.answers}"
                return finish(name)
            results[key] = result
        try:
            run_id = kind.write(plan.folder, plan, results, store.id)
        except MockInterviewError as e:
            summary.failed[name] = str(e).splitlines()[0]
            store.mark(name, status="failed", error=summary.failed[name])
            prog.sessions_failed += 1
            return
        store.mark(name, status="written", run=run_id)
        store.forget(name)
        summary.written[name] = run_id
        prog.sessions_done += 1

    start = time.perf_counter()
    for name in [n for n, k in left.items() if k == 0]:  # every answer kept from before
        finish(name)
    own_pool = pool is None
    if todo:
        pool = pool or make_pool(kind, options)
        summary.backend, summary.workers = pool.backend, pool.workers
        try:
            for item, result in pool.run(todo):
                if isinstance(result, str):
                    errors.setdefault(item.session, f"{item.key}: {result}")
                else:
                    result = {**result, "turn": item.payload.get("turn"),
                              "question": item.payload.get("question")}
                    store.save(item.key, result)
                    finished[item.session].add(item.key)
                    summary.answers += 1
                    summary.audio_s += item.audio_s
                    summary.worker_s += float(result.get("seconds", 0.0))
                    if "pid" in result and result["pid"] not in summary.worker_pids:
                        summary.worker_pids.append(result["pid"])
                prog.answers_done += 1
                prog.audio_done_s += item.audio_s
                left[item.session] -= 1
                if left[item.session] == 0:
                    finish(item.session)
                prog.elapsed_s = time.perf_counter() - start
                if on_progress is not None:
                    on_progress(prog)
        finally:
            if own_pool and pool is not None:
                pool.close()
    summary.elapsed_s = time.perf_counter() - start
    return summary
