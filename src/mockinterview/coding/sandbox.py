"""The sandbox's parent side: runs a candidate's solution on the bank's hidden cases in
:mod:`mockinterview.coding.sandbox_child` and alone decides the verdicts.

The candidate's code never runs in the interview's process, and never decides a verdict.
:func:`run_solution` starts ``python -I -B coding_runner.py`` in a separate process group. The
child receives each case's arguments only, never an expected value or the comparison; it sends back
what the function returned (converted to plain data through the built-in types' own methods) or the
exception's type names, in length-prefixed frames on a dedicated pipe. This process decodes those
as plain JSON data (never an object of the child's making, so no ``__eq__`` of the candidate's
runs here), checks that they arrive in the only order the runner writes them, and compares them with
the expected values itself. A child that exits early, floods the pipe or writes a malformed or
out-of-order frame fails every case it did not answer ("broken result channel"). Measured on this
machine (``benchmarks/coding_runner.py --runs 20``): a trivial run takes 170 ms median with every
layer (181 ms before read rules, frames and the uid drop were added: within this shared machine's
noise).

Layers, where the platform allows (a run records in ``CodingRun.sandbox`` those in force and in
``sandbox_missing`` those it lacked, and the report shows the missing ones):

- a wall-clock limit (the spec's ``time_limit_s`` counted from when the sandbox is ready; the whole
  process group is killed when it passes) and a CPU limit (RLIMIT_CPU),
- a memory limit (RLIMIT_AS = the spec's ``memory_mb``) and a file size limit (RLIMIT_FSIZE),
- ``unshare``: its own network namespace (no network), PID namespace (anything it starts dies with
  it; it cannot see or signal the interview) and a fresh ``/proc`` of that namespace,
- Landlock (Linux >= 5.13): reads only of its folder and the Python runtime (standard library,
  site-packages without this project's package, system libraries), so no home, key file, question
  bank, ``/proc`` or ``/etc``; writes only beneath its folder; no TCP; no signals or abstract Unix
  sockets out of the sandbox (ABI 6),
- a throwaway uid when the caller is root (RLIMIT_NPROC then binds). When the runtime lives under a
  private home (/root/.pyenv here) the child keeps CAP_DAC_READ_SEARCH alone, which Landlock's
  read rules confine to the runtime: the drop is never skipped while Landlock works,
- seccomp: fork, clone (threads too), exec, sockets of any family (Unix sockets on the file system
  too, which Landlock ABI 7 cannot stop), ptrace, process_vm_readv, io_uring, namespaces, mounts and
  handle-based opens fail,
- an empty environment (no API key or other variable of the interview reaches the code),
- stdout and stderr read by this process and capped: printing is data, never a result.

Each way a run can end (timeout, memory, crash, ``sys.exit``, ``os._exit``, output flood, fork
loop, writes outside the working directory, forged frames) becomes a one-line verdict; none raises
here.

Weakest case: no ``unshare``, no Landlock, no seccomp (not Linux) and running as root: then only
the process group kill, the rlimits, the socket patch and the parent-side verdicts remain, and code
could read and write what the interview's user can. :func:`sandbox_description` says what is in
force; ``sandbox_missing`` on each run says what was not.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mockinterview.coding import sandbox_child as coding_runner
from mockinterview.coding.checks import static_checks
from mockinterview.schema import CodingRun, CodingSpec

RUNNER = Path(coding_runner.__file__).resolve()
MAX_CODE_BYTES = 1_000_000
PROTECTIONS_DOC = {
    "netns": "own network namespace (no network)",
    "pidns": "own PID namespace (everything it starts dies with it)",
    "uid": "runs as a throwaway unprivileged uid",
    "landlock-fs": "writes only beneath the working directory",
    "landlock-read": "reads only of the working directory and the Python runtime (no homes, "
                     "question bank, /proc, /etc)",
    "procfs": "its own /proc (only its own processes), hidden by Landlock's read rules",
    "env": "empty environment (no variable of the interview reaches the code)",
    "landlock-net": "no TCP connect or bind",
    "landlock-scope": "no signals or abstract sockets outside the sandbox",
    "seccomp": "no fork, clone (threads), exec, sockets of any family (Unix sockets too), ptrace, "
               "io_uring, namespaces or mounts (seccomp filter)",
    "socket-patch": "socket.socket patched (best effort)",
}


# ----------------------------------------------------------------------------- sandbox options


@dataclass(frozen=True)
class SandboxOptions:
    """How the sandbox is built; the defaults are the strongest this machine supports."""

    startup_s: float = 15.0  # from process start to the runner's 'ready' (a loaded machine is slow)
    output_limit_kb: int = 256  # stdout + stderr beyond this ends the run: 'output limit'
    keep_output_kb: int = 4  # how much of each stream is kept for the verdict
    fsize_mb: int = 16  # RLIMIT_FSIZE: largest file the code may write
    nofile: int = 64  # RLIMIT_NOFILE
    nproc: int = 1  # RLIMIT_NPROC: 1 = no new processes or threads
    # RLIMIT_CPU = time limit + this (the wall clock normally ends it first)
    cpu_extra_s: float = 1.0
    namespaces: bool = True  # unshare --net --pid when it works here
    drop_privileges: bool = True  # when running as root: a throwaway uid, so RLIMIT_NPROC applies
    landlock: bool = True  # Linux Landlock: writes only in the working directory, no TCP
    landlock_read: bool = True  # Landlock read rules: only the folder and the runtime are readable
    seccomp: bool = True  # Linux seccomp: fork, clone and exec fail (works for root too)
    python: str = sys.executable


@lru_cache(maxsize=4)
def _unshare_prefix(as_root: bool) -> tuple[str, ...]:
    """``unshare`` arguments that work on this machine, or () (checked once per process)."""
    exe = shutil.which("unshare")
    if not exe or not sys.platform.startswith("linux"):
        return ()
    base = (exe, "--net", "--pid", "--fork", "--kill-child", "--mount-proc")
    candidates = [base] if as_root else [(exe, "--user", "--map-root-user", *base[1:])]
    for cmd in candidates:
        try:
            if subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0:
                return (*cmd, "--")
        except (OSError, subprocess.SubprocessError):
            continue
    return ()


def sandbox_description(options: SandboxOptions | None = None) -> list[str]:
    """What protects a run on this machine, in words (for the README / doctor output)."""
    o = options or SandboxOptions()
    root = os.geteuid() == 0
    out = ["separate process group, killed after each run", "CPU, memory, file size limits"]
    if o.namespaces and _unshare_prefix(root):
        out += [PROTECTIONS_DOC["netns"], PROTECTIONS_DOC["pidns"]]
    abi = coding_runner.landlock_abi() if o.landlock else 0
    if root and o.drop_privileges and (_readable_by_others(o.python)
                                       or (abi >= 1 and o.landlock_read)):
        out.append(PROTECTIONS_DOC["uid"])
    if abi >= 1:
        out.append(PROTECTIONS_DOC["landlock-fs"] + f" (Landlock ABI {abi})")
        if o.landlock_read:
            out.append(PROTECTIONS_DOC["landlock-read"])
    if abi >= 4:
        out.append(PROTECTIONS_DOC["landlock-net"])
    if abi >= 6:
        out.append(PROTECTIONS_DOC["landlock-scope"])
    if o.seccomp:
        out.append(PROTECTIONS_DOC["seccomp"])
    out.append(PROTECTIONS_DOC["env"])
    return out


def wanted_layers(options: SandboxOptions | None = None) -> list[str]:  # noqa: ARG001
    """Every layer the strongest sandbox has: a run records the ones it lacked, whether the kernel
    lacks them or the options turned them off."""
    out = ["env"]
    if sys.platform.startswith("linux"):
        out += ["netns", "pidns", "procfs", "landlock-fs", "landlock-read", "landlock-net",
                "landlock-scope", "seccomp"]
    if os.geteuid() == 0:
        out.append("uid")
    return out


# ----------------------------------------------------------------------------- running


@dataclass
class _Streams:
    limit: int
    keep: int
    total: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    results: bytes = b""
    results_total: int = 0
    flooded: bool = False
    protocol: str = ""


def _blank_cases(spec: CodingSpec, error: str = "not run") -> list[dict[str, Any]]:
    return [{"index": i, "note": c.note, "passed": False,
             "call": _call_text(spec, c.args, c.kwargs),
             "expected": _expected_text(c.expected, c.raises), "got": None, "diff": None,
             "error": error, "error_kind": None, "line": None, "time_s": None}
            for i, c in enumerate(spec.cases)]


def _call_text(spec: CodingSpec, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [coding_runner.short(a, 80) for a in args]
    parts += [f"{k}={coding_runner.short(v, 60)}" for k, v in kwargs.items()]
    text = f"{spec.function}({', '.join(parts)})"
    return text if len(text) <= 240 else text[:237] + "..."


def _expected_text(expected: Any, raises: str | None) -> str:
    return f"raises {raises}" if raises else coding_runner.short(expected)


def run_solution(path: Path, spec: CodingSpec, question_id: str | None = None,
                 options: SandboxOptions | None = None) -> CodingRun:
    """Run the bank's cases against the candidate's file; always returns a CodingRun, never raises
    for anything the candidate's code does."""
    o = options or SandboxOptions()
    path = Path(path)
    qid = question_id or path.stem
    total = len(spec.cases)

    layers: list[str] = []

    def result(verdict: str, code: str = "", cases: list[dict[str, Any]] | None = None,
               passed: int = 0, run_time: float = 0.0,
               issues: list[str] | None = None) -> CodingRun:
        wanted = wanted_layers(o)
        return CodingRun(question_id=qid, code_path=str(path), code=code, verdict=verdict,
                         passed=passed, total=total, cases=cases or _blank_cases(spec),
                         run_time_s=round(run_time, 4), static_issues=issues or [],
                         sandbox=list(layers),
                         sandbox_missing=[x for x in wanted if x not in layers] if layers else [])

    try:
        raw = path.read_bytes()
    except OSError as e:
        return result(f"no solution file: {path} ({e.strerror or e})")
    if len(raw) > MAX_CODE_BYTES:
        return result(f"solution too large: {len(raw)} bytes (limit {MAX_CODE_BYTES})")
    code = raw.decode("utf-8", errors="replace")
    issues = static_checks(code, spec)
    try:
        ast.parse(code)
    except SyntaxError as e:
        return result(f"syntax error at line {e.lineno}: {e.msg}", code,
                      _blank_cases(spec, "not run: syntax error"), issues=issues)
    except (ValueError, RecursionError, MemoryError) as e:
        return result(f"cannot parse the code: {type(e).__name__}", code, issues=issues)

    t0 = time.monotonic()
    try:
        events, streams, status, killed_for = _execute(code, spec, o)
        cases, verdict = _verdict(spec, events, streams, status, killed_for, o, layers)
    except OSError as e:
        return result(f"sandbox failed to start: {e.strerror or e}", code, issues=issues)
    except Exception as e:  # noqa: BLE001 - a sandbox bug must cost one run, not the interview
        return result(f"sandbox error: {type(e).__name__}: {str(e)[:200]}", code, issues=issues)
    run_time = time.monotonic() - t0
    passed = sum(1 for c in cases if c["passed"])
    return result(verdict, code, cases, passed, run_time, issues)


