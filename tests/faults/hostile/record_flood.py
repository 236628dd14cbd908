# class: sandbox: resources
# Flood the result channel with small well-formed records (each one cheap to write, costly to keep).
import json
import os


def solve(n):
    rec = json.dumps({"ev": "imported"}).encode()
    frame = (b"%08x" % len(rec) + rec) * 4096
    for _ in range(400):
        for fd in range(3, 16):
            try:
                os.write(fd, frame)
            except OSError:
                pass
    return "wrong"
