"""Redaction throughput: 10 MB of tool-like output with 50 known secrets (and their encodings)
planted in it, redacted whole and streamed in 4 KB chunks.

    .venv/bin/python bench/redact_bench.py [--mb 10] [--secrets 50]
"""
from __future__ import annotations

import argparse
import base64
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realcost_agent.agent.secrets import REDACTED, Redactor, StreamRedactor


def corpus(mb: float, secrets: list[str], seed: int = 7) -> str:
    rng = random.Random(seed)
    words = ["def", "return", "self", "import", "value", "config", "for", "in", "None", "path",
             "test_parser.py::test_ok", "PASSED", "error:", "0x7f3a", "src/app/main.py:42",
             "Traceback", "assert", "==", "{", "}", "(", ")", "127.0.0.1", "GET /api/v1/users"]
    lines = []
    size = 0
    target = int(mb * 1_000_000)
    while size < target:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        r = rng.random()
        if r < 0.002:
            s = rng.choice(secrets)
            forms = [s, s[::-1], s.encode().hex(), base64.b64encode(b"x=" + s.encode()).decode()]
            line += " " + rng.choice(forms)
        elif r < 0.004:
            line += " " + base64.b64encode(rng.randbytes(60)).decode()
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--secrets", type=int, default=50)
    args = ap.parse_args()
    rng = random.Random(1)
    alphabet = string.ascii_letters + string.digits
    secrets = ["".join(rng.choice(alphabet) for _ in range(rng.randint(12, 48)))
               for _ in range(args.secrets)]
    env = {f"SERVICE_{i}_TOKEN": s for i, s in enumerate(secrets)}
    t0 = time.perf_counter()
    redactor = Redactor(env)
    build_ms = (time.perf_counter() - t0) * 1000
    text = corpus(args.mb, secrets)
    mb = len(text.encode()) / 1_000_000

    t0 = time.perf_counter()
    out = redactor(text)
    whole = time.perf_counter() - t0

    t0 = time.perf_counter()
    stream = StreamRedactor(redactor)
    parts = [stream.feed(text[i:i + 4096]) for i in range(0, len(text), 4096)]
    parts.append(stream.flush())
    streamed = time.perf_counter() - t0
    leaked = sum(s in out for s in secrets) + sum(s in "".join(parts) for s in secrets)

    print(f"secrets: {len(secrets)} ({redactor.literal_count} literal forms with their encodings, "
          f"plus {len(redactor._passes) - 1} key/URL shapes), build {build_ms:.1f} ms")
    print(f"input: {mb:.1f} MB, {out.count(REDACTED)} redactions, leaked: {leaked}")
    print(f"whole text: {whole:.2f} s = {mb / whole:.1f} MB/s")
    print(f"streamed in 4 KB chunks: {streamed:.2f} s = {mb / streamed:.1f} MB/s")


if __name__ == "__main__":
    main()
