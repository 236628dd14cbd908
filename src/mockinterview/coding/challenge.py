"""The coding challenge: a starter file for the candidate, a sandboxed run of the bank's hidden cases,
cheap static checks, the signals scoring reads and the questions the interviewer asks afterwards.

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
import math
import os
import secrets
import selectors
import shlex
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
from mockinterview.schema import CodingRun, CodingSpec, Question

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


# ----------------------------------------------------------------------------- starter file


def starter_text(question: Question) -> str:
    """The file the candidate edits: the task, the bank's starter (signature, docstring) and an example."""
    spec = _spec(question)
    text = " ".join(question.text.split())
    lines = [f"# Coding question {question.id}: {text}"]
    if spec.example:
        lines.append(f"# Example: {' '.join(spec.example.split())}")
    lines += [
        "# Edit the function below, save the file and say 'done' (or press Enter) to run the",
        "# hidden test cases. Standard library only is the safe choice; numpy is allowed if installed.",
        "",
    ]
    starter = spec.starter.rstrip() + "\n"
    if f"def {spec.function}" not in starter:
        sig = spec.signature.strip().removeprefix("def ").rstrip(":")
        starter = f"def {sig}:\n    raise NotImplementedError\n"
    return "\n".join(lines) + "\n" + starter


def write_starter(question: Question, folder: Path) -> Path:
    """Write ``code/<question_id>.py`` in the session folder (atomically); keep an existing file.

    An existing file is the candidate's work from before a resume, so it is never overwritten.
    """
    path = Path(folder) / "code" / f"{question.id}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(starter_text(question), encoding="utf-8")
    os.replace(tmp, path)
    return path


def open_editor(path: Path, editor: str | None = None) -> subprocess.Popen[bytes] | None:
    """Start ``$EDITOR path`` without waiting (the interview goes on); None when no editor is set.

    A terminal editor needs the terminal, so the flow should wait on the returned process before it
    reads from the keyboard again; a GUI editor returns at once or runs beside the interview.
    """
    cmd = editor if editor is not None else os.environ.get("EDITOR", "")
    if not cmd.strip():
        return None
    try:
        return subprocess.Popen([*shlex.split(cmd), str(path)])
    except OSError:
        return None


