"""The real PortAudio path: speech played into a virtual PulseAudio microphone is recorded by
MicAnswers, the turn ends by itself, and the transcript matches. Needs ``pulseaudio``."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mockinterview.errors import AudioError
from mockinterview.speech.audio import load_audio
from mockinterview.speech.capture import CaptureOptions
from mockinterview.speech.endpoint import EndpointOptions
from mockinterview.speech.listen import AnswerRequest
from mockinterview.speech.microphone import MicAnswers, list_devices, mic_check
from mockinterview.speech.tape import SessionTape
from mockinterview.testing.virtual_audio import VirtualAudio, virtual_audio_fixture
from mockinterview.textnorm import wer

pytestmark = pytest.mark.audio
virtual_audio = pytest.fixture(virtual_audio_fixture)

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"
SR = 16_000
REF = ("IT WAS THE FIRST GREAT SORROW OF HIS LIFE IT WAS NOT SO MUCH THE LOSS OF THE COTTON ITSELF "
       "BUT THE FANTASY THE HOPES THE DREAMS BUILT AROUND IT Printing, in the only sense with "
       "which we are at present concerned, differs from most if not from all the arts and crafts "
       "represented in the Exhibition")


def _answer() -> np.ndarray:
    return np.concatenate([load_audio(SPEECH / "ls_test_1995-1837-0001.wav"),
                           np.zeros(SR // 2, np.float32),
                           load_audio(SPEECH / "ljspeech_LJ001-0001.wav")])


def _req(tmp_path: Path, max_s: float = 60.0) -> AnswerRequest:
    return AnswerRequest(answer_index=0, turn_index=1, prompt_text="Tell me about yourself.",
                         audio_path=tmp_path / "audio" / "answer_01.wav", max_s=max_s)


def test_devices_and_mic_check_see_the_virtual_microphone(virtual_audio):
    devs = list_devices()
    assert any(d.max_input_channels > 0 for d in devs)
    assert any(d.is_default_input for d in devs)
    virtual_audio.speak(load_audio(SPEECH / "jfk.flac")[: SR * 2])
    check = mic_check(1.0)
    assert check.ok, check.problem
    assert check.peak > 0.05 and check.seconds >= 1.0
    assert check.device in str(check)


def test_from_config_uses_the_audio_settings(virtual_audio, transcriber):
    from mockinterview.config import Config

    cfg = Config.model_validate({"audio": {"input_device": "pulse", "short_silence_s": 0.6,
                                           "barge_in": True}})
    mic = MicAnswers.from_config(cfg, transcriber=transcriber)
    assert mic.device == "pulse" and mic.options.barge_in
    assert mic.options.endpoint.short_silence_s == 0.6
    bad = Config.model_validate({"audio": {"input_device": "no such microphone"}})
    with pytest.raises(AudioError, match="no such microphone"):
        MicAnswers.from_config(bad, transcriber=transcriber)


def test_spoken_answer_is_recorded_ends_by_itself_and_transcribed(virtual_audio, transcriber,
                                                                   tmp_path):
    answer = _answer()
    tape = SessionTape(tmp_path / "audio" / "session.wav")
    mic = MicAnswers(transcriber, options=CaptureOptions(enter_ends=False), tape=tape)
    # the candidate starts talking half a second after the microphone opened
    threading.Timer(0.5, virtual_audio.speak, args=(answer,)).start()
    t0 = time.monotonic()
    ans = mic.capture(_req(tmp_path))
    tape.close()
    assert ans.end_reason == "silence", ans.stats
    ev = dict(ans.events)
    for kind in ("speech_start", "last_voiced", "end_of_turn", "transcript_final"):
        assert kind in ev, kind
    assert ev["speech_start"] < ev["last_voiced"] < ev["end_of_turn"] <= ev["transcript_final"]
    # ended by itself after the short window, not at a timeout
    gap = ev["end_of_turn"] - ev["last_voiced"]
    assert 0.7 < gap < 2.8, gap
    assert time.monotonic() - t0 < answer.size / SR + 6
    assert wer(REF, ans.transcript.text) < 0.25, ans.transcript.text
    # the recording holds the whole answer, bit for bit as spoken (after the leading silence)
    rec, sr = sf.read(str(ans.audio_path), dtype="int16")
    assert sr == SR and rec.size / SR >= answer.size / SR
    spoken = (answer * 32767).astype(np.int16)
    i = int(np.argmax(np.abs(rec) > 100))
    j = int(np.argmax(np.abs(spoken) > 100))
    n = spoken.size - j
    assert np.array_equal(rec[i:i + n], spoken[j:j + n])
    assert ans.stats["overflows"] == 0 and ans.stats["device"]
    tape_audio, _ = sf.read(str(tape.path), dtype="int16")
    assert tape_audio.size >= rec.size


def test_device_vanishing_mid_answer_keeps_the_audio(transcriber, tmp_path):
    with VirtualAudio() as va:
        mic = MicAnswers(transcriber, options=CaptureOptions(enter_ends=False, stall_s=1.0))
        threading.Timer(0.3, va.speak, args=(load_audio(SPEECH / "jfk.flac"),)).start()
        threading.Timer(3.0, va.kill_server).start()
        ans = mic.capture(_req(tmp_path))
    assert ans.end_reason == "device-error"
    assert "error" in ans.stats
    rec, _ = sf.read(str(ans.audio_path), dtype="int16")
    assert 2.0 < rec.size / SR < 5.0  # what was heard before the server died is on disk


def test_half_duplex_mutes_the_microphone_while_the_interviewer_speaks(virtual_audio,
                                                                        transcriber, tmp_path):
    """Audio heard inside ``muted()`` is recorded as silence and never starts the answer."""
    mic = MicAnswers(transcriber, options=CaptureOptions(
        enter_ends=False, endpoint=EndpointOptions(no_speech_timeout_s=4.0)))
    jfk = load_audio(SPEECH / "jfk.flac")[: SR * 3]

    def interviewer_speaks():
        with mic.muted():
            virtual_audio.speak(jfk, wait=True)
            time.sleep(0.3)

    threading.Timer(0.2, interviewer_speaks).start()
    ans = mic.capture(_req(tmp_path))
    assert ans.end_reason == "no-speech"
    assert "speech_start" not in dict(ans.events)
    rec, _ = sf.read(str(ans.audio_path), dtype="int16")
    assert rec.size >= SR * 4 and not np.any(rec)


def test_enter_ends_the_answer_at_once(virtual_audio, transcriber, tmp_path):
    """``end_now`` (what Enter calls) stops mid-sentence; what was said is kept and transcribed."""
    mic = MicAnswers(transcriber, options=CaptureOptions(enter_ends=False))
    virtual_audio.speak(load_audio(SPEECH / "jfk.flac"))
    threading.Timer(3.5, mic.end_now).start()
    ans = mic.capture(_req(tmp_path))
    assert ans.end_reason == "enter"
    assert 3.0 < ans.duration_s < 4.5
    assert "fellow americans" in ans.transcript.text.lower()
