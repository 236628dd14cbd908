"""The wheel installs and runs anywhere: built from the clone, installed into a fresh virtual
environment, run from a folder outside the clone (so nothing can be found through the source
tree). Real build backend, real pip, real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder, wheel) of a fresh venv with only the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("package")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=600)
    wheel = next(dist.glob("mockinterview-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], check=True,
                   capture_output=True, text=True, timeout=900)
    return bin_dir, wheel


def run(bin_dir: Path, cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MOCKINTERVIEW_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MOCKINTERVIEW_RECORDINGS"] = str(cwd / "recordings")
    env["MOCKINTERVIEW_CONFIG"] = str(cwd / "no-config.toml")
    env["HOME"] = str(cwd)  # no user config, no cache shared with the clone
    return subprocess.run([str(bin_dir / "mockinterview"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_wheel_carries_the_bank_prompts_calibration_and_templates(installed):
    _bin, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for top in ("rubrics", "prompts"):
        shipped = {n for n in names if n.startswith(f"mockinterview/_shipped/{top}/")}
        in_git = {f"mockinterview/_shipped/{top}/{p.relative_to(ROOT / top)}"
                  for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert in_git and in_git <= shipped, sorted(in_git - shipped)[:5]
    assert any(n.endswith("_shipped/rubrics/calibration/graded.jsonl") for n in names)
    assert "mockinterview/review/templates/report.html.j2" in names


def test_installed_wheel_runs_from_outside_the_clone(installed, tmp_path):
    bin_dir, _wheel = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = run(bin_dir, elsewhere, "--version")
    assert version.returncode == 0 and version.stdout.startswith("mockinterview "), version.stderr

    listed = run(bin_dir, elsewhere, "questions", "list", "--section", "technical")
    assert listed.returncode == 0, listed.stderr
    assert "tech-bias-variance" in listed.stdout

    checked = run(bin_dir, elsewhere, "rubrics", "check")
    assert checked.returncode == 0 and "all files are valid" in checked.stdout, checked.stderr
    assert run(bin_dir, elsewhere, "prompts", "check").returncode == 0

    graded = str(Path(*bin_dir.parent.parts) / "lib")  # the shipped set, found inside the venv
    calibration = next(Path(graded).rglob("_shipped/rubrics/calibration/graded.jsonl"))
    cal = run(bin_dir, elsewhere, "calibrate", str(calibration), "--json")
    assert cal.returncode == 0, cal.stderr
    assert json.loads(cal.stdout)["n"] > 50

    copied = run(bin_dir, elsewhere, "rubrics", "init", "my-bank")
    assert copied.returncode == 0 and (elsewhere / "my-bank" / "sections.yaml").is_file()
    assert run(bin_dir, elsewhere, "--rubrics", "my-bank", "rubrics", "check").returncode == 0

    doctor = run(bin_dir, elsewhere, "doctor")
    assert "ok question bank" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "ok speech model" in doctor.stdout
    assert "Traceback" not in doctor.stderr

    demo = run(bin_dir, elsewhere, "demo", "--no-play", timeout=900)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    sessions = list((elsewhere / "recordings").glob("*/session.json"))
    assert len(sessions) == 1
    assert json.loads(sessions[0].read_text())["status"] == "completed"
