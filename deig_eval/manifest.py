"""The run's record: ``manifest.jsonl`` (one line per image made) and ``failed.jsonl`` (rewritten at the
end of each run: what could not be made, with the servers' errors).

A manifest line: ``{"entry_id", "seed", "server", "prompt_id", "time", "seconds", "file", "sha256",
"caption", "layout"}``; ``file`` is relative to the output folder. A rerun skips every (entry id,
seed) the manifest holds; lines are appended and flushed one at a time, so an interrupted run loses
at most the image in flight.
"""
from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "manifest.jsonl"
FAILED = "failed.jsonl"


def job_key(entry_id: str, seed: int) -> tuple[str, int]:
    return (str(entry_id), int(seed))


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if n == len(lines):
                break  # a line cut short by a kill: that image is made again
            raise ValueError(f"{path}: line {n} is not JSON; fix or remove it") from None
    return out


class Manifest:
    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST
        self.records = read_jsonl(self.path)
        self.done = {job_key(r["entry_id"], r["seed"]) for r in self.records}

    def add(self, record: dict) -> None:
        key = job_key(record["entry_id"], record["seed"])
        if key in self.done:
            raise RuntimeError(f"entry {key[0]} seed {key[1]} is already in the manifest")
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
        self.records.append(record)
        self.done.add(key)

    def write_failed(self, failures: list[dict]) -> None:
        path = self.out_dir / FAILED
        if not failures:
            path.unlink(missing_ok=True)
            return
        path.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures), encoding="utf-8")
