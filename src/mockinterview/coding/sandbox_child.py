"""The child side of the coding sandbox: runs a candidate's function against hidden test cases.

Executed as a script (``python -I -B coding_runner.py RESULT_FD``) by :mod:`mockinterview.coding.challenge`,
never imported by the interview for its side effects. It uses the standard library only, because it
runs isolated (``-I``) and before anything of the candidate's is imported.

Protocol:
- stdin: one JSON document (tagged, see :func:`decode`) with the function name, the cases and the
  limits. The runner reads it whole before anything else.
- RESULT_FD: a dedicated pipe; the runner writes one JSON object per line (``ready``, ``start``,
  ``case``, ``fatal``, ``done``; and ``exit`` from the reaper). The candidate's stdout and stderr are
  separate pipes that the parent reads and caps, so printing cannot forge or drown results.

Why a reaper: inside a fresh PID namespace the first process is PID 1, to which the kernel does not
deliver most default-action signals (SIGXCPU, a self-sent SIGKILL). So PID 1 only reads the payload,
forks the worker, waits for it and reports its exit status and CPU time; when PID 1 exits the kernel
kills whatever the worker left behind in the namespace.

Order of protections in the worker, each before the candidate's code is imported: resource limits
(CPU, address space, file size, processes, open files, no core files), dropping root to a throwaway
uid (so RLIMIT_NPROC applies), Landlock (writes only beneath the working directory, no TCP, no
signals or abstract sockets out of the sandbox) and, only when neither a network namespace nor
Landlock's network rules are in force, a best-effort ``socket.socket`` patch.
"""

from __future__ import annotations

import copy
import ctypes
import json
import math
import os
import resource
import sys
import time
import traceback
from typing import Any

MAX_PAYLOAD = 32 * 1024 * 1024
REPR_LIMIT = 240
SOLUTION_NAME = "solution.py"

# ----------------------------------------------------------------------------- tagged JSON


