"""The child side of the coding sandbox: runs a candidate's function against hidden test cases.

Executed as a script (``python -I -B sandbox_child.py RESULT_FD``) by
:mod:`mockinterview.coding.challenge`, never imported by the interview for its side effects. It uses
the standard library only, because it runs isolated (``-I``) and before anything of the candidate's
is imported.

Protocol (the child never holds an expected value or the comparison):
- stdin: one JSON document (tagged, see :func:`decode`) with the function name, each case's
  arguments only, the limits and the read-only paths. The runner reads it whole before anything
  else.
- RESULT_FD: a dedicated pipe of frames, each ``8 hex digits of length`` + one JSON object
  (``ready``, ``imported``, ``start``, ``case``, ``fatal``, ``done``; and ``exit`` from the reaper).
  A ``case`` frame carries the returned value converted to plain data (:func:`to_wire`) or the
  exception's type names; the parent decodes it as plain data and compares it with the expected
  value itself. The candidate's code shares this process, so it can write frames too: that only lets
  it claim outputs, never verdicts, and a malformed or out-of-order frame ends the run with the
  unanswered cases failed. stdout and stderr are separate pipes the parent reads and caps.

Why a reaper: inside a fresh PID namespace the first process is PID 1, to which the kernel does not
deliver most default-action signals (SIGXCPU, a self-sent SIGKILL). So PID 1 only reads the payload,
forks the worker, waits for it and reports its exit status and CPU time; when PID 1 exits the kernel
kills whatever the worker left behind in the namespace.

Order of protections in the worker, each before the candidate's code is imported: resource limits
(CPU, address space, file size, processes, open files, no core files), Landlock (reads only of the
working directory and the Python runtime, writes only beneath the working directory, no TCP, no
signals or abstract sockets out of the sandbox), dropping root to a throwaway uid (so RLIMIT_NPROC
applies and no file is the caller's; when the runtime lives under a private home such as /root it
keeps CAP_DAC_READ_SEARCH only, which Landlock confines to the runtime), a seccomp filter (no fork,
clone, exec, sockets of any family, ptrace, io_uring, namespaces or mounts) and, only when neither a
network namespace nor Landlock's network rules are in force, a best-effort ``socket.socket`` patch.
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


WIRE_DEPTH = 64  # deeper returned values are sent as opaque (the parent refuses deeper frames)


def to_wire(value: Any, depth: int = 0) -> Any:
    """The returned value as plain JSON data, read through the built-in types' own methods.

    A subclass of int, str, list or dict is sent as the plain value it holds, so its own
    ``__eq__``, ``__iter__`` or ``__repr__`` never reach the parent; anything else that is not
    plain data is sent as ``{"$opaque": type name, "repr": ...}``, which equals nothing.
    """
    if depth > WIRE_DEPTH:
        return {"$opaque": "nested too deeply", "repr": ""}
    if value is None or value is True or value is False:
        return value
    value = (plain(value) if (type(value).__module__ or "").startswith(("numpy", "pandas"))
             else value)
    if value is None or value is True or value is False:
        return value
    if isinstance(value, bool):
        return bool.__bool__(value)
    if isinstance(value, int):
        n = int.__int__(value)
        return n if abs(n) < 10 ** 4000 else {"$opaque": "int", "repr": "(a huge int)"}
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):
        return {"$tuple": [to_wire(v, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [to_wire(v, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {"$dict": [[to_wire(k, depth + 1), to_wire(v, depth + 1)]
                          for k, v in dict.items(value)]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [to_wire(v, depth + 1) for v in frozenset.__iter__(frozenset(value))]}
    return {"$opaque": _type_name(value), "repr": short(value)}


def _type_name(value: Any) -> str:
    try:
        return str(type(value).__name__)[:80]
    except BaseException:  # noqa: BLE001 - a metaclass may do anything
        return "object"


# ----------------------------------------------------------------------------- comparison


def short(value: Any, limit: int = REPR_LIMIT) -> str:
    """repr() cut to a readable length; never raises (the value may be the candidate's object)."""
    try:
        text = repr(value)
        if type(text) is not str:
            text = str.__str__(text)
    except BaseException:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<unprintable {_type_name(value)}>"
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
    try:
        tb = traceback.extract_tb(exc.__traceback__)
    except BaseException:  # noqa: BLE001 - a forged traceback
        tb = traceback.StackSummary()
    line = None
    for frame in tb:
        if str(frame.filename).endswith(SOLUTION_NAME):
            line = frame.lineno
    try:
        msg = str(exc)
        if type(msg) is not str:
            msg = str.__str__(msg)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ raises or exits
        msg = "<unprintable message>"
    if isinstance(exc, SyntaxError):
        line = exc.lineno if isinstance(exc.lineno, int) else None
        msg = str(exc.msg)
    line = line if isinstance(line, int) and type(line) is int else None
    text = f"{_type_name(exc)}: {msg}" if msg else _type_name(exc)
    if len(text) > 300:
        text = text[:297] + "..."
    return text, line, classify(exc, [f.name for f in tb] + [f.filename for f in tb])


# ----------------------------------------------------------------------------- sandbox


FRAME_HEADER = 8  # hex digits of the body's length
MAX_FRAME = 4 * 1024 * 1024  # a larger frame is a protocol violation


class Channel:
    """The result pipe: frames of ``%08x`` length + one JSON object, written whole."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, **event: Any) -> None:
        body = json.dumps(event, default=str, allow_nan=True).encode()
        if len(body) > MAX_FRAME:
            body = json.dumps({"ev": event.get("ev"), "i": event.get("i"),
                               "too_large": len(body)}).encode()
        data = b"%08x" % len(body) + body
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


def drop_privileges(uid: int, keep_read_search: bool = False) -> None:
    """From root to a throwaway uid: root ignores RLIMIT_NPROC, and owns every file.

    ``keep_read_search`` keeps CAP_DAC_READ_SEARCH alone (every other capability goes): for a
    runtime under a private home (/root/.pyenv here) the throwaway uid could not import anything
    otherwise. Only used once Landlock's read rules confine reads to the runtime and the folder.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if keep_read_search and libc.prctl(8, 1, 0, 0, 0) != 0:  # PR_SET_KEEPCAPS
        raise OSError(ctypes.get_errno(), "PR_SET_KEEPCAPS failed")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if keep_read_search:
        libc.prctl(8, 0, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = (ctypes.c_uint32 * 6)(1 << 2, 1 << 2, 0, 0, 0, 0)  # eff, perm, inh: DAC_READ_SEARCH
        nr = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
        libc.syscall.restype = ctypes.c_long
        if nr is None or libc.syscall(nr, header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")


def runtime_read_paths() -> list[str]:
    """What the Python runtime needs to read: its standard library, extension modules and
    site-packages (entry by entry, leaving out this project's own package, which holds the
    question bank), the system's shared libraries. Nothing under a home, /etc, /proc or /tmp."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    out: list[str] = []
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if not real or not any(real == r or real.startswith(r + os.sep) for r in roots):
            continue  # e.g. an editable install's source folder
        if os.path.basename(real) in ("site-packages", "dist-packages") and os.path.isdir(real):
            try:
                names = os.listdir(real)
            except OSError:
                continue
            out += [os.path.join(real, n) for n in names
                    if not n.lower().startswith(
                        ("mockinterview", "__editable__", "_mockinterview"))]
        else:
            out.append(real)
    for lib in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache", "/dev/urandom",
                "/dev/zero", "/usr/share/zoneinfo", "/etc/localtime"):
        if os.path.exists(lib):
            out.append(lib)
    return out


# Landlock (Linux >= 5.13): unprivileged, stackable access control, set up through three syscalls.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_FS_WRITE_RIGHTS = {  # ABI version -> write-like rights it knows
    1: (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10)
    | (1 << 11) | (1 << 12),
}
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_WRITE_FILE = 1 << 1
_EXECUTE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 2, 1 << 3
_READ_RIGHTS = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV  # valid on a file


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


def landlock(workdir: str, read_paths: list[str] | None = None) -> list[str]:
    """Allow writes only beneath workdir (and to /dev/null); no TCP; signals stay inside.

    With ``read_paths`` reads are handled too: only workdir, /dev/null and those paths (the
    runtime, read-only) can be opened, listed or executed; everything else (homes, the question
    bank, /proc, /etc) fails with PermissionError. Returns the protections now in force (empty
    when the kernel has no Landlock).
    """
    if not sys.platform.startswith("linux"):
        return []
    abi = landlock_abi()
    if abi < 1:
        return []
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fs = _FS_WRITE_RIGHTS[1] | (_READ_RIGHTS if read_paths is not None else 0)
    if abi >= 2:
        fs |= _REFER
    if abi >= 3:
        fs |= _TRUNCATE
    if abi >= 5:
        fs |= _IOCTL_DEV
    attr = _RulesetAttr(fs, 0, 0)
    size = 8
    active = ["landlock-fs"] + (["landlock-read"] if read_paths is not None else [])
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
        dev_null = _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0) | (_READ_FILE if read_paths
                                                                     is not None else 0)
        rules = [(workdir, fs), ("/dev/null", dev_null)]
        rules += [(p, _READ_RIGHTS) for p in read_paths or []]
        for n, (path, rights) in enumerate(rules):
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_RIGHTS
                rule = _PathBeneath(rights & fs, pfd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(rfd), ctypes.c_int(1),
                                ctypes.byref(rule), ctypes.c_uint32(0)) != 0 and n == 0:
                    return []  # without the working directory nothing can run
            finally:
                os.close(pfd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS, required by Landlock
            return []
        if libc.syscall(_SYS_RESTRICT, ctypes.c_int(rfd), ctypes.c_uint32(0)) != 0:
            return []
    finally:
        os.close(rfd)
    return active


# seccomp: refuse the system calls that start processes or threads, replace the program, open a
# socket of any family (Unix sockets on the file system included, which Landlock ABI 7 cannot
# stop), look into other processes, or step around the other layers.
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_EPERM, _EAGAIN, _EACCES, _ENOSYS = 1, 11, 13, 38
_BLOCKED_SYSCALLS = {  # arch -> [(syscall number, errno returned)]
    "x86_64": [(56, _EAGAIN), (57, _EAGAIN), (58, _EAGAIN), (435, _ENOSYS), (59, _EACCES),
               (322, _EACCES),  # clone fork vfork clone3 execve execveat
               (41, _EACCES), (53, _EACCES),  # socket socketpair
               (101, _EPERM), (310, _EPERM), (311, _EPERM), (312, _EPERM),  # ptrace, vm_rw, kcmp
               (425, _ENOSYS), (426, _ENOSYS), (427, _ENOSYS),  # io_uring
               (303, _EPERM), (304, _EPERM),  # name_to_handle_at, open_by_handle_at
               (272, _EPERM), (308, _EPERM), (165, _EPERM), (166, _EPERM),  # unshare setns mount
               (321, _EPERM), (298, _EPERM), (323, _EPERM),  # bpf perf_event_open userfaultfd
               (248, _EPERM), (249, _EPERM), (250, _EPERM),  # add_key request_key keyctl
               (434, _EPERM), (438, _EPERM)],  # pidfd_open pidfd_getfd
    "aarch64": [(220, _EAGAIN), (435, _ENOSYS), (221, _EACCES), (281, _EACCES),
                (198, _EACCES), (199, _EACCES), (117, _EPERM), (270, _EPERM), (271, _EPERM),
                (272, _EPERM), (425, _ENOSYS), (426, _ENOSYS), (427, _ENOSYS), (264, _EPERM),
                (265, _EPERM), (97, _EPERM), (268, _EPERM), (40, _EPERM), (39, _EPERM),
                (280, _EPERM), (241, _EPERM), (282, _EPERM), (217, _EPERM), (218, _EPERM),
                (219, _EPERM), (434, _EPERM), (438, _EPERM)],
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
    socket.create_connection = lambda *a, **k: _NoSocket()


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
    """Call the function on each case's arguments and send back what it returned or raised.

    Nothing here knows the expected values: the parent compares what it decodes from the frames.
    """
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
                  found=_type_name(fn) if fn is not None else None)
        return
    for i, case in enumerate(payload["cases"]):
        chan.send(ev="start", i=i)
        args = copy.deepcopy(case.get("args", []))
        kwargs = copy.deepcopy(case.get("kwargs", {}))
        t0 = time.perf_counter()
        try:
            got = fn(*args, **kwargs)
        except SystemExit as e:
            chan.send(ev="fatal", kind="exit", code=_exit_code(e), where=f"case {i}", i=i)
            return
        except BaseException as e:  # noqa: BLE001
            dt = time.perf_counter() - t0
            text, line, kind = describe(e)
            try:
                names = [str(c.__name__) for c in type(e).__mro__][:32]
            except BaseException:  # noqa: BLE001
                names = [_type_name(e)]
            chan.send(ev="case", i=i, raised=names, error=text, error_kind=kind, line=line,
                      time=dt)
            if kind == "memory":
                # A process that ran out of memory once is in no state to be trusted (and each
                # further case would spend the time limit on filling memory again): stop here.
                chan.send(ev="done", stopped="memory")
                return
            continue
        dt = time.perf_counter() - t0
        try:
            wire = to_wire(got)
        except RecursionError:
            wire = {"$opaque": "nested too deeply", "repr": ""}
        except BaseException as e:  # noqa: BLE001 - e.g. a numpy-like tolist() that raises
            wire = {"$opaque": _type_name(got), "repr": f"(cannot convert: {_type_name(e)})"}
        chan.send(ev="case", i=i, value=wire, time=dt)
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
    own_proc = os.getpid() == 2 and _proc_is_own()  # before Landlock hides /proc
    read_paths = runtime_read_paths() if limits.get("landlock_read", True) else None
    if limits.get("landlock", True):
        active += landlock(os.getcwd(), read_paths)
    if limits.get("drop_uid") is not None and os.geteuid() == 0:
        confined = "landlock-read" in active
        if limits.get("runtime_readable") or confined:
            drop_privileges(int(limits["drop_uid"]), keep_read_search=not
                            limits.get("runtime_readable") and confined)
            active.append("uid")
    if limits.get("nproc"):
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["nproc"]),) * 2)
        except (ValueError, OSError):
            pass
    if limits.get("seccomp", True) and seccomp_no_processes():
        active.append("seccomp")
    if limits.get("netns"):
        active.append("netns")
    if not limits.get("netns") and "landlock-net" not in active:
        block_sockets()
        active.append("socket-patch")
    if os.getpid() == 2:
        active.append("pidns")
    if own_proc:
        active.append("procfs")
    if not [k for k in os.environ if k not in _THREAD_VARS and k != "LC_CTYPE"]:  # PEP 538 sets it
        active.append("env")
    payload["_active"] = active
    run_cases(chan, payload)


_THREAD_VARS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "NUMEXPR_NUM_THREADS": "1"}


def _proc_is_own() -> bool:
    """Is /proc the one of this PID namespace (its PID 1 is our reaper, not the machine's init)?"""
    try:
        with open("/proc/1/cmdline", "rb") as f:
            return os.path.basename(__file__).encode() in f.read()
    except OSError:
        return False


def main(argv: list[str]) -> int:
    chan = Channel(int(argv[1]))
    os.set_inheritable(chan.fd, False)
    raw = sys.stdin.buffer.read(MAX_PAYLOAD + 1)
    if len(raw) > MAX_PAYLOAD:
        chan.send(ev="fatal", kind="runner", error="test payload too large")
        return 2
    payload = decode(json.loads(raw))
    os.environ.update(_THREAD_VARS)  # numpy's thread pools must not try to start threads
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