def _execute(code: str, spec: CodingSpec, o: SandboxOptions
             ) -> tuple[list[dict[str, Any]], _Streams, dict[str, Any], str | None]:
    """Start the runner, feed it, read it, and kill its whole process group at the end."""
    root = os.geteuid() == 0
    prefix = _unshare_prefix(root) if o.namespaces else ()
    uid = None
    if root and o.drop_privileges:
        # Also when the runtime lives under a private home: the child then keeps only
        # CAP_DAC_READ_SEARCH, confined by Landlock's read rules to the runtime and its folder.
        uid = 3_000_000 + secrets.randbelow(1_000_000)
    workdir = Path(tempfile.mkdtemp(prefix="mockinterview-code-"))
    try:
        sol = workdir / coding_runner.SOLUTION_NAME
        sol.write_text(code, encoding="utf-8")
        if uid is not None:
            os.chown(workdir, uid, uid)
            os.chown(sol, uid, uid)
        os.chmod(workdir, 0o700)
        payload = {  # arguments only: the expected values and the comparison stay here
            "function": spec.function,
            "cases": [{"args": c.args, "kwargs": c.kwargs} for c in spec.cases],
            "limits": {"cpu_s": spec.time_limit_s + o.cpu_extra_s, "memory_mb": spec.memory_mb,
                       "fsize_mb": o.fsize_mb, "nofile": o.nofile, "nproc": o.nproc,
                       "drop_uid": uid, "landlock": o.landlock, "seccomp": o.seccomp,
                       "landlock_read": o.landlock_read, "netns": bool(prefix),
                       "runtime_readable": uid is not None and _readable_by_others(o.python)},
        }
        data = json.dumps(coding_runner.encode(payload), allow_nan=True, default=str).encode()
        env: dict[str, str] = {}  # nothing of the interview's environment (API keys) reaches it
        r_fd, w_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [*prefix, o.python, "-I", "-B", str(RUNNER), str(w_fd)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=workdir, env=env, pass_fds=(w_fd,), start_new_session=True)
        except OSError:
            os.close(r_fd)
            raise
        finally:
            os.close(w_fd)
        feeder = threading.Thread(target=_feed, args=(proc, data), daemon=True)
        feeder.start()
        try:
            events, streams, killed_for = _collect(proc, r_fd, spec, o)
        finally:
            os.close(r_fd)
            _kill_group(proc.pid)
            status = _reap(proc)
            if uid is not None and not prefix:
                _kill_uid(uid)  # no PID namespace: sweep whatever escaped the process group
            feeder.join(timeout=1)
        return events, streams, status, killed_for
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@lru_cache(maxsize=4)
def _readable_by_others(python: str) -> bool:
    """Can a throwaway uid run this Python? (Not when it lives under root's private home.)"""
    import stat

    try:
        out = subprocess.run(
            [python, "-I", "-c", "import json, sysconfig; p = sysconfig.get_paths(); "
             "print(json.dumps([p['stdlib'], p['purelib']]))"],
            capture_output=True, timeout=20, check=True).stdout
        stdlib, purelib = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    paths = [Path(python).resolve(), Path(stdlib) / "os.py", RUNNER]
    if Path(purelib).exists():
        paths.append(Path(purelib))
    for p in paths:
        for part in [*reversed(p.parents), p]:
            try:
                mode = part.stat().st_mode
            except OSError:
                return False
            need = stat.S_IXOTH if part.is_dir() else stat.S_IROTH
            if not mode & need:
                return False
    return True


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(OSError, ValueError):
        proc.stdin.write(data)
    with contextlib.suppress(OSError, ValueError):
        proc.stdin.close()


