"""`mockinterview doctor`: check every external dependency and say exactly what to fix."""

from __future__ import annotations

import ctypes.util
import tempfile
from pathlib import Path

from mockinterview.config import Config
from mockinterview.errors import MockInterviewError


def run_checks(cfg: Config, mic: bool = False) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []

    # text to speech
    try:
        from mockinterview.speech.speak import Pyttsx3Voice

        with tempfile.TemporaryDirectory() as d:
            Pyttsx3Voice().render("Testing.", Path(d) / "t.wav")
        out.append(("text-to-speech", True, "pyttsx3 + espeak-ng render WAV files"))
    except MockInterviewError as e:
        out.append(("text-to-speech", False, str(e)))

    # the interviewer's voice: which one speaks and why
    try:
        from mockinterview.speech.piper import choose_voice, voice_info

        notices: list[str] = []
        voice, why = choose_voice(cfg.audio.voice, on_notice=notices.append)
        info = voice_info(voice)
        detail = f"{info['name']} ({info['model']}, {info['sample_rate']} Hz): {why}"
        if cfg.audio.voice != "espeak" and notices:
            detail += " — for the natural voice: pip install 'mockinterview[voice]'"
        with tempfile.TemporaryDirectory() as d:
            voice.render("Testing.", Path(d) / "voice.wav")
        out.append(("interviewer voice", True, detail))
    except MockInterviewError as e:
        out.append(("interviewer voice", False, str(e)))

    # PortAudio and devices
    if ctypes.util.find_library("portaudio") is None:
        out.append(("audio devices", False, "PortAudio missing: apt-get install libportaudio2 "
                                            "(typed or file answers still work)"))
    else:
        try:
            import sounddevice as sd

            devs = sd.query_devices()
            ins = [d for d in devs if d["max_input_channels"] > 0]
            outs = [d for d in devs if d["max_output_channels"] > 0]
            good = bool(ins)
            detail = f"{len(ins)} input and {len(outs)} output devices"
            if not ins:
                detail += " — no microphone: use --text or --answers DIR"
            out.append(("audio devices", good, detail))
        except Exception as e:  # PortAudioError and friends
            out.append(("audio devices", False, f"PortAudio error: {e}"))
    if mic:
        try:
            from mockinterview.speech.microphone import mic_check

            r = mic_check(2.0)
            out.append(("microphone", bool(getattr(r, "ok", False)), str(r)))
        except Exception as e:
            out.append(("microphone", False, str(e).splitlines()[0] if str(e) else repr(e)))

    # speech model
    try:
        from mockinterview.speech.transcribe import load_model, resolve_model

        load_model(cfg.stt.model)
        out.append(("speech model", True, f"{cfg.stt.model or 'tiny.en (embedded)'} loads from "
                                          f"{resolve_model(cfg.stt.model)}"))
    except MockInterviewError as e:
        out.append(("speech model", False, str(e)))

    # bank
    try:
        from mockinterview.bank import load_bank

        b = load_bank(cfg.rubrics)
        out.append(("question bank", True, f"{len(b.questions)} questions, "
                                           f"{len(b.sections)} section rubrics"))
    except MockInterviewError as e:
        out.append(("question bank", False, str(e) + " (run `mockinterview rubrics check`)"))

    # coding sandbox: a real run of a trivial solution, which records the layers it had
    out.append(_sandbox_check())

    # LLM endpoint
    if cfg.llm_configured():
        try:
            from mockinterview.interviewer.client import check_endpoint

            problems = check_endpoint(cfg)
            out.append(("LLM endpoint", not problems,
                        "; ".join(problems) or f"{cfg.llm.model} answers at "
                                               f"{cfg.llm.base_url or 'api.openai.com'}"))
        except MockInterviewError as e:
            out.append(("LLM endpoint", False, str(e)))
    else:
        out.append(("LLM endpoint", True, "none configured: the offline engine is used (set "
                                          "OPENAI_BASE_URL or OPENAI_API_KEY for a model)"))
    return out


def _sandbox_check() -> tuple[str, bool, str]:
    """Run ``add(1, 2)`` in the real sandbox: which layers were in force, which were missing."""
    from mockinterview.coding.sandbox import run_solution
    from mockinterview.schema import CodingSpec, TestCase

    spec = CodingSpec(function="add", signature="def add(a, b):",
                      starter="def add(a, b):\n    raise NotImplementedError\n",
                      cases=[TestCase(args=[1, 2], expected=3)], time_limit_s=10)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "add.py"
        path.write_text("def add(a, b):\n    return a + b\n")
        run = run_solution(path, spec)
    if run.passed != 1:
        return ("coding sandbox", False, f"a trivial solution did not pass: {run.verdict}")
    detail = "layers: " + ", ".join(run.sandbox)
    if run.sandbox_missing:
        detail += " — missing: " + ", ".join(run.sandbox_missing) + " (see README, Security)"
    return ("coding sandbox", not run.sandbox_missing, detail)
