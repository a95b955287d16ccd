"""Prompt history, persisted per project under the agent's data directory (never in the repo)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

MAX_ENTRIES = 1000


def history_path(root: Path, env: Mapping[str, str] | None = None) -> Path:
    import hashlib

    from realcost_agent.tools.paths import data_dir

    digest = hashlib.sha256(str(Path(os.path.realpath(root))).encode()).hexdigest()[:16]
    return data_dir(env) / "history" / f"{digest}.jsonl"


class History:
    """Entries oldest first; `previous`/`following` walk them like a shell, keeping the draft."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[str] = []
        self._index: int | None = None  # None: editing the draft, past the newest entry
        self._draft = ""

    def load(self) -> "History":
        import json

        if self.path is None:
            return self
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return self
        for line in lines[-MAX_ENTRIES:]:
            try:
                text = json.loads(line).get("text")
            except (ValueError, AttributeError):
                continue  # a damaged line costs one entry, not the history
            if isinstance(text, str) and text:
                self.entries.append(text)
        return self

    def add(self, text: str) -> None:
        self._index = None
        if not text.strip() or (self.entries and self.entries[-1] == text):
            return
        self.entries.append(text)
        if self.path is None:
            return
        import json

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
            if len(self.entries) > MAX_ENTRIES * 2:
                self._compact()
        except OSError:
            pass  # history is a convenience: never fail a prompt over it

    def _compact(self) -> None:
        import json

        assert self.path is not None
        self.entries = self.entries[-MAX_ENTRIES:]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in self.entries),
                       encoding="utf-8")
        tmp.replace(self.path)

    def previous(self, current: str) -> str | None:
        if not self.entries:
            return None
        if self._index is None:
            self._draft = current
            self._index = len(self.entries)
        if self._index == 0:
            return None
        self._index -= 1
        return self.entries[self._index]

    def following(self) -> str | None:
        if self._index is None:
            return None
        self._index += 1
        if self._index >= len(self.entries):
            self._index = None
            return self._draft
        return self.entries[self._index]

    def reset(self) -> None:
        self._index = None
