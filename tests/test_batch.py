"""Batch jobs: re-transcription and re-scoring over generated sessions, on a real local Ray
instance (127.0.0.1 only, one instance shared by these tests: it takes seconds to start on 2
cores) and in-process; a worker killed mid-job; resume after an interruption; parity with the
one-by-one path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mockinterview.cli.app import app
from mockinterview.coach.batch import (
    BatchOptions,
    RayPool,
    RescoreKind,
    TranscribeKind,
    TranscribeWorker,
    resolve_sessions,
    run_batch,
)
from mockinterview.coach.core import rescore_session
from mockinterview.config import load_config
from mockinterview.errors import BatchError
from mockinterview.schema import (
    Plan,
    PlannedSection,
    QuestionScore,
    ScoringRun,
    Session,
    Transcript,
    Turn,
)
from mockinterview.speech.audio import load_audio, write_wav
from mockinterview.speech.transcribe import TranscribeOptions, WhisperTranscriber
from mockinterview.store import SESSION_FILE, load_session, save_session

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT.parent / "shared" / "speech"
CLIPS = ["jfk.flac", "ljspeech_LJ001-0001.wav", "ls_test_1995-1837-0001.wav",
         "ls_dev_2412-153948-0000.flac"]
CLIP_S = 4.0  # short real speech: each answer is the first 4 s of a clip

TECH = ("Bias is the error from overly simple assumptions, so the model underfits; variance is "
        "the sensitivity to the training sample, so it overfits. Regularisation and more data "
        "lower variance, and we picked the tree depth with cross validation.")
BEH = ("The situation was a churn model that drifted. My task was to fix it in two weeks. I "
       "rebuilt the features and added monitoring; the result was a ten percent lift.")


@pytest.fixture(scope="session")
def ray_local():
    """One real Ray instance on 127.0.0.1 for every Ray test (startup costs seconds)."""
    ray = pytest.importorskip("ray")
    import logging

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    src = str(ROOT / "src")
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             logging_level=logging.ERROR, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def make_session(rec: Path, name: str, clips: list[str]) -> Path:
    """A completed session with one recorded answer per clip, typed transcripts and a live run."""
    folder = rec / name
    (folder / "audio").mkdir(parents=True)
    qids = ["tech-bias-variance", "beh-challenging-project"]
    texts = [TECH, BEH]
    turns = []
    for i, clip in enumerate(clips):
        audio = load_audio(SPEECH / clip)[: int(CLIP_S * 16000)]
        rel = f"audio/turn-{i:03d}-answer.wav"
        write_wav(folder / rel, audio)
        turns.append(Turn(index=i, section="technical" if i % 2 == 0 else "behavioral",
                          question_id=qids[i % 2], prompt_text="A question?", answer_audio=rel,
                          transcript=Transcript(text=texts[i % 2], duration_s=CLIP_S)))
    plan = Plan(role="ml-engineer", level="mid", minutes=10, sections=[
        PlannedSection(section="technical", budget_s=200, question_ids=[qids[0]]),
        PlannedSection(section="behavioral", budget_s=200, question_ids=[qids[1]])])
    live = ScoringRun(id="live", engine="offline", scores=[QuestionScore(
        question_id=qids[0], section="technical", criteria=[], overall=2.0)])
    s = Session(id=name, plan=plan, turns=turns, status="completed", scoring_runs=[live])
    save_session(s, folder)
    return folder


@pytest.fixture
def generated(recordings):
    """Three sessions, six answers of real speech in all (one session of one answer)."""
    return [make_session(recordings, "20261201-100000-a", CLIPS[:2]),
            make_session(recordings, "20261202-100000-b", CLIPS[2:4]),
            make_session(recordings, "20261203-100000-c", CLIPS[1:2])]


def one_by_one_transcripts(folder: Path) -> dict[int, str]:
    tr = WhisperTranscriber(None, cpu_threads=1)  # the workers decode with one thread each
    s = load_session(folder)
    return {t.index: tr.transcribe(folder / t.answer_audio, TranscribeOptions()).text
            for t in s.turns if t.answer_audio}


def no_temp_files(rec: Path) -> list[Path]:
    return [p for p in rec.rglob("*") if p.name.endswith(".tmp")]


# ----------------------------------------------------------------------------- transcribe


def test_batch_transcribe_on_ray_equals_one_by_one_and_keeps_the_old(ray_local, generated,
                                                                      recordings):
    before = {f.name: load_session(f) for f in generated}
    result = CliRunner().invoke(app, ["batch", "transcribe", "--all", "--model", "tiny.en",
                                      "--workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["backend"] == "ray" and summary["workers"] == 2
    assert sorted(summary["written"]) == [f.name for f in generated]
    assert summary["answers"] == 5 and summary["failed"] == {}
    assert summary["audio_s"] == pytest.approx(5 * CLIP_S, abs=0.1)
    for f in generated:
        s = load_session(f)
        run = s.transcription_runs[-1]
        assert run.id == "transcribe-1" and run.model == "tiny.en"
        assert run.options["beam_size"] == 5 and run.job == summary["job"]
        # the live transcripts are untouched: the new version sits beside them
        assert [t.transcript for t in s.turns] == [t.transcript for t in before[f.name].turns]
        assert {i: t.text for i, t in run.transcripts.items()} == one_by_one_transcripts(f)
    assert "fellow americans" in load_session(generated[0]).transcription_runs[-1] \
        .transcripts[0].text.lower()
    # the same command again: every session is done, nothing is written twice
    again = CliRunner().invoke(app, ["batch", "transcribe", "--all", "--model", "tiny.en",
                                     "--json"])
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout[again.stdout.index("{"):])
    assert sorted(second["already_done"]) == [f.name for f in generated]
    assert second["answers"] == 0
    assert all(len(load_session(f).transcription_runs) == 1 for f in generated)


def test_a_worker_killed_mid_job_is_retried_and_every_answer_lands_once(ray_local, recordings):
    folders = [make_session(recordings, f"20261204-10000{n}-k", [CLIPS[n % 4], CLIPS[(n + 1) % 4]])
               for n in range(4)]
    kind = TranscribeKind("tiny.en", TranscribeOptions(), threads=1)
    pool = RayPool(TranscribeWorker, kind.worker_args(), BatchOptions(workers=2, retries=3))
    killed: list[int] = []

    def kill_once(progress) -> None:
        if not killed and progress.answers_done == 1:
            pid = pool.pids()[0]  # busy with its next answer: in_flight keeps 2 queued
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    try:
        summary = run_batch(kind, folders, recordings, BatchOptions(workers=2),
                            on_progress=kill_once, pool=pool)
        restarted = pool.pids()[0]
    finally:
        pool.close()
    assert killed and restarted != killed[0]  # Ray restarted the actor
    assert summary.failed == {} and sorted(summary.written) == [f.name for f in folders]
    assert summary.answers == 8  # each answer exactly once
    assert no_temp_files(recordings) == []
    log = (summary.folder / "done.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["session"] for line in log) == [f.name for f in folders]
    heard: dict[str, set[str]] = {}
    for n, f in enumerate(folders):
        s = load_session(f)  # a complete, valid file: nothing half-written
        assert len(s.transcription_runs) == 1
        run = s.transcription_runs[0]
        assert sorted(run.transcripts) == [0, 1]
        for t in s.turns:
            heard.setdefault(CLIPS[(n + t.index) % 4], set()).add(run.transcripts[t.index].text)
    # the same clip decodes to the same words, whether its answer was retried or not
    assert all(len(texts) == 1 and next(iter(texts)).strip() for texts in heard.values())


# ----------------------------------------------------------------------------- rescore


def test_batch_rescore_on_ray_equals_rescore_one_by_one(ray_local, generated, recordings,
                                                        tmp_path):
    copies = tmp_path / "copies"
    shutil.copytree(recordings, copies)
    cfg = load_config()
    summary = run_batch(RescoreKind(cfg), generated, recordings, BatchOptions(workers=2))
    assert summary.backend == "ray" and summary.failed == {}
    assert len(summary.worker_pids) == 2  # both actors took answers
    for f in generated:
        batch_run = load_session(f).scoring_runs[-1]
        alone = rescore_session(copies / f.name, cfg).run
        assert batch_run.id == alone.id == "rescore-1"
        assert batch_run.job == summary.job and batch_run.hashes == alone.hashes
        assert [s.model_dump() for s in batch_run.scores] == \
            [s.model_dump() for s in alone.scores]
        assert load_session(f).scoring_runs[0].id == "live"  # the old run stays


def test_an_interrupted_job_resumes_where_it_stopped(generated, recordings):
    cfg = load_config()
    kind = RescoreKind(cfg)
    options = BatchOptions(in_process=True)

    def stop_after_three(progress) -> None:
        if progress.answers_done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(kind, generated, recordings, options, on_progress=stop_after_three)
    # answers go longest first (a, b and c's technical answers), so c, whose only answer that
    # is, was written before the stop; a and b each had one answer of two
    assert [len(load_session(f).scoring_runs) for f in generated] == [1, 1, 2]
    summary = run_batch(kind, generated, recordings, options)
    assert summary.backend == "in-process" and summary.failed == {}
    assert summary.already_done == [generated[2].name]
    assert summary.answers_resumed == 2 and summary.answers == 2  # nothing redone
    for f in generated:
        assert [r.id for r in load_session(f).scoring_runs] == ["live", "rescore-1"]


def test_a_damaged_session_fails_alone_and_the_rest_is_written(generated, recordings):
    (generated[1] / "audio" / "turn-001-answer.wav").write_bytes(b"RIFF but not audio")
    (generated[2] / SESSION_FILE).write_text('{"schema_version": 1, "id": ')
    summary = run_batch(TranscribeKind(None, threads=2), generated, recordings,
                        BatchOptions(in_process=True))
    assert sorted(summary.failed) == [generated[1].name, generated[2].name]
    assert "turn-001" in summary.failed[generated[1].name]
    assert "truncated" in summary.failed[generated[2].name]
    assert list(summary.written) == [generated[0].name]
    assert load_session(generated[1]).transcription_runs == []  # a failed session is not written


def test_sessions_by_id_glob_and_a_clear_error(generated, recordings):
    assert resolve_sessions(recordings, ["2026120[12]-*"]) == generated[:2]
    assert resolve_sessions(recordings, ["20261203-100000-c", str(generated[0])]) == \
        [generated[2], generated[0]]
    with pytest.raises(BatchError, match="no session folder matches"):
        resolve_sessions(recordings, ["1999*"])
    result = CliRunner().invoke(app, ["batch", "rescore", "--workers", "0", "--all"])
    assert result.exit_code == 2 and "--workers 0" in result.output


def test_without_ray_the_command_runs_in_process_and_says_so(generated, recordings):
    code = ("import sys; sys.modules['ray'] = None\n"  # as if the [scale] extra were absent
            "from mockinterview.cli.app import main\n"
            "sys.argv = ['mockinterview', 'batch', 'rescore', '--all', '--json']\nmain()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MOCKINTERVIEW_RECORDINGS":
           str(recordings)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Ray is not installed" in out.stderr and "mockinterview[scale]" in out.stderr
    summary = json.loads(out.stdout)
    assert summary["backend"] == "in-process" and len(summary["written"]) == 3


def test_two_jobs_at_once_never_lose_a_run(generated, recordings):
    """Two drivers over the same sessions at once: the session lock makes each write a whole
    read-append-write, so both runs land (no lost update, no torn file)."""
    cfg = load_config()
    errors: list[BaseException] = []

    def job() -> None:
        try:
            run_batch(RescoreKind(cfg), generated, recordings,
                      BatchOptions(in_process=True, new_job=True))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for f in generated:
        assert [r.id for r in load_session(f).scoring_runs] == ["live", "rescore-1", "rescore-2"]
