# class: sandbox: forged verdicts
# Exotic exceptions: a __str__ that exits, a BaseException subclass, a KeyboardInterrupt,
# and a returned object whose __repr__ raises SystemExit.
import sys


class Nasty(Exception):
    def __str__(self):
        sys.exit(0)


class Base(BaseException):
    pass


class BadRepr:
    def __repr__(self):
        raise SystemExit("repr")

    def __eq__(self, other):
        return True


def solve(n):
    k = n % 4
    if k == 0:
        raise Nasty()
    if k == 1:
        raise Base("passed")
    if k == 2:
        raise KeyboardInterrupt
    return BadRepr()
