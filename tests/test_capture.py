"""Crash-safe recording: the WAV is valid at every instant and survives SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from mockinterview.speech.capture import AnswerPipeline, CrashSafeWav, LevelMeter
from mockinterview.speech.listen import AnswerRequest
from mockinterview.speech.tape import SessionTape

SR = 16_000


def test_file_is_valid_while_writing_and_after_close(tmp_path):
    p = tmp_path / "a.wav"
    x = (np.sin(np.arange(SR * 2) * 2 * np.pi * 440 / SR) * 10000).astype(np.int16)
    w = CrashSafeWav(p, flush_s=0.0)
    assert sf.info(str(p)).frames == 0  # valid even before any audio
    w.write(x[:SR])
    data, sr = sf.read(str(p), dtype="int16")  # the writer is still open
    assert sr == SR and np.array_equal(data, x[:SR])
    w.write(x[SR:].astype(np.float32) / 32768.0)  # float input is converted
    w.close()
    data, _ = sf.read(str(p), dtype="int16")
    assert data.size == x.size
    assert np.abs(data[SR:].astype(int) - x[SR:]).max() <= 1


def test_header_lags_at_most_flush_interval(tmp_path):
    p = tmp_path / "b.wav"
    w = CrashSafeWav(p, flush_s=3600)  # never flushes by itself
    w.write(np.ones(SR, dtype=np.int16))
    assert sf.info(str(p)).frames == 0  # header not yet updated: still a valid (shorter) file
    w.flush()
    assert sf.info(str(p)).frames == SR
    w.close()


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from mockinterview.speech.capture import CrashSafeWav
    w = CrashSafeWav(sys.argv[1], flush_s=float(sys.argv[2]))
    n = 0
    while True:  # 32 ms blocks at real time, sample values count up so we can check order
        block = (np.arange(n, n + 512) % 30000).astype(np.int16)
        w.write(block)
        n += 512
        print(n, flush=True)
        time.sleep(0.032)
""")


def test_sigkill_leaves_a_readable_file_missing_at_most_one_second(tmp_path):
    p = tmp_path / "killed.wav"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(p), "1.0"],
                            stdout=subprocess.PIPE, text=True)
    written = 0
    t_end = time.monotonic() + 3.0
    try:
        while time.monotonic() < t_end:
            line = proc.stdout.readline()
            if not line:
                break
            written = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    for line in proc.stdout.read().split():  # what it reported after our last read
        written = int(line)
    # the child may have written one more block after its last report: allow 512 samples
    assert proc.returncode == -signal.SIGKILL
    assert written > SR  # the child really ran for a while
    info = sf.info(str(p))
    data, _ = sf.read(str(p), dtype="int16")
    assert info.samplerate == SR and data.size == info.frames
    assert written + 512 - data.size <= SR, f"lost {(written - data.size) / SR:.2f} s"
    assert np.array_equal(data, (np.arange(data.size) % 30000).astype(np.int16))


def test_session_tape_places_clips_on_the_timeline(tmp_path):
    from mockinterview.clock import SimulatedClock

    clock = SimulatedClock(100.0)
    q = tmp_path / "q.wav"
    sf.write(str(q), np.full(22050, 0.25, dtype=np.float32), 22050)  # 1 s at 22.05 kHz
    tape = SessionTape(tmp_path / "session.wav", clock=clock)
    tape.add_file(q, 100.5)  # question starts 0.5 s into the session
    tape.seek_to(102.0)  # answer starts at 2.0 s
    tape.append(np.full(SR, 1000, dtype=np.int16))
    tape.add(np.full(SR // 2, 2000, dtype=np.int16), 102.5)  # overlaps: appended after
    clock.t = 105.0
    tape.mark_now()
    tape.close()
    data, sr = sf.read(str(tmp_path / "session.wav"), dtype="int16")
    assert sr == SR and data.size == 5 * SR
    assert np.all(data[: SR // 2 - 10] == 0)
    assert np.all(np.abs(data[SR // 2 + 100: SR + SR // 2 - 100].astype(int) - 8191) < 200)
    assert np.all(data[2 * SR: 3 * SR] == 1000)
    assert np.all(data[3 * SR: 3 * SR + SR // 2] == 2000)
    assert np.all(data[3 * SR + SR // 2:] == 0)


def test_level_meter_renders_level():
    from rich.console import Console

    m = LevelMeter(width=20)
    m.update(np.zeros(512, dtype=np.int16))
    quiet = m.rms_db
    m.update((np.ones(512) * 16000).astype(np.int16))
    assert m.rms_db > quiet + 40
    c = Console(width=80, record=True)
    c.print(m)
    assert "dB" in c.export_text()


@pytest.mark.slow
def test_pipeline_ends_turn_and_transcribes(tmp_path, transcriber):
    """The capture-to-transcript path on real speech fed block by block (no device)."""
    from pathlib import Path

    from mockinterview.speech.audio import load_audio

    SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"

    x = load_audio(SPEECH / "jfk.flac")
    x = np.concatenate([np.zeros(SR // 2, np.float32), x, np.zeros(SR * 4, np.float32)])
    req = AnswerRequest(answer_index=0, turn_index=1, prompt_text="q",
                        audio_path=tmp_path / "ans.wav", max_s=60)
    pipe = AnswerPipeline(req, transcriber, synchronous=True)
    reason = None
    t = 0.0
    fed = 0
    for i in range(0, x.size, 512):
        t += 0.032
        fed += 512
        reason = pipe.push((x[i:i + 512] * 32767).astype(np.int16), t)
        if reason:
            break
    assert reason == "silence"
    ans = pipe.finish()
    silence_after = fed / SR - pipe.endpoint.last_voiced_t
    assert pipe.endpoint.last_voiced_t > 10.0  # not cut off during JFK's pauses
    assert 0.8 <= silence_after < 0.8 + 0.1  # a complete thought: the short window
    kinds = [k for k, _ in ans.events]
    assert kinds[0] == "speech_start" and "last_voiced" in kinds
    assert kinds.index("end_of_turn") < kinds.index("transcript_final")
    assert "ask not what your country" in ans.transcript.text.lower()
    data, _ = sf.read(str(req.audio_path), dtype="int16")
    assert data.size == fed