def _spec(question: Question) -> CodingSpec:
    if question.coding is None:
        raise ValueError(f"question {question.id} has no coding block")
    return question.coding


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
    cpu_extra_s: float = 1.0  # RLIMIT_CPU = time limit + this (the wall clock normally ends it first)
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
    return [{"index": i, "note": c.note, "passed": False, "call": _call_text(spec, c.args, c.kwargs),
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
               passed: int = 0, run_time: float = 0.0, issues: list[str] | None = None) -> CodingRun:
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
    """Whole frames at the start of ``buf`` (8 hex digits of length + a JSON object) and the rest."""
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
        hint = _SIGNAL_HINTS.get(signal.Signals(sig), "") if sig in signal.Signals._value2member_map_ else ""
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
        return f"exited: sys.exit({fatal.get('code')!r}) called{where}; {passed} of {total} cases passed"
    if kind == "missing":
        found = fatal.get("found")
        if found:
            return f"function {spec.function} not defined ({spec.function} is a {found}, not a function)"
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
            extra = {"memory": f" ({spec.memory_mb} MB)", "fsize": f" ({o.fsize_mb} MB)"}.get(kind, "")
            return (f"{_KIND_LABEL[kind]}{extra} in case {c['index'] + 1} ({c['note'] or 'unnamed'}): "
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


# ----------------------------------------------------------------------------- static checks

LONG_FUNCTION_LINES = 60
DEEP_NESTING = 5


def _signature_params(spec: CodingSpec) -> ast.arguments | None:
    sig = spec.signature.strip()
    if not sig.startswith("def "):
        sig = "def " + sig
    sig = sig.rstrip().rstrip(":")
    try:
        tree = ast.parse(sig + ":\n    pass\n")
    except SyntaxError:
        return None
    fn = tree.body[0]
    return fn.args if isinstance(fn, ast.FunctionDef) else None


def _arity(args: ast.arguments) -> tuple[int, float, set[str]]:
    """(required positional count, max positional count, keyword names)."""
    pos = [*args.posonlyargs, *args.args]
    required = len(pos) - len(args.defaults)
    most = math.inf if args.vararg else float(len(pos))
    names = {a.arg for a in [*args.args, *args.kwonlyargs]}
    return required, most, names


def static_checks(code: str, spec: CodingSpec | None = None) -> list[str]:
    """Cheap readability and robustness findings, one line each (``line N: ...``); [] is clean.

    Uses ``ast`` always and ruff (when installed) for unused names, undefined names and bare
    ``except``. Severe findings (syntax, missing function, wrong arity) start with 'error:'.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"error: line {e.lineno}: syntax error: {e.msg}"]
    except (ValueError, RecursionError, MemoryError) as e:
        return [f"error: the code cannot be parsed ({type(e).__name__})"]
    try:
        return _static_checks(tree, code, spec)
    except RecursionError:
        return ["line 1: expressions nested too deeply to check"]


def _static_checks(tree: ast.Module, code: str, spec: CodingSpec | None) -> list[str]:
    issues: list[str] = []
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    target = funcs.get(spec.function) if spec else None
    if spec is not None:
        top = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == spec.function]
        if not top:
            issues.append(f"error: function {spec.function} is not defined at the top level")
        else:
            target = top[-1]
            issues += _arity_issues(target, spec)
            if _only_raises_not_implemented(target):
                issues.append(f"error: line {target.lineno}: {spec.function} is still the "
                              "starter (raises NotImplementedError)")
            elif _has_empty_case(spec) and not _handles_empty(target):
                issues.append(f"line {target.lineno}: {spec.function} has no visible handling "
                              "of empty input (no 'if not x', len(x) == 0 check or raise)")
    for fn in funcs.values():
        length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
        if length > LONG_FUNCTION_LINES:
            issues.append(f"line {fn.lineno}: function {fn.name} is {length} lines long "
                          f"(over {LONG_FUNCTION_LINES}); split it")
        depth = _nesting(fn)
        if depth >= DEEP_NESTING:
            issues.append(f"line {fn.lineno}: function {fn.name} nests blocks {depth} deep")
    ruff = _ruff_issues(code)
    if ruff is None:
        issues += _ast_lint(tree)
    else:
        issues += ruff
    return issues


def _arity_issues(fn: ast.FunctionDef, spec: CodingSpec) -> list[str]:
    issues = []
    req, most, names = _arity(fn.args)
    call_counts = {len(c.args) for c in spec.cases}
    kw_used = {k for c in spec.cases for k in c.kwargs}
    expected = _signature_params(spec)
    if expected is not None:
        e_req, e_most, _ = _arity(expected)
        if req > e_req or most < e_most:
            want = int(e_most) if e_most != math.inf else "any number of"
            issues.append(f"error: line {fn.lineno}: {spec.function} takes {req}"
                          f"{'' if most == req else f'-{most:g}'} positional arguments; the "
                          f"signature has {want} ({e_req} required)")
            return issues
    too_few = [n for n in call_counts if n < req]
    too_many = [n for n in call_counts if n > most]
    if too_few or too_many:
        issues.append(f"error: line {fn.lineno}: {spec.function} cannot be called with "
                      f"{(too_few or too_many)[0]} positional arguments as the tests do")
    missing_kw = sorted(k for k in kw_used if k not in names and fn.args.kwarg is None)
    if missing_kw:
        issues.append(f"error: line {fn.lineno}: {spec.function} has no parameter "
                      f"{missing_kw[0]!r}, which the tests pass by name")
    return issues


def _only_raises_not_implemented(fn: ast.FunctionDef) -> bool:
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    name = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(name, ast.Name) and name.id == "NotImplementedError"


def _has_empty_case(spec: CodingSpec) -> bool:
    def empty(v: Any) -> bool:
        return isinstance(v, (list, dict, str, tuple)) and len(v) == 0

    return any(any(empty(a) for a in c.args) or any(empty(v) for v in c.kwargs.values())
               for c in spec.cases)


def _handles_empty(fn: ast.FunctionDef) -> bool:
    """Heuristic: a raise, a try, a truthiness test or a len() comparison anywhere in the function."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Raise, ast.Try)):
            return True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return True
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) and isinstance(
                node.test, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)):
            return True
        if isinstance(node, ast.Compare) and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len"
                for n in [node.left, *node.comparators]):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "max", "min") and any(k.arg == "default" for k in node.keywords):
            return True
    return False


