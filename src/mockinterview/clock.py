"""The clock seam: one notion of time for the flow, the session tape and the LLM client.

``now()`` is monotonic seconds; ``advance(s)`` moves a simulated clock by work that took no real
time (a synthetic answer's duration) and is a no-op on the real one; ``sleep(s)`` waits (the LLM
client's backoff) or, simulated, just moves the clock. With :class:`SimulatedClock` a 30-minute
plan runs in a test in seconds while every budget decision stays real.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """``time.monotonic``; advancing is what time does by itself."""

    def now(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        return None

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class SimulatedClock:
    """A clock that only moves when told: the flow advances it by audio and answer durations."""

    def __init__(self, start: float = 0.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


REAL_CLOCK = RealClock()
