"""Small wording helpers shared by every front-end, so "1 step" reads the same everywhere."""
from __future__ import annotations


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """`plural(1, "step")` -> "1 step"; `plural(3, "step")` -> "3 steps"; thousands separated."""
    count = f"{n:,}" if isinstance(n, int) else f"{n:g}"
    return f"{count} {word if n == 1 else (many or word + 's')}"
