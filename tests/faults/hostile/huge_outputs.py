# class: sandbox: resources
# A huge returned value, huge prints, and a flood of bytes straight to every descriptor.
import os


def solve(n):
    if n % 3 == 0:
        return "x" * (40 * 1024 * 1024)
    if n % 3 == 1:
        print("y" * (8 * 1024 * 1024))
        return None
    block = b"f" * 65536
    for _ in range(2000):
        for fd in (1, 2, 3, 4, 5):
            try:
                os.write(fd, block)
            except OSError:
                pass
    return None
