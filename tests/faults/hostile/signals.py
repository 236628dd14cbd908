# class: sandbox: processes and signals
# Signal the interview (and the sandbox's own reaper), start processes to read what we may not.
import os
import signal
import subprocess


def solve(n):
    out = []
    for pid in (int("{PARENT_PID}"), int("{DECOY_PID}"), os.getppid(), 1):
        try:
            os.kill(pid, signal.SIGUSR1)
            out.append(("signalled", pid))
        except OSError as e:
            out.append((pid, e.errno))
    try:
        out.append(subprocess.run(["cat", "{BANK}"], capture_output=True, text=True).stdout)
    except Exception as e:
        out.append(repr(e))
    try:
        out.append(os.popen("cat {BANK}").read())
    except Exception as e:
        out.append(repr(e))
    try:
        if os.fork() == 0:
            os._exit(0)
    except OSError as e:
        out.append(("fork", e.errno))
    return repr(out)
