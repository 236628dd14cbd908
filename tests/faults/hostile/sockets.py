# class: sandbox: sockets
# Reach the honeypot servers: a Unix socket on the file system, an abstract one, TCP on loopback,
# through the socket module and through raw system calls.
import ctypes
import socket


def _ask(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(addr)
    s.sendall(b"hello")
    return s.recv(200).decode()


def solve(n):
    errors = []
    for fam, addr in ((socket.AF_UNIX, "{SOCK}"), (socket.AF_UNIX, "\0{ABSTRACT}"),
                      (socket.AF_INET, ("127.0.0.1", int("{PORT}")))):
        try:
            return _ask(fam, addr)
        except Exception as e:
            errors.append(repr(e))
    try:
        import _socket
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.connect("{SOCK}")
        s.send(b"hello")
        return s.recv(200).decode()
    except Exception as e:
        errors.append(repr(e))
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(41, 1, 1, 0)  # socket(AF_UNIX, SOCK_STREAM) without the socket module
    errors.append(("raw socket", fd, ctypes.get_errno()))
    return repr(errors)
