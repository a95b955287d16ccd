"""Benchmark instrumentation, off unless AGENT_TUI_STALL_LOG names a file (bench/tui_bench.py)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class StallMeter:
    """Benchmark instrumentation (AGENT_TUI_STALL_LOG=path): a 20 ms ticker records gaps between
    ticks (event-loop stalls), and when the answer text was received and last shown."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.last: float | None = None
        self.gaps: list[tuple[float, float]] = []  # (wall time, gap seconds) for gaps over 40 ms
        self.max_gap = 0.0
        self.first_delta: float | None = None
        self.last_delta: float | None = None
        self.last_shown: float | None = None
        self.chars = 0
        self._unshown = False

    @classmethod
    def from_env(cls) -> StallMeter | None:
        path = os.environ.get("AGENT_TUI_STALL_LOG")
        return cls(path) if path else None

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            gap = now - self.last
            self.max_gap = max(self.max_gap, gap)
            if gap > 0.04:
                self.gaps.append((time.time(), gap))
        self.last = now

    def on_event(self, event: Any, app: Any) -> None:
        if type(event).__name__ == "AssistantDelta":
            now = time.time()
            self.first_delta = self.first_delta or now
            self.last_delta = now
            self.chars += len(event.text)
            self._unshown = True

    def after_flush(self, app: Any) -> None:
        if self._unshown:
            self._unshown = False
            app.call_after_refresh(self._shown)

    def _shown(self) -> None:
        self.last_shown = time.time()

    def write(self) -> None:
        start, end = self.first_delta or 0.0, (self.last_shown or 0.0) + 0.5
        streaming = [gap for at, gap in self.gaps if start <= at <= end]
        data = {
            "max_stall_ms": round(self.max_gap * 1000, 1),
            "max_stall_streaming_ms": round(max(streaming, default=0.0) * 1000, 1),
            "stalls_over_250ms": sum(gap > 0.25 for _, gap in self.gaps),
            "first_delta": self.first_delta, "last_delta": self.last_delta,
            "last_shown": self.last_shown, "chars": self.chars,
        }
        Path(self.path).write_text(json.dumps(data), encoding="utf-8")