def _collect(proc: subprocess.Popen[bytes], r_fd: int, spec: CodingSpec, o: SandboxOptions
             ) -> tuple[list[dict[str, Any]], _Streams, str | None]:
    assert proc.stdout is not None and proc.stderr is not None
    streams = _Streams(limit=o.output_limit_kb * 1024, keep=o.keep_output_kb * 1024)
    events: list[dict[str, Any]] = []
    sel = selectors.DefaultSelector()
    sel.register(r_fd, selectors.EVENT_READ, "results")
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
    deadline = time.monotonic() + o.startup_s
    ready = False
    finished = False
    killed_for: str | None = None
    result_cap = 16 * 1024 * 1024
    try:
        while sel.get_map():
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                killed_for = "timeout" if ready else "startup"
                break
            if finished:
                timeout = min(timeout, 0.05)  # only the runner's exit is left to notice
            for key, _ in sel.select(timeout):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                if key.data == "results":
                    streams.results += chunk
                    streams.results_total += len(chunk)
                    if streams.results_total > result_cap:
                        killed_for = "output"
                        break
                    try:
                        new, streams.results = _frames(streams.results)
                    except _ProtocolError as e:
                        killed_for = "protocol"
                        streams.protocol = str(e)
                        break
                    if len(events) + len(new) > 3 * len(spec.cases) + 8:
                        # The runner writes at most ready, imported, start + case per case,
                        # done/fatal and exit: more is a flood of forged records.
                        killed_for = "protocol"
                        streams.protocol = "more records than the cases need"
                        break
                    for ev in new:
                        events.append(ev)
                        if ev.get("ev") == "ready" and not ready:
                            ready = True
                            deadline = time.monotonic() + spec.time_limit_s
                else:
                    streams.total += len(chunk)
                    kept = getattr(streams, key.data)
                    if key.data == "stdout":
                        if len(kept) < streams.keep:
                            streams.stdout = kept + chunk[: streams.keep - len(kept)]
                    else:  # keep the tail of stderr: the traceback is at the end
                        streams.stderr = (kept + chunk)[-streams.keep:]
                    if streams.total > streams.limit:
                        streams.flooded = True
                        killed_for = "output"
                        break
            if killed_for:
                break
            finished = r_fd not in sel.get_map() or any(
                e.get("ev") in ("done", "fatal", "exit") for e in events[-2:])
            if finished and _exited(proc.pid):
                break  # the runner is gone: pipes held open by leftovers don't matter
    finally:
        sel.close()
    return events, streams, killed_for


