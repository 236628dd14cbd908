"""Two interviews writing into the same recordings folder at once keep separate, complete
sessions, and the shared SQLite index stays consistent with the folders."""

from __future__ import annotations

from mockinterview.store import index_snapshot, load_session, rebuild_index, session_dirs

from .common import TYPED_ANSWER, cli_env, popen_cli
from .ledger import record

PLAN = ["--text", "--no-play", "--engine", "offline", "--minutes", "5", "--sections",
        "introduction,technical", "--seed", "11"]  # same plan, same second: same folder name


def test_two_interviews_at_once_in_one_recordings_folder(faults_tmp):
    rec = faults_tmp / "rec-concurrent"
    env = cli_env(rec)
    tags = ["ALPHA", "BRAVO"]
    procs = [popen_cli(["start", *PLAN], env, stdin=True) for _ in tags]
    outs = []
    for tag, p in zip(tags, procs, strict=True):  # both are already running; feed both
        p.stdin.write((f"{tag} {TYPED_ANSWER}\n") * 40)
        p.stdin.close()
    for p in procs:
        outs.append((p.wait(timeout=240), p.stderr.read()))
    for code, err in outs:
        assert code == 0, err[-1500:]
    dirs = session_dirs(rec)
    sessions = [load_session(d) for d in dirs]
    ok = len(dirs) == 2 and len({s.id for s in sessions}) == 2
    by_tag = {}
    for s in sessions:
        texts = [t.transcript.text for t in s.turns if t.transcript and t.transcript.text]
        tags_seen = {x.split()[0] for x in texts}
        ok = ok and s.status == "completed" and len(tags_seen) == 1 and bool(texts)
        by_tag[next(iter(tags_seen))] = s
    ok = ok and set(by_tag) == set(tags)
    record("concurrency", ok, note=f"{len(dirs)} sessions: {[s.status for s in sessions]}")
    assert ok, [(d.name, s.status) for d, s in zip(dirs, sessions, strict=True)]
    live = index_snapshot(rec)
    assert {r[0] for r in live["sessions"]} == {s.id for s in sessions}
    problems = rebuild_index(rec)
    rebuilt = index_snapshot(rec)
    same = live == rebuilt and not problems
    record("concurrency", same, note="index after two concurrent writers differs from a rebuild")
    assert same, {t: (len(live[t]), len(rebuilt[t])) for t in live}
