"""Exponential backoff with a cap and a give-up deadline, for reconnecting sources and sinks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays 0.5, 1, 2, 4 ... capped at ``cap`` seconds; ``give_up_after`` seconds of
    continuous failure (None: never) ends the retries. ``reset()`` after a success."""

    initial: float = 0.5
    cap: float = 10.0
    factor: float = 2.0
    give_up_after: float | None = 60.0
    attempts: int = 0
    _since: float | None = field(default=None, repr=False)

    def next_delay(self, now: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when it is time to give up."""
        now = time.monotonic() if now is None else now
        if self._since is None:
            self._since = now
        if self.give_up_after is not None and now - self._since >= self.give_up_after:
            return None
        delay = min(self.cap, self.initial * self.factor**self.attempts)
        self.attempts += 1
        if self.give_up_after is not None:
            delay = min(delay, max(0.0, self._since + self.give_up_after - now))
        return delay

    def reset(self) -> None:
        self.attempts, self._since = 0, None

    @property
    def failing_for(self) -> float:
        return 0.0 if self._since is None else time.monotonic() - self._since
