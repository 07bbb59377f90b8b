"""A one-line progress bar with rate and ETA (stderr; plain lines when stderr is not a terminal)."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, stream=None, width: int = 30):
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream or sys.stderr
        self.width = width
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    @property
    def rate_per_min(self) -> float:
        elapsed = time.monotonic() - self.start
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        finished = self.done + self.failed
        frac = finished / self.total if self.total else 1.0
        bar = "#" * int(frac * self.width)
        rate = self.rate_per_min
        left = self.total - finished
        eta = f"{left / rate:.1f} min" if rate > 0 else "?"
        return (f"[{bar:<{self.width}}] {finished}/{self.total} ({self.failed} failed) "
                f"{rate:.1f} images/min, ETA {eta}")

    def update(self, ok: bool = True, note: str = "") -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        text = self.line() + (f"  {note}" if note else "")
        self.stream.write(("\r" + text) if self.tty else text + "\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        self.stream.write(("\n" if self.tty else "") + text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