def _exited(pid: int) -> bool:
    """Has the runner ended? (Checked without reaping it, so _reap still gets its CPU time.)"""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


class _ProtocolError(ValueError):
    """A frame on the result channel that the runner would never write: the code wrote it."""


def _frames(buf: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """Whole frames at the start of ``buf`` (8 hex digits of length + a JSON object) and the
    rest."""
    out: list[dict[str, Any]] = []
    h = coding_runner.FRAME_HEADER
    while len(buf) >= h:
        head = buf[:h]
        if not all(c in b"0123456789abcdef" for c in head):
            raise _ProtocolError("a frame without a valid length header")
        size = int(head, 16)
        if size > coding_runner.MAX_FRAME:
            raise _ProtocolError(f"a frame of {size} bytes (limit {coding_runner.MAX_FRAME})")
        if len(buf) < h + size:
            break
        body, buf = buf[h:h + size], buf[h + size:]
        try:
            ev = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise _ProtocolError(f"a frame that is not JSON ({type(e).__name__})") from None
        if not isinstance(ev, dict) or not isinstance(ev.get("ev"), str):
            raise _ProtocolError("a frame that is not an event")
        out.append(ev)
    return out, buf


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not plain data, as the child described it: equals nothing."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>" if self.text else f"<{self.type_name}>"


def from_wire(x: Any, depth: int = 0) -> Any:
    """Decode a returned value as plain data built here (never an object of the child's making);
    raises _ProtocolError on anything :func:`coding_runner.to_wire` does not produce."""
    if depth > coding_runner.WIRE_DEPTH + 2:
        raise _ProtocolError("a value nested deeper than the runner sends")
    t = type(x)
    if x is None or t in (bool, int, float, str):
        return x
    if t is list:
        return [from_wire(v, depth + 1) for v in x]
    if t is dict and len(x) in (1, 2):
        if len(x) == 1 and type(x.get("$tuple")) is list:
            return tuple(from_wire(v, depth + 1) for v in x["$tuple"])
        if len(x) == 1 and type(x.get("$dict")) is list:
            out = {}
            for pair in x["$dict"]:
                if type(pair) is not list or len(pair) != 2:
                    raise _ProtocolError("a malformed dict item")
                k = from_wire(pair[0], depth + 1)
                try:
                    out[k] = from_wire(pair[1], depth + 1)
                except TypeError:
                    raise _ProtocolError("an unhashable dict key") from None
            return out
        if len(x) == 1 and type(x.get("$set")) is list:
            try:  # frozen: a set may be a dict key or inside another set
                return frozenset(from_wire(v, depth + 1) for v in x["$set"])
            except TypeError:
                raise _ProtocolError("an unhashable set item") from None
        if type(x.get("$opaque")) is str and type(x.get("repr", "")) is str:
            return Opaque(x["$opaque"][:80], x.get("repr", "")[:240])
    raise _ProtocolError("a value the runner does not send")


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _reap(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    """Exit status and CPU time of the runner (wait4 also counts its waited-for children)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        return {"code": proc.returncode, "cpu_s": 0.0}
    proc.returncode = os.waitstatus_to_exitcode(status)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    return {"code": proc.returncode, "cpu_s": usage.ru_utime + usage.ru_stime}


def _kill_uid(uid: int) -> None:
    """Kill every process of the throwaway uid (only this run's processes carry it)."""
    for _ in range(3):
        found = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("Uid:") and int(line.split()[1]) == uid:
                    found = True
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(entry.name), signal.SIGKILL)
        if not found:
            return
        time.sleep(0.05)


# ----------------------------------------------------------------------------- verdicts

_SIGNAL_HINTS = {
    signal.SIGSEGV: "segmentation fault: very deep recursion or a crash in C code",
    signal.SIGXCPU: "CPU time limit",
    signal.SIGXFSZ: "file size limit",
    signal.SIGKILL: "killed",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
}


_ERROR_KINDS = {"memory", "not_implemented", "recursion", "process", "network", "fsize",
                "filesystem", "blocked", "error"}


def _verdict(spec: CodingSpec, events: list[dict[str, Any]], streams: _Streams,
             status: dict[str, Any], killed_for: str | None, o: SandboxOptions,
             layers: list[str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Walk the frames in the only order the runner writes them and decide each case here.

    The child's frames carry outputs only; a frame out of order or malformed ends the walk with
    the cases not yet answered failed (``killed_for`` becomes 'protocol').
    """
    total = len(spec.cases)
    cases = _blank_cases(spec)
    current: int | None = None
    done = False
    fatal: dict[str, Any] | None = None
    exit_ev: dict[str, Any] | None = None
    imported = False
    answered = 0
    for n, ev in enumerate(events):
        kind = ev.get("ev")
        if kind == "exit":
            if type(ev.get("code")) is int and type(ev.get("cpu_s")) in (int, float):
                exit_ev = ev
            continue
        if done or fatal is not None:
            continue  # nothing the runner writes comes after these but the reaper's exit
        try:
            if n == 0 and kind != "ready" or n > 0 and kind == "ready":
                raise _ProtocolError("the channel did not start with the runner's 'ready'")
            if kind == "ready":
                got_layers = ev.get("sandbox")
                if layers is not None and isinstance(got_layers, list):
                    layers += [str(x)[:40] for x in got_layers[:40]]
            elif kind == "imported":
                if imported:
                    raise _ProtocolError("'imported' twice")
                imported = True
            elif kind == "start":
                if not imported or current is not None or ev.get("i") != answered \
                        or answered >= total:
                    raise _ProtocolError(f"a 'start' out of order (case {short_text(ev.get('i'))})")
                current = answered
            elif kind == "case":
                if current is None or ev.get("i") != current:
                    raise _ProtocolError(f"a result for case {short_text(ev.get('i'))} that was "
                                         "not started")
                cases[current].update(_judge(spec.cases[current], ev))
                current = None
                answered += 1
            elif kind == "fatal":
                fatal = {k: v if type(v) in (int, type(None)) else coding_runner.short(v, 300)
                         if type(v) is not str else v[:300] for k, v in ev.items()}
            elif kind == "done":
                done = True
                if ev.get("stopped") == "memory":
                    for c in cases:
                        if c["error"] == "not run":
                            c["error"] = "not run: stopped after the memory limit"
            else:
                raise _ProtocolError(f"an unknown event {short_text(kind)}")
        except _ProtocolError as e:
            killed_for = "protocol"
            streams.protocol = str(e)
            break
    if done and answered < total and ev_stopped(events) is None and killed_for != "protocol":
        killed_for = "protocol"
        streams.protocol = f"'done' after {answered} of {total} cases"
    passed = sum(1 for c in cases if c["passed"])
    where = _where(cases, current)
    if not imported and any(ev.get("ev") == "ready" for ev in events):
        where = " at import (module-level code)"
    if current is not None and not done:
        cases[current]["error"] = "stopped while running this case"
    code = exit_ev.get("code") if exit_ev else status.get("code")
    cpu = float(exit_ev.get("cpu_s", 0.0) if exit_ev else status.get("cpu_s", 0.0))
    cpu_limit = spec.time_limit_s + o.cpu_extra_s

    if killed_for == "protocol":
        for c in cases:
            if c["error"] == "not run":
                c["error"] = "not run: the result channel was broken"
        return cases, (f"broken result channel: the code wrote {streams.protocol}{where}; the "
                       f"cases not answered before count as failed; {passed} of {total} passed")
    if killed_for == "output":
        return cases, (f"output limit: printed more than {o.output_limit_kb} KB{where}; "
                       f"{passed} of {total} cases passed before")
    if killed_for == "timeout":
        return cases, (f"timeout: stopped after {spec.time_limit_s:g} s{where}; "
                       f"{passed} of {total} cases passed before")
    if killed_for == "startup":
        return cases, f"sandbox did not start within {o.startup_s:g} s (machine overloaded?)"
    if fatal is not None:
        return cases, _fatal_verdict(spec, fatal, cases, passed, total)
    if done:
        return cases, _done_verdict(spec, cases, passed, total, o)
    # The process ended without saying why: an exit, a signal or a limit.
    if isinstance(code, int) and code < 0:
        sig = -code
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit - 0.05):
            return cases, f"CPU time limit: used {cpu:.1f} s of CPU{where}"
        if sig == signal.SIGXFSZ:
            return cases, f"file size limit: wrote a file over {o.fsize_mb} MB{where}"
        name = _signal_name(sig)
        hint = (_SIGNAL_HINTS.get(signal.Signals(sig), "")
                if sig in signal.Signals._value2member_map_ else "")
        tail = _stderr_tail(streams)
        return cases, (f"crashed: killed by {name}{' (' + hint + ')' if hint else ''}{where}"
                       + (f"; stderr: {tail}" if tail else ""))
    how = "os._exit" if code == 0 else "an exit"
    return cases, (f"exited: the code ended the process ({how}, exit code {code}){where}; "
                   f"{passed} of {total} cases passed before")


def short_text(v: Any) -> str:
    return coding_runner.short(v, 40)


def ev_stopped(events: list[dict[str, Any]]) -> str | None:
    for ev in events:
        if ev.get("ev") == "done" and isinstance(ev.get("stopped"), str):
            return ev["stopped"]
    return None


def _judge(case: Any, ev: dict[str, Any]) -> dict[str, Any]:
    """Pass or fail one case from what the child returned, decoded here as plain data."""
    t = ev.get("time")
    out: dict[str, Any] = {"time_s": _round(t) if type(t) in (int, float) else None}
    raises = case.raises
    if "raised" in ev:
        names = ev["raised"]
        if type(names) is not list or not names or not all(type(x) is str for x in names):
            raise _ProtocolError("a malformed exception record")
        error = ev.get("error")
        error = error[:300] if type(error) is str else names[0][:80]
        kind = ev.get("error_kind") if ev.get("error_kind") in _ERROR_KINDS else "error"
        line = ev.get("line") if type(ev.get("line")) is int else None
        got = f"raised {names[0][:80]}"
        if raises and raises in names:
            out.update(passed=True, got=got, diff=None, error=None, error_kind=None, line=None)
        else:
            out.update(passed=False, got=got, error=error, error_kind=kind, line=line,
                       diff=f"expected {raises}, raised {error}" if raises else None)
        return out
    if "value" not in ev:
        raise _ProtocolError("a case result with neither a value nor an exception")
    got = from_wire(ev["value"])
    if raises:
        text = coding_runner.short(got)
        out.update(passed=False, got=text, error=None, error_kind=None, line=None,
                   diff=f"expected {raises} to be raised, returned {text}")
        return out
    try:
        diff = coding_runner.compare(got, case.expected, case.tolerance)
    except RecursionError:
        diff = "the returned value is nested too deeply to compare"
    out.update(passed=diff is None, got=coding_runner.short(got), diff=diff, error=None,
               error_kind=None, line=None)
    return out


def _fatal_verdict(spec: CodingSpec, fatal: dict[str, Any], cases: list[dict[str, Any]],
                   passed: int, total: int) -> str:
    kind = fatal.get("kind")
    if kind == "exit":
        where = " at import" if fatal.get("where") == "import" else _where(cases, fatal.get("i"))
        if isinstance(fatal.get("i"), int) and 0 <= fatal["i"] < total:
            cases[fatal["i"]]["error"] = f"SystemExit({fatal.get('code')!r})"
        return (f"exited: sys.exit({fatal.get('code')!r}) called{where}; "
                f"{passed} of {total} cases passed")
    if kind == "missing":
        found = fatal.get("found")
        if found:
            return (f"function {spec.function} not defined "
                    f"({spec.function} is a {found}, not a function)")
        return f"function {spec.function} not defined"
    if kind == "syntax":
        return f"syntax error at line {fatal.get('line')}: {fatal.get('error')}"
    if kind == "import":
        for c in cases:
            c["error"] = "not run: the module failed at import"
        label = _KIND_LABEL.get(str(fatal.get("error_kind")))
        line = f" (line {fatal['line']})" if fatal.get("line") else ""
        if label:
            return f"{label} at import: {fatal.get('error')}{line}"
        return f"crashed at import: {fatal.get('error')}{line}"
    return f"crashed: the runner failed: {fatal.get('error')}"


_KIND_LABEL = {
    "memory": "memory limit",
    "process": "process limit: starting processes or threads is not allowed",
    "filesystem": "blocked: files outside the working directory cannot be read or written",
    "network": "blocked: network access is not allowed",
    "recursion": "crashed: recursion too deep",
    "fsize": "file size limit: a file grew past the limit",
    "blocked": "blocked: operation not permitted in the sandbox",
}


def _done_verdict(spec: CodingSpec, cases: list[dict[str, Any]], passed: int, total: int,
                  o: SandboxOptions) -> str:
    if passed == total:
        return f"all {total} cases passed"
    failed = [c for c in cases if not c["passed"]]
    kinds = [c.get("error_kind") for c in failed]
    if all(k == "not_implemented" for k in kinds):
        return f"not implemented: {spec.function} raises NotImplementedError"
    for kind in ("memory", "process", "filesystem", "network", "fsize", "blocked"):
        if kind in kinds:
            c = failed[kinds.index(kind)]
            extra = {"memory": f" ({spec.memory_mb} MB)",
                     "fsize": f" ({o.fsize_mb} MB)"}.get(kind, "")
            return (f"{_KIND_LABEL[kind]}{extra} in case {c['index'] + 1} "
                    f"({c['note'] or 'unnamed'}): "
                    f"{c['error']}; {passed} of {total} cases passed")
    errored = [c for c in failed if c.get("error")]
    if passed == 0 and len(errored) == len(failed):
        first = errored[0]
        same = all(c["error"] == first["error"] for c in errored)
        return f"crashed: {first['error']}" + (f" in all {total} cases" if same else
                                               f" in case {first['index'] + 1} and others")
    msg = f"{passed} of {total} cases passed"
    if errored:
        msg += f" ({len(errored)} raised an error)"
    return msg


def _index(ev: dict[str, Any], total: int) -> int | None:
    i = ev.get("i")
    return i if isinstance(i, int) and 0 <= i < total else None


def _where(cases: list[dict[str, Any]], i: Any) -> str:
    if not isinstance(i, int) or not 0 <= i < len(cases):
        return ""
    note = cases[i]["note"]
    return f" in case {i + 1} of {len(cases)}" + (f" ({note})" if note else "")


def _round(v: Any) -> float | None:
    return round(float(v), 6) if isinstance(v, (int, float)) else None


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _stderr_tail(streams: _Streams) -> str:
    text = streams.stderr.decode("utf-8", errors="replace").strip().splitlines()
    return text[-1][:200] if text else ""


