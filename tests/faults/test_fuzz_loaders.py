"""Fuzzing (hypothesis): the session, rubric, prompt and calibration loaders raise nothing but
their own error types, whatever bytes or JSON/YAML shapes they are given."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockinterview.errors import BankError, CalibrationError, PromptError, SessionError
from mockinterview.store import load_session

from .builders import build_session
from .common import ROOT, TYPED_ANSWER
from .ledger import record

FUZZ = settings(max_examples=60, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=25)


class Tracker:
    """Counts examples and the ones that raised a foreign exception, for the summary table."""

    def __init__(self, name: str):
        self.name = name
        self.n = 0
        self.bad: list[str] = []

    def run(self, fn, allowed: tuple[type[BaseException], ...]) -> None:
        self.n += 1
        try:
            fn()
        except allowed as e:
            assert "\n" not in str(e).splitlines()[0]
        except Exception as e:
            self.bad.append(f"{type(e).__name__}: {str(e)[:120]}")
            raise

    def done(self) -> None:
        record("fuzzing", not self.bad, injected=self.n - len(self.bad), note=None)
        if self.bad:
            record("fuzzing", False, injected=len(self.bad), note=f"{self.name}: {self.bad[0]}")


@pytest.fixture(scope="module")
def real_session(tmp_path_factory, bank) -> dict:
    rec = tmp_path_factory.mktemp("fuzz-session")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
        from mockinterview.config import Config

        folder = build_session(Config(), bank, typed=[TYPED_ANSWER] * 20)
    return json.loads((folder / "session.json").read_text())


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield from _paths(v, (*prefix, i))


def test_session_loader(tmp_path, real_session):
    t = Tracker("session.json")
    paths = [p for p in _paths(real_session) if p]
    folder = tmp_path / "s"
    folder.mkdir()

    @FUZZ
    @given(data=st.binary(max_size=3000))
    def raw(data):
        (folder / "session.json").write_bytes(data)
        t.run(lambda: load_session(folder), (SessionError,))

    @FUZZ
    @given(where=st.sampled_from(paths), value=json_values, drop=st.booleans())
    def mutated(where, value, drop):
        doc = json.loads(json.dumps(real_session))
        node = doc
        for k in where[:-1]:
            node = node[k]
        if drop and isinstance(node, dict):
            node.pop(where[-1], None)
        else:
            node[where[-1]] = value
        (folder / "session.json").write_text(json.dumps(doc))
        t.run(lambda: load_session(folder), (SessionError,))

    try:
        raw()
        mutated()
    finally:
        t.done()
    (folder / "session.json").write_text("[" * 100_000)
    with pytest.raises(SessionError):
        load_session(folder)


def test_rubric_loader(tmp_path):
    from mockinterview.bank import check_bank, load_bank

    t = Tracker("rubrics")
    root = tmp_path / "rubrics"
    (root / "questions").mkdir(parents=True)
    (root / "roles").mkdir()
    shutil.copy(ROOT / "rubrics" / "sections.yaml", root / "sections.yaml")
    questions = yaml.safe_load((ROOT / "rubrics" / "questions" / "behavioral.yaml").read_text())
    one = questions["questions"][0]

    def both():
        bank, problems = check_bank(root)
        assert isinstance(problems, list)
        load_bank(root)

    @settings(FUZZ, max_examples=30)
    @given(field=st.sampled_from(sorted(one)), value=json_values)
    def field_values(field, value):
        q = dict(one, **{field: value})
        (root / "questions" / "q.yaml").write_text(yaml.safe_dump({"questions": [q]}))
        t.run(both, (BankError,))

    @settings(FUZZ, max_examples=30)
    @given(text=st.text(max_size=400))
    def raw_text(text):
        (root / "questions" / "q.yaml").write_text(text)
        t.run(both, (BankError,))

    try:
        field_values()
        raw_text()
    finally:
        t.done()


def test_prompt_loader_and_rendering(tmp_path):
    from mockinterview.interviewer.prompts import Prompts, sample_values

    t = Tracker("prompts")
    shipped = ROOT / "prompts"
    d = tmp_path / "prompts"
    names = sorted(p.name for p in shipped.glob("*.j2"))
    original = {n: (shipped / n).read_text() for n in names}

    def load_and_render():
        p = Prompts(d)
        for n in names:
            if n == "persona.j2":
                p.render_text(n, **sample_values(n))
            else:
                p.render_messages(n, **sample_values(n))

    @FUZZ
    @given(name=st.sampled_from(names), cut=st.integers(0, 2000),
           insert=st.sampled_from(["{{", "}}", "{%", "%}", "{% block user %}", "{% endblock %}",
                                   "{{ nope }}", "{{ transcript|upper }}", "\x00", "{#", ""]),
           junk=st.text(max_size=40))
    def edited(name, cut, insert, junk):
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(shipped, d)
        text = original[name]
        cut = min(cut, len(text))
        (d / name).write_text(text[:cut] + insert + junk + text[cut:])
        t.run(load_and_render, (PromptError,))

    try:
        edited()
    finally:
        t.done()


def test_calibration_loader(tmp_path):
    try:
        from mockinterview.coach.core import load_calibration
    except ImportError:
        pytest.skip("mockinterview.coach.core (calibration) is not there yet")
    t = Tracker("calibration")
    lines = (ROOT / "rubrics" / "calibration" / "graded.jsonl").read_text().splitlines()[:3]
    item = json.loads(lines[0])
    path = tmp_path / "graded.jsonl"

    @FUZZ
    @given(field=st.sampled_from(sorted(item) + ["extra"]), value=json_values)
    def field_values(field, value):
        path.write_text("\n".join([lines[1], json.dumps(dict(item, **{field: value}))]) + "\n")
        t.run(lambda: load_calibration(path), (CalibrationError,))

    @FUZZ
    @given(data=st.binary(max_size=800))
    def raw(data):
        path.write_bytes(data)
        t.run(lambda: load_calibration(path), (CalibrationError,))

    try:
        field_values()
        raw()
    finally:
        t.done()
