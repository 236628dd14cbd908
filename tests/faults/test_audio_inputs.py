"""Every kind of answer file a candidate might hand over: resampled and transcribed, or refused
with one line naming the file.

All inputs derive from one real recording (../shared/speech/jfk.flac), re-encoded with soundfile
and PyAV; the two-hour files cost nothing to make (FLAC of silence, a WAV header that lies).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mockinterview.errors import AudioError
from mockinterview.speech.audio import SAMPLE_RATE, load_audio
from mockinterview.speech.listen import AnswerRequest, FileAnswers

from .common import SPEECH, run_inproc
from .ledger import record

WORDS = ("fellow", "americans", "country")  # the clip: "And so my fellow Americans, ask not..."


def _resample(x: np.ndarray, sr: int) -> np.ndarray:
    n = int(round(x.size * sr / SAMPLE_RATE))
    return np.interp(np.arange(n) * SAMPLE_RATE / sr, np.arange(x.size), x).astype(np.float32)


def _mp3(path: Path, x: np.ndarray, sr: int) -> None:
    try:
        sf.write(path, x, sr, format="MP3")
        return
    except Exception:  # noqa: BLE001 - older libsndfile: encode with PyAV
        pass
    import av

    with av.open(str(path), "w") as out:
        st = out.add_stream("libmp3lame", rate=sr)
        st.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = sr
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, tuple[Path, bool]]:
    """name -> (file, whether it holds the speech and must be transcribed)."""
    d = tmp_path_factory.mktemp("audio-inputs")
    clip = load_audio(SPEECH / "jfk.flac")[: int(3.6 * SAMPLE_RATE)]  # "...fellow Americans..."
    out: dict[str, tuple[Path, bool]] = {}

    def add(name: str, good: bool = True) -> Path:
        out[name] = (d / name, good)
        return d / name

    add("empty.wav", False).write_bytes(b"")
    sf.write(add("zero-length.wav", False), np.zeros(0, np.float32), 16000, subtype="PCM_16")
    for sr in (8000, 44100, 48000):
        sf.write(add(f"pcm16-{sr}.wav"), _resample(clip, sr), sr, subtype="PCM_16")
    x48 = _resample(clip, 48000)
    sf.write(add("stereo-48000.wav"), np.stack([x48, 0.5 * x48], axis=1), 48000, subtype="PCM_16")
    sf.write(add("pcm24-44100.wav"), _resample(clip, 44100), 44100, subtype="PCM_24")
    sf.write(add("float-48000.wav"), x48, 48000, subtype="FLOAT")
    sf.write(add("clip.flac"), _resample(clip, 44100), 44100, format="FLAC")
    sf.write(add("clip.ogg"), _resample(clip, 48000), 48000, format="OGG", subtype="VORBIS")
    _mp3(add("clip.mp3"), _resample(clip, 44100), 44100)
    rng = np.random.default_rng(7)
    add("random-bytes.wav", False).write_bytes(rng.integers(0, 256, 4000, np.uint8).tobytes())
    add("text.wav", False).write_text("this is not audio, just some text with a .wav name\n")
    # two hours: a FLAC of speech then silence (180 kB) ...
    with sf.SoundFile(add("two-hours.flac", False), "w", 8000, 1, "PCM_16") as f:
        f.write((_resample(clip, 8000) * 32767).astype(np.int16))
        block = np.zeros(8000 * 600, np.int16)
        for _ in range(12):
            f.write(block)
    # ... and a WAV whose header claims two hours but holds 3.6 s (a lying or cut file)
    pcm = (clip * 32767).astype("<i2").tobytes()
    claimed = 2 * 3600 * SAMPLE_RATE * 2
    header = (b"RIFF" + struct.pack("<I", 36 + claimed) + b"WAVEfmt " +
              struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16) +
              b"data" + struct.pack("<I", claimed))
    add("header-claims-two-hours.wav", None).write_bytes(header + pcm)
    return out


def _heard(text: str) -> bool:
    t = text.lower()
    return sum(w in t for w in WORDS) >= 2


def test_file_answers_resample_and_transcribe_or_refuse_each_input(inputs, transcriber,
                                                                    tmp_path):
    bad = []
    for name, (path, good) in inputs.items():
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        (folder / name).symlink_to(path)
        dest = tmp_path / f"{name}.answer.wav"
        req = AnswerRequest(answer_index=0, turn_index=0, prompt_text="q", audio_path=dest)
        try:
            captured = FileAnswers(folder).capture(req)
        except AudioError as e:
            msg = str(e)
            ok = good is not True and name in msg and "\n" not in msg
            record("audio inputs", ok, note=f"FileAnswers {name}: refused: {msg}")
            if not ok:
                bad.append(f"{name}: refused ({msg})")
            continue
        info = sf.info(str(dest))
        text = transcriber.transcribe(dest).text
        ok = (good is not False and info.samplerate == SAMPLE_RATE and info.channels == 1
              and _heard(text) and captured.duration_s < 60)
        record("audio inputs", ok, note=f"FileAnswers {name}: {info.samplerate} Hz "
                                        f"{info.channels} ch {captured.duration_s:.1f} s: {text!r}")
        if not ok:
            bad.append(f"{name}: {info.samplerate} Hz, {info.channels} ch, "
                       f"{captured.duration_s:.1f} s, heard {text!r}")
    assert not bad, "\n".join(bad)


def test_transcribe_command_transcribes_or_names_each_bad_file(inputs, transcriber, capsys):
    paths = [str(p) for p, _ in inputs.values()]
    r = run_inproc(["transcribe", "--json", "--beam-size", "1", *paths], capsys)
    import json

    results = {json.loads(x)["file"]: json.loads(x)
               for x in r.out.splitlines() if x.startswith("{")}
    errors = [x for x in r.err.splitlines() if x.startswith("error:")]
    assert "Traceback" not in r.err, r.err
    assert r.code == 2, "some inputs are bad, so the command must end with status 2"
    problems = []
    for name, (path, good) in inputs.items():
        mine = [x for x in errors if str(path) in x]
        if str(path) in results:
            ok = good is not False and _heard(results[str(path)]["text"]) and not mine
        else:
            ok = good is not True and len(mine) == 1
        record("audio inputs", ok, note=f"transcribe {name}: {results.get(str(path)) or mine}")
        if not ok:
            problems.append(f"{name}: {results.get(str(path), {}).get('text')!r} {mine}")
    assert len(errors) == sum(1 for p, _ in inputs.values() if str(p) not in results)
    assert not problems, "\n".join(problems)