def encode(value: Any) -> Any:
    """JSON-safe form that keeps what plain JSON loses: non-string dict keys and tuples."""
    if isinstance(value, dict):
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dict" in value:
            return {_hashable(decode(k)): decode(v) for k, v in value["$dict"]}
        if "$tuple" in value:
            return tuple(decode(v) for v in value["$tuple"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


# ----------------------------------------------------------------------------- comparison


def short(value: Any, limit: int = REPR_LIMIT) -> str:
    """repr() cut to a readable length; never raises (the value may be the candidate's object)."""
    try:
        text = repr(value)
    except Exception as e:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<unprintable {type(value).__name__}: {type(e).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plain(value: Any) -> Any:
    """numpy / pandas values as plain Python, so a correct array-returning solution passes."""
    mod = type(value).__module__ or ""
    if mod.startswith(("numpy", "pandas")):
        for attr in ("tolist", "item"):
            fn = getattr(value, attr, None)
            if callable(fn):
                try:
                    return fn()
                except Exception:  # noqa: BLE001
                    continue
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _where(path: str) -> str:
    return f"at {path}: " if path else ""


def compare(got: Any, expected: Any, tolerance: float | None = None, path: str = "") -> str | None:
    """None when got matches expected, else the first difference as one readable line.

    Floats match within ``tolerance`` (absolute; with a relative floor of 1e-9 so 0.1 + 0.2 passes
    without one), element-wise inside lists, tuples and dicts; NaN matches NaN; lists and tuples are
    interchangeable; bools never stand in for numbers.
    """
    got = plain(got)
    if expected is None:
        return None if got is None else f"{_where(path)}expected None, got {short(got)}"
    if isinstance(expected, bool):
        if isinstance(got, bool) and got == expected:
            return None
        return f"{_where(path)}expected {expected!r}, got {short(got)}"
    if _is_number(expected):
        if not _is_number(got):
            return f"{_where(path)}expected {expected!r}, got {short(got)} ({type(got).__name__})"
        e, g = float(expected), float(got)
        if math.isnan(e) or math.isnan(g):
            return None if math.isnan(e) and math.isnan(g) else \
                f"{_where(path)}expected {expected!r}, got {short(got)}"
        if isinstance(expected, int) and isinstance(got, int) and tolerance is None:
            return None if got == expected else f"{_where(path)}expected {expected!r}, got {got!r}"
        if e == g:
            return None
        tol = tolerance or 0.0
        if math.isinf(e) or math.isinf(g):
            return f"{_where(path)}expected {expected!r}, got {short(got)}"
        if abs(g - e) <= max(tol, 1e-9 * max(abs(e), abs(g))):
            return None
        return f"{_where(path)}expected {expected!r}, got {short(got)}"
    if isinstance(expected, str):
        if got == expected and isinstance(got, str):
            return None
        return f"{_where(path)}expected {short(expected)}, got {short(got)}"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{_where(path)}expected a list, got {type(got).__name__} {short(got)}"
        if len(got) != len(expected):
            return (f"{_where(path)}expected {len(expected)} items, got {len(got)}: "
                    f"{short(got)}")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            diff = compare(g, e, tolerance, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{_where(path)}expected a dict, got {type(got).__name__} {short(got)}"
        got_keys = {plain(k): v for k, v in got.items()}
        for k in expected:
            if k not in got_keys:
                return f"{_where(path)}missing key {short(k)}"
        for k in got_keys:
            if k not in expected:
                return f"{_where(path)}unexpected key {short(k)}"
        for k, e in expected.items():
            diff = compare(got_keys[k], e, tolerance, f"{path}[{short(k, 40)}]")
            if diff:
                return diff
        return None
    try:
        same = bool(got == expected)
    except Exception:  # noqa: BLE001
        same = False
    return None if same else f"{_where(path)}expected {short(expected)}, got {short(got)}"


# ----------------------------------------------------------------------------- error kinds


def classify(exc: BaseException, tb_names: list[str]) -> str:
    """What kind of failure an exception is, so the verdict can say 'memory limit', not a trace."""
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    if isinstance(exc, RecursionError):
        return "recursion"
    errno = getattr(exc, "errno", None)
    if isinstance(exc, BlockingIOError) and errno == 11:
        return "process"  # EAGAIN from fork/clone: RLIMIT_NPROC
    if isinstance(exc, RuntimeError) and "thread" in str(exc):
        return "process"
    if type(exc).__name__ == "URLError" or any(
            "urllib" in n or "http" in n or "socket.py" in n for n in tb_names):
        return "network"
    if isinstance(exc, OSError):
        if type(exc).__name__ in ("gaierror", "herror", "timeout") \
                or isinstance(exc, ConnectionError) or errno in (101, 97, 99) \
                or any("socket" in n or "connect" in n for n in tb_names) \
                or (errno == 13 and not getattr(exc, "filename", None)):
            return "network"
        if errno == 27:
            return "fsize"  # EFBIG: RLIMIT_FSIZE (Python ignores SIGXFSZ)
        if errno in (1, 13, 30) and getattr(exc, "filename", None):
            return "filesystem"
        if errno == 1:
            return "blocked"  # EPERM without a file: e.g. a signal to a process outside
    return "error"


def describe(exc: BaseException) -> tuple[str, int | None, str]:
    """(``Type: message``, the line in solution.py where it surfaced, kind)."""
    tb = traceback.extract_tb(exc.__traceback__)
    line = None
    for frame in tb:
        if frame.filename.endswith(SOLUTION_NAME):
            line = frame.lineno
    msg = str(exc)
    if isinstance(exc, SyntaxError):
        line = exc.lineno
        msg = exc.msg
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return text, line, classify(exc, [f.name for f in tb] + [f.filename for f in tb])


# ----------------------------------------------------------------------------- sandbox


class Channel:
    """The result pipe: one JSON object per line, written whole."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, **event: Any) -> None:
        data = (json.dumps(event, default=str, allow_nan=True) + "\n").encode()
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError:
                return  # the parent has gone; nothing left to tell
            view = view[n:]


def set_limits(limits: dict[str, Any]) -> None:
    def lim(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            soft, hard = resource.getrlimit(which)
            if hard == resource.RLIM_INFINITY or value <= hard:
                resource.setrlimit(which, (value, hard))

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = int(math.ceil(limits["cpu_s"]))
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):
        pass
    lim(resource.RLIMIT_AS, int(limits["memory_mb"]) * 1024 * 1024)
    lim(resource.RLIMIT_FSIZE, int(limits["fsize_mb"]) * 1024 * 1024)
    lim(resource.RLIMIT_NOFILE, int(limits.get("nofile", 64)))


def drop_privileges(uid: int) -> None:
    """From root to a throwaway uid: root ignores RLIMIT_NPROC, and owns every file."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


# Landlock (Linux >= 5.13): unprivileged, stackable access control, set up through three syscalls.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_FS_WRITE_RIGHTS = {  # ABI version -> write-like rights it knows
    1: (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10)
    | (1 << 11) | (1 << 12),
}
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_WRITE_FILE = 1 << 1


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when there is none (asking changes nothing)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(0, int(libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))))


def landlock(workdir: str) -> list[str]:
    """Allow writes only beneath workdir (and to /dev/null); no TCP; signals stay inside.

    Returns the protections now in force (empty when the kernel has no Landlock).
    """
    if not sys.platform.startswith("linux"):
        return []
    abi = landlock_abi()
    if abi < 1:
        return []
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fs = _FS_WRITE_RIGHTS[1]
    if abi >= 2:
        fs |= _REFER
    if abi >= 3:
        fs |= _TRUNCATE
    if abi >= 5:
        fs |= _IOCTL_DEV
    attr = _RulesetAttr(fs, 0, 0)
    size = 8
    active = ["landlock-fs"]
    if abi >= 4:
        attr.handled_access_net = 0b11  # BIND_TCP | CONNECT_TCP, with no rule allowing any port
        size = 16
        active.append("landlock-net")
    if abi >= 6:
        attr.scoped = 0b11  # abstract unix sockets and signals stay inside the sandbox
        size = 24
        active.append("landlock-scope")
    rfd = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if rfd < 0:
        return []
    try:
        rules = [(workdir, fs), ("/dev/null", _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0))]
        for path, rights in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = _PathBeneath(rights, pfd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(rfd), ctypes.c_int(1),
                                ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                    return []
            finally:
                os.close(pfd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS, required by Landlock
            return []
        if libc.syscall(_SYS_RESTRICT, ctypes.c_int(rfd), ctypes.c_uint32(0)) != 0:
            return []
    finally:
        os.close(rfd)
    return active


# seccomp: refuse the system calls that start processes or threads, or replace the program.
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_EAGAIN, _EACCES, _ENOSYS = 11, 13, 38
_BLOCKED_SYSCALLS = {  # arch -> [(syscall number, errno returned)]
    "x86_64": [(56, _EAGAIN), (57, _EAGAIN), (58, _EAGAIN), (435, _ENOSYS), (59, _EACCES),
               (322, _EACCES)],  # clone fork vfork clone3 execve execveat
    "aarch64": [(220, _EAGAIN), (435, _ENOSYS), (221, _EACCES), (281, _EACCES)],
}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_no_processes() -> bool:
    """Install a seccomp filter: fork, clone (threads too) and exec fail. Works for root as well,
    which RLIMIT_NPROC does not. Returns False where the platform has no seccomp."""
    import platform

    arch = platform.machine()
    if not sys.platform.startswith("linux") or arch not in _BLOCKED_SYSCALLS:
        return False
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, errno_ret = 0x7FFF0000, 0x00050000
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, _AUDIT_ARCH[arch]), (ret, 0, 0, allow), (ld, 0, 0, 0)]
    if arch == "x86_64":  # x32 system call numbers would bypass the list
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, errno_ret | _ENOSYS)]
    for nr, err in _BLOCKED_SYSCALLS[arch]:
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, errno_ret | err)]
    prog.append((ret, 0, 0, allow))
    filters = (_SockFilter * len(prog))(*[_SockFilter(*f) for f in prog])
    fprog = _SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    return libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER


