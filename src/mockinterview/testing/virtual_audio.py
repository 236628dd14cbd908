"""A private PulseAudio server with a virtual microphone and speaker, for tests and demos.

Why: CI machines have no sound card, yet the live path (PortAudio -> ALSA -> PulseAudio) must be
tested for real. This starts ``pulseaudio`` as a child process on a private socket in a temp dir
(recipe A in ../shared/NOTES.md) with:

- ``vspk``: a null sink (the default output; what is played there goes nowhere),
- ``fifomic``: a pipe source (the default input) fed from a FIFO we write s16le PCM into.

A feeder thread writes to the FIFO in real time: queued speech first, silence otherwise, because a
pipe source that gets no data makes the recording block instead of hearing silence. Traps handled:
``--disable-shm=yes`` (the daemon aborted under load without it), a stale FIFO is removed before
start (the module fails to load otherwise while the daemon keeps running), the source is verified
with ``pactl``, and PortAudio is re-initialised so a process that imported sounddevice earlier sees
the new server.

Usage::

    with VirtualAudio() as va:          # sets PULSE_SERVER for this process
        va.speak("answer.wav")          # plays into the virtual mic in real time (returns at once)
        ... record with sounddevice (device=None or va.input_device) ...
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from mockinterview.errors import AudioError

PULSE_INSTALL_HINT = ("pulseaudio is not installed (apt-get install -y pulseaudio "
                      "pulseaudio-utils libasound2-plugins libportaudio2)")


def pulseaudio_available() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


def refresh_portaudio() -> None:
    """Make an already-imported sounddevice re-enumerate devices (after the server changed)."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    with contextlib.suppress(Exception):
        sd._terminate()
    sd._initialize()