def _nesting(fn: ast.AST) -> int:
    blocks = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)

    def depth(node: ast.AST, d: int) -> int:
        best = d
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            best = max(best, depth(child, d + 1 if isinstance(child, blocks) else d))
        return best

    return depth(fn, 0)


def _ast_lint(tree: ast.Module) -> list[str]:
    """The ruff checks we rely on, done with ast when ruff is not installed."""
    issues = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            issues.append(f"line {node.lineno}: bare 'except:' hides every error (E722)")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stored: dict[str, int] = {}
            loaded: set[str] = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    if isinstance(sub.ctx, ast.Store):
                        stored.setdefault(sub.id, sub.lineno)
                    else:
                        loaded.add(sub.id)
            globals_ = {n for sub in ast.walk(node) if isinstance(sub, (ast.Global, ast.Nonlocal))
                        for n in sub.names}
            for name, line in stored.items():
                if name not in loaded and name not in globals_ and name != "_":
                    issues.append(f"line {line}: local variable {name!r} is assigned to but "
                                  "never used (F841)")
    return issues


RUFF_RULES = "F,E7,E9,B0"


def _ruff_path() -> str | None:
    here = Path(sys.executable).parent / "ruff"
    return str(here) if here.exists() else shutil.which("ruff")


def _ruff_issues(code: str) -> list[str] | None:
    exe = _ruff_path()
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "check", "--isolated", "--no-cache", "--select", RUFF_RULES,
             "--output-format", "json", "--stdin-filename", "solution.py", "-"],
            input=code.encode(), capture_output=True, timeout=20)
        findings = json.loads(proc.stdout or b"[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    out = []
    for f in findings if isinstance(findings, list) else []:
        row = (f.get("location") or {}).get("row")
        out.append(f"line {row}: {f.get('message')} ({f.get('code')})")
    return out


# ----------------------------------------------------------------------------- scoring signals


def level_for_tests(run: CodingRun) -> int:
    """Correctness level 1-5 from the share of hidden cases passed.

    5: every case; 4: at least 80 %; 3: at least 50 %; 2: at least one case; 1: none (including
    syntax errors, a missing function, the untouched starter, a timeout before any case passed).
    """
    if run.total <= 0 or run.passed <= 0:
        return 1
    share = run.passed / run.total
    if share >= 1.0:
        return 5
    if share >= 0.8:
        return 4
    if share >= 0.5:
        return 3
    return 2


def level_for_quality(run: CodingRun) -> int:
    """Code quality level 1-5 from the static findings.

    1: any severe finding ('error:' - syntax, missing function, wrong arity, untouched starter)
    or nothing written; otherwise minor findings count: 0 -> 5, 1 -> 4, 2-3 -> 3, 4-6 -> 2, 7+ -> 1.
    A run that passed no case at all is capped at 3: quality cannot be judged on code that does not
    work yet.
    """
    issues = run.static_issues
    if any(i.startswith("error:") for i in issues) or not run.code.strip():
        return 1
    n = len(issues)
    level = 5 if n == 0 else 4 if n == 1 else 3 if n <= 3 else 2 if n <= 6 else 1
    if run.passed == 0:
        level = min(level, 3)
    return level


def coding_signals(run: CodingRun) -> dict[str, Any]:
    """What scoring reads: shares in 0-1, levels 1-5, and the evidence to quote."""
    tests_level = level_for_tests(run)
    quality_level = level_for_quality(run)
    failing = [c for c in run.cases if not c.get("passed")]
    return {
        "tests": run.passed / run.total if run.total else 0.0,
        "code_quality": (quality_level - 1) / 4,
        "tests_level": tests_level,
        "quality_level": quality_level,
        "verdict": run.verdict,
        "passed": run.passed,
        "total": run.total,
        "failing": [f"case {c.get('index', 0) + 1} ({c.get('note') or 'unnamed'}): "
                    f"{c.get('diff') or c.get('error') or 'failed'}" for c in failing][:5],
        "static_issues": list(run.static_issues),
        "run_time_s": run.run_time_s,
    }


# ----------------------------------------------------------------------------- discussion


_NOT_A_METHOD = ("validate", "empty", "raise", "reject", "check ", "discuss", "explain", "mention",
                 "o(", "test ", "if ")


def hint(question: Question) -> str | None:
    """One hint from the question's outline: its first sentence about the method itself.

    Outlines open with input validation ("Empty -> []", "Validate lengths") and end with talking
    points ("Discuss ...", "O(n)"), neither of which helps someone stuck on the approach, so those
    clauses are left out when the outline has a method sentence.
    """
    outline = " ".join(question.outline.split())
    if not outline:
        return None
    picked: list[str] = []
    for sentence in outline.split(". "):
        clauses = [c.strip().rstrip(".") for c in sentence.split("; ")]
        kept = [c for c in clauses if c and not c.lower().startswith(_NOT_A_METHOD)]
        if kept:
            picked.append("; ".join(kept))
        if len(" ".join(picked).split()) >= 8:
            break
    text = ". ".join(picked) if picked else outline.split(". ")[0].rstrip(".")
    return f"Here's a hint: {text}."


_STOPPED_EARLY = ("timeout", "memory limit", "output limit", "exited", "process limit", "blocked",
                  "crashed: killed", "CPU time", "file size", "crashed at import", "sandbox")


def discussion_prompts(run: CodingRun, question: Question) -> list[str]:
    """What the interviewer asks after a run, in order: the approach and complexity; a failing
    case (named, with the first differing value) or, when all passed, an edge case; and one hint
    when the candidate is stuck (nothing passed)."""
    prompts = [f"Walk me through your approach to {_task(question)}. What are the time and memory "
               "complexity of your solution?"]
    failing = [c for c in run.cases if not c.get("passed")]
    verdict = run.verdict
    if verdict.startswith("timeout"):
        prompts.append(f"The run timed out ({verdict.split(';')[0]}). Where could your code loop "
                       "forever or be too slow, and how would you fix it?")
    elif verdict.startswith(("syntax error", "function ")):
        prompts.append(f"The code didn't run: {verdict}. Can you fix that and tell me what the "
                       "function should do first?")
    elif verdict.startswith(_STOPPED_EARLY):
        prompts.append(f"The run stopped early: {verdict.split(';')[0]}. What in your code causes "
                       "that, and how would you change it?")
    elif verdict.startswith("not implemented"):
        prompts.append("The function still raises NotImplementedError. How would you start? "
                       "Talk me through the first few lines.")
    elif failing and run.passed < run.total:
        c = failing[0]
        what = c.get("diff") or c.get("error") or "it failed"
        label = c.get("note") or f"case {c.get('index', 0) + 1}"
        call = c.get("call") or ""
        call = call if len(call) <= 80 else ""  # long inputs are for the report, not for speech
        prompts.append(f"Your code failed the '{label}' case" + (f", {call}" if call else "")
                       + f": {what}. Why do you think that happens, and how would you fix it?")
    else:
        prompts.append(_edge_probe(question))
    if run.passed == 0:
        h = hint(question)
        if h:
            prompts.append(h)
    return prompts


def _task(question: Question) -> str:
    """Said aloud, so 'the moving average function', not 'moving_average'."""
    spec = question.coding
    return f"the {spec.function.replace('_', ' ')} function" if spec else "this problem"


def _edge_probe(question: Question) -> str:
    """An edge case worth discussing even when every hidden case passed."""
    text = " ".join([question.text, *question.topics, question.outline]).lower()
    if any(w in text for w in ("nan", "missing", "impute", "preprocess")):
        return "All cases passed. What does your function do when a value is NaN or None?"
    if any(w in text for w in ("imbalanc", "accuracy", "precision", "recall", "classification",
                               "auc", "confusion")):
        return ("All cases passed. How does your function behave with heavy class imbalance, or "
                "when one class never appears in the predictions?")
    return ("All cases passed. What happens with empty input, or with a single element? How did "
            "you convince yourself it's correct?")