def block_sockets() -> None:
    """Best effort only (code can reach _socket or ctypes): refuse to create sockets."""
    import socket

    class _NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise PermissionError(1, "network access is not allowed in the coding sandbox")

    socket.socket = _NoSocket  # type: ignore[misc]
    socket.create_connection = lambda *a, **k: _NoSocket()  # type: ignore[assignment]


# ----------------------------------------------------------------------------- running


def load_solution(path: str) -> dict[str, Any]:
    import types

    with open(path, encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType("solution")
    module.__file__ = path
    sys.modules["solution"] = module
    code = compile(source, path, "exec")
    exec(code, module.__dict__)  # noqa: S102 - running the candidate's code is the point
    return module.__dict__


def run_cases(chan: Channel, payload: dict[str, Any]) -> None:
    sol = os.path.join(os.getcwd(), SOLUTION_NAME)
    chan.send(ev="ready", sandbox=payload.get("_active", []))
    try:
        namespace = load_solution(sol)
    except SystemExit as e:
        chan.send(ev="fatal", kind="exit", code=_exit_code(e), where="import")
        return
    except BaseException as e:  # noqa: BLE001 - anything the candidate's module does at import
        text, line, kind = describe(e)
        chan.send(ev="fatal", kind="syntax" if isinstance(e, SyntaxError) else "import",
                  error=text, line=line, error_kind=kind)
        return
    chan.send(ev="imported")
    name = payload["function"]
    fn = namespace.get(name)
    if fn is None or not callable(fn):
        chan.send(ev="fatal", kind="missing", function=name,
                  found=type(fn).__name__ if fn is not None else None)
        return
    for i, case in enumerate(payload["cases"]):
        chan.send(ev="start", i=i)
        args = copy.deepcopy(case.get("args", []))
        kwargs = copy.deepcopy(case.get("kwargs", {}))
        raises = case.get("raises")
        t0 = time.perf_counter()
        result: dict[str, Any] = {"ev": "case", "i": i}
        try:
            got = fn(*args, **kwargs)
        except SystemExit as e:
            chan.send(ev="fatal", kind="exit", code=_exit_code(e), where=f"case {i}", i=i)
            return
        except BaseException as e:  # noqa: BLE001
            dt = time.perf_counter() - t0
            text, line, kind = describe(e)
            names = [c.__name__ for c in type(e).__mro__]
            if raises and raises in names:
                result.update(passed=True, got=f"raised {type(e).__name__}", time=dt)
            else:
                result.update(passed=False, error=text, error_kind=kind, line=line, time=dt,
                              got=f"raised {type(e).__name__}",
                              diff=(f"expected {raises}, raised {text}" if raises else None))
            chan.send(**result)
            if kind == "memory":
                # A process that ran out of memory once is in no state to be trusted (and each
                # further case would spend the time limit on filling memory again): stop here.
                chan.send(ev="done", stopped="memory")
                return
            continue
        dt = time.perf_counter() - t0
        if raises:
            result.update(passed=False, got=short(got), time=dt,
                          diff=f"expected {raises} to be raised, returned {short(got)}")
        else:
            try:
                diff = compare(got, case.get("expected"), case.get("tolerance"))
            except RecursionError:
                diff = "the returned value is nested too deeply to compare"
            result.update(passed=diff is None, got=short(got), time=dt, diff=diff)
        chan.send(**result)
    chan.send(ev="done")


def _exit_code(e: SystemExit) -> Any:
    return e.code if isinstance(e.code, (int, str, type(None))) else short(e.code)


def worker(chan: Channel, payload: dict[str, Any]) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    limits = payload["limits"]
    set_limits(limits)
    active = []
    if limits.get("drop_uid") is not None and os.geteuid() == 0:
        drop_privileges(int(limits["drop_uid"]))
        active.append("uid")
    if limits.get("nproc"):
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["nproc"]),) * 2)
        except (ValueError, OSError):
            pass
    if limits.get("landlock", True):
        active += landlock(os.getcwd())
    if limits.get("seccomp", True) and seccomp_no_processes():
        active.append("seccomp")
    if limits.get("netns"):
        active.append("netns")
    if not limits.get("netns") and "landlock-net" not in active:
        block_sockets()
        active.append("socket-patch")
    payload["_active"] = active + (["pidns"] if os.getpid() == 2 else [])
    run_cases(chan, payload)


def main(argv: list[str]) -> int:
    chan = Channel(int(argv[1]))
    os.set_inheritable(chan.fd, False)
    raw = sys.stdin.buffer.read(MAX_PAYLOAD + 1)
    if len(raw) > MAX_PAYLOAD:
        chan.send(ev="fatal", kind="runner", error="test payload too large")
        return 2
    payload = decode(json.loads(raw))
    if os.getpid() != 1:
        _run_worker(chan, payload)
        return 0
    pid = os.fork()
    if pid == 0:
        _run_worker(chan, payload)
    _, status, usage = os.wait4(pid, 0)
    chan.send(ev="exit", status=status, exited=os.WIFEXITED(status),
              code=os.waitstatus_to_exitcode(status), cpu_s=usage.ru_utime + usage.ru_stime)
    return 0


def _run_worker(chan: Channel, payload: dict[str, Any]) -> None:
    try:
        worker(chan, payload)
    except BaseException as e:  # noqa: BLE001 - e.g. SystemExit raised from a case's __del__
        try:
            chan.send(ev="fatal", kind="runner", error=describe(e)[0])
        except BaseException:  # noqa: BLE001
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