class VirtualAudio:
    """Private PulseAudio daemon + FIFO microphone. A context manager; see the module doc."""

    def __init__(self, rate: int = 16_000, workdir: str | os.PathLike | None = None,
                 chunk_s: float = 0.02, start_timeout_s: float = 10.0):
        self.rate = rate
        self.chunk = int(rate * chunk_s)
        self.start_timeout_s = start_timeout_s
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="mi-pulse-"))
        self.socket = self.dir / "pulse.sock"
        self.fifo = self.dir / "mic.fifo"
        self.log = self.dir / "pulse.log"
        self.proc: subprocess.Popen | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._feeder: threading.Thread | None = None
        self._fd: int | None = None
        self._pending_samples = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._saved_env: dict[str, str | None] = {}
        self.input_device = "pulse"  # the ALSA PCM PortAudio lists for the server
        self.output_device = "pulse"

    # ------------------------------------------------------------------ lifecycle
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PULSE_SERVER=f"unix:{self.socket}", XDG_RUNTIME_DIR=str(self.dir),
                   HOME=str(self.dir), PULSE_STATE_PATH=str(self.dir),
                   PULSE_RUNTIME_PATH=str(self.dir))
        return env

    def _pactl(self, *args: str) -> str:
        r = subprocess.run(["pactl", *args], env=self._env(), capture_output=True, text=True,
                           timeout=10)
        if r.returncode != 0:
            raise AudioError(f"pactl {' '.join(args)} failed: {r.stderr.strip()[:200]}")
        return r.stdout

    def start(self) -> VirtualAudio:
        if not pulseaudio_available():
            raise AudioError(PULSE_INSTALL_HINT)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fifo.unlink(missing_ok=True)  # a stale FIFO makes module-pipe-source fail to load
        self.socket.unlink(missing_ok=True)
        cmd = [
            "pulseaudio", "-n", "--daemonize=no", "--use-pid-file=no", "--system=no",
            "--exit-idle-time=-1", "--disable-shm=yes", f"--log-target=file:{self.log}",
            "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
            "-L", f"module-null-sink sink_name=vspk rate={self.rate} channels=1",
            "-L", (f"module-pipe-source source_name=fifomic file={self.fifo} format=s16le "
                   f"rate={self.rate} channels=1"),
        ]
        self.proc = subprocess.Popen(cmd, env=self._env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_timeout_s
        sources = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.socket.exists():
                with contextlib.suppress(AudioError, subprocess.TimeoutExpired):
                    sources = self._pactl("list", "short", "sources")
                    if "fifomic" in sources:
                        break
            time.sleep(0.1)
        if "fifomic" not in sources or not self.fifo.exists():
            tail = self.log.read_text(errors="replace")[-300:] if self.log.exists() else ""
            self.close()
            raise AudioError(f"the virtual PulseAudio source did not come up: {tail.strip()}")
        self._pactl("set-default-source", "fifomic")
        self._pactl("set-default-sink", "vspk")
        for k in ("PULSE_SERVER",):
            self._saved_env[k] = os.environ.get(k)
        os.environ["PULSE_SERVER"] = f"unix:{self.socket}"
        refresh_portaudio()
        self._fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        self._feeder = threading.Thread(target=self._feed, name="virtual-mic", daemon=True)
        self._feeder.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._feeder is not None:
            self._feeder.join(timeout=3)
            self._feeder = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
            self.proc = None
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._saved_env = {}
        refresh_portaudio()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill_server(self) -> None:
        """Kill the daemon abruptly (SIGKILL), as when a device vanishes mid-answer."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> VirtualAudio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ the microphone
    def speak(self, audio: str | os.PathLike | np.ndarray, wait: bool = False) -> float:
        """Queue a WAV (any rate, resampled) or 16 kHz float samples into the virtual mic.

        The feeder plays it in real time, then goes on with silence. Returns its duration; with
        ``wait`` returns only once it has all been written.
        """
        if isinstance(audio, np.ndarray):
            x = audio.astype(np.float32)
            if self.rate != 16_000:
                from mockinterview.speech.audio import _resample

                x = _resample(x, 16_000, self.rate)
        else:
            from mockinterview.speech.audio import load_audio

            x = load_audio(audio, sr=self.rate)
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
        with self._lock:
            self._pending_samples += pcm.size
            self._idle.clear()
        self._queue.put(pcm)
        if wait:
            self.wait_idle(timeout=pcm.size / self.rate + 10)
        return pcm.size / self.rate

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been written to the virtual mic."""
        return self._idle.wait(timeout)

    def _feed(self) -> None:
        silence = np.zeros(self.chunk, dtype="<i2").tobytes()
        current = b""
        t_next = time.monotonic()
        while not self._stop.is_set():
            if not current:
                try:
                    current = self._queue.get_nowait().tobytes()
                except queue.Empty:
                    current = b""
            n = self.chunk * 2
            speech = bool(current)
            data, current = (current[:n], current[n:]) if speech else (silence, b"")
            self._write(data, must=speech)
            if speech:
                with self._lock:
                    self._pending_samples -= len(data) // 2
                    if self._pending_samples <= 0 and not current:
                        self._pending_samples = 0
                        self._idle.set()
            t_next += len(data) / 2 / self.rate
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.5:
                t_next = time.monotonic()  # fell far behind (loaded machine): do not burst

    def _write(self, data: bytes, must: bool) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view and self._fd is not None and not self._stop.is_set():
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                if not must or time.monotonic() > deadline:
                    return  # nobody is reading: silence can be dropped
                time.sleep(0.005)
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.EBADF):
                    return
                raise


def virtual_audio_fixture():
    """Generator for a pytest fixture: ``virtual_audio = pytest.fixture(virtual_audio_fixture)``.

    Skips (with the install hint) only when pulseaudio is not installed; any other failure to
    start the server is an error, not a skip.
    """
    import pytest

    if not pulseaudio_available():
        pytest.skip(PULSE_INSTALL_HINT)
    va = VirtualAudio().start()
    try:
        yield va
    finally:
        va.close()
