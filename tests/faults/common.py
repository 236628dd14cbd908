"""Helpers for the fault suite: the real CLI as a process or in-process, answer audio, checks."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT.parent / "shared" / "speech"

ANSWER_TEXTS = [  # short, distinct sentences: a few seconds each, quick to transcribe
    "I would define the metric first, then train a simple baseline.",
    "We used cross validation to choose the regularisation strength.",
    "I compared gradient boosting with logistic regression on held out data.",
]
TYPED_ANSWER = ("First I would define the problem and the metric, because everything else depends "
                "on it. For example, we compared a simple baseline with gradient boosting on a "
                "held out set and measured precision and recall.")


def make_answer_dir(folder: Path, count: int = 60) -> Path:
    """Synthesise the answers once with the real pyttsx3 voice; ``count`` files cycle over them
    (FileAnswers takes answer N from the N-th file, and resumed sessions ask for more)."""
    from mockinterview.speech.speak import Pyttsx3Voice

    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    voice = Pyttsx3Voice(rate=185)
    clips = []
    for i, text in enumerate(ANSWER_TEXTS):
        p = src / f"answer-{i}.wav"
        if not p.exists():
            voice.render(text, p)
        clips.append(p)
    out = folder / "answers"
    out.mkdir(exist_ok=True)
    for n in range(count):
        link = out / f"a{n:03d}.wav"
        if not link.exists():
            link.symlink_to(clips[n % len(clips)])
    return out


def cli_env(recordings: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, MOCKINTERVIEW_RECORDINGS=str(recordings), PYTHONUNBUFFERED="1",
               COLUMNS="1000")
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    env.update(extra)
    return env


def popen_cli(args: list[str], env: dict[str, str], stdin: bool = False,
              preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mockinterview", *args], env=env,
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec_fn)


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(args: list[str], env: dict[str, str], input: str | None = None,
            timeout: float = 180, preexec_fn=None) -> Result:
    p = subprocess.run([sys.executable, "-m", "mockinterview", *args], env=env, input=input,
                       capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)
    return Result(p.returncode, p.stdout, p.stderr)


def run_inproc(args: list[str], capsys) -> Result:
    """The real ``cli.main`` in this process (fast): exit code, stdout, stderr.

    An exception escaping ``main`` is what a user would see as a traceback: it is returned as
    code -1 with the exception in ``err`` so the test fails on it."""
    import mockinterview.cli.app as cli

    old = sys.argv
    sys.argv = ["mockinterview", *args]
    widths = cli.console.width, cli.err_console.width
    cli.console.width = cli.err_console.width = 1000  # one line stays one line
    code = 0
    capsys.readouterr()
    try:
        cli.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException as e:  # noqa: BLE001 - a traceback is the failure under test
        import traceback

        code = -1
        print("Traceback (escaped cli.main):\n" + traceback.format_exc(), file=sys.stderr)
        del e
    finally:
        sys.argv = old
        cli.console.width, cli.err_console.width = widths
    cap = capsys.readouterr()
    return Result(code, cap.out, cap.err)


def playable(path: Path) -> bool:
    """The file decodes with libsndfile and holds at least one sample."""
    try:
        info = sf.info(str(path))
        data, _ = sf.read(str(path), dtype="int16")
    except Exception:  # noqa: BLE001 - any failure means not playable
        return False
    return info.frames > 0 and len(data) == info.frames


def recorded_answers(session, folder: Path) -> dict[int, tuple[str | None, str | None]]:
    """Turn index -> (answer audio path, typed/transcribed text) for every recorded answer."""
    out = {}
    for t in session.turns:
        if t.answer_audio or (t.transcript and t.transcript.source == "text"):
            out[t.index] = (t.answer_audio, t.transcript.text if t.transcript else None)
    return out


def lost_answers(before: dict[int, tuple[str | None, str | None]], session, folder: Path
                 ) -> list[str]:
    """Answers recorded earlier that are now missing from the session, or whose audio is gone."""
    now = {t.index: t for t in session.turns}
    lost = []
    for index, (audio, text) in before.items():
        t = now.get(index)
        if t is None:
            lost.append(f"turn {index}: gone from session.json")
            continue
        if audio and (t.answer_audio != audio or not playable(folder / audio)):
            lost.append(f"turn {index}: {audio} missing or not playable")
        if text is not None and (t.transcript is None or
                                 (t.transcript.source == "text" and t.transcript.text != text)):
            lost.append(f"turn {index}: typed answer changed")
    return lost


def one_line_error(err: str) -> str | None:
    """The single error line of a failed command, or None when stderr shows a traceback or
    nothing at all."""
    if "Traceback" in err or not err.strip():
        return None
    lines = [x for x in err.splitlines() if x.strip().lower().startswith("error:")]
    return lines[-1] if len(lines) == 1 else None
