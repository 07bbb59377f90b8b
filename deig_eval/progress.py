"""The run's progress bar (tqdm, on stderr): images made and failed, rate and ETA; messages print above it."""
from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, total: int, stream=None):
        self.done = 0
        self.failed = 0
        self.bar = tqdm(total=total, file=stream or sys.stderr, unit="image", desc="making", dynamic_ncols=True,
                        postfix={"failed": 0})

    def update(self, ok: bool = True, note: str = "") -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
            self.bar.set_postfix(failed=self.failed, refresh=False)
        if note:
            self.say(note)
        self.bar.update(1)

    def say(self, text: str) -> None:
        # above this bar only: tqdm.write would walk every live tqdm of the process (a class-wide weak set
        # that another thread's or the collector's changes break: "Set changed size during iteration")
        self.bar.clear()
        self.bar.fp.write(text + "\n")
        self.bar.fp.flush()
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
