"""The shapes secrets take in text, for agent.secrets: key formats, credential URLs, the encodings
of a known value, and the multi-line blocks (wrapped base64, `xxd -p`, hexdumps) that hide one.

Speed comes from anchoring: Python's regex engine scans fast for a pattern whose first character
is one of a few, and slowly for an alternation of hundreds of literals. So every literal and every
shape is written to start at its *rarest* character, with a fixed-width lookbehind for the part
before it; the caller moves the match start back by that part's length (`SHAPES[...]` back).
"""
from __future__ import annotations

import base64
import codecs
import json
import re
from typing import Iterable
from urllib.parse import quote, quote_plus

# Characters from most to least common in code, logs and prose: a literal is anchored at the one
# it has that comes last here (characters not listed count as rarest).
_COMMON = (" \n\t.,_-=:/\"'()etaoinsrlhdcumpfgbywv0123456789>#ETAOINSRLHDCUMPFGBYWVkxjqz"
           "KXJQZ;{}[]@*&%+!?<|\\$~^`")
_RANK = {c: i for i, c in enumerate(_COMMON)}

_AWS_VALUE = r"[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
# (name, chars of the match before its anchor, pattern starting at the anchor: a literal where
# possible, which the engine finds fastest). Key formats:
# a provider's prefix plus enough key characters to be unambiguous, not glued to a word before.
SHAPES: tuple[tuple[str, int, str], ...] = (
    ("pem", 0, r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
               r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"),
    # OpenAI sk-/sk-proj-/sk-svcacct-, OpenRouter sk-or-v1-, Anthropic sk-ant-
    ("openai", 0, r"sk-(?<![A-Za-z0-9]sk-)[A-Za-z0-9_-]{20,}"),
    ("stripe", 1, r"k_(?<![A-Za-z0-9][rs]k_)(?<=[rs]k_)(?:live|test)_[A-Za-z0-9]{10,}"),
    ("groq", 0, r"gsk_(?<![A-Za-z0-9]gsk_)[A-Za-z0-9]{20,}"),
    ("hf", 0, r"hf_(?<![A-Za-z0-9]hf_)[A-Za-z0-9]{30,}"),
    ("aws_id", 2, r"IA(?<![A-Z0-9]A[KSB]IA)(?<=A[KSB]IA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("github", 0, r"gh[pousr]_(?<![A-Za-z0-9]gh[pousr]_)[A-Za-z0-9]{30,}"),
    ("github_pat", 0, r"github_pat_[A-Za-z0-9_]{22,}"),
    ("slack", 0, r"xox(?<![A-Za-z0-9]xox)[abposre]-[A-Za-z0-9-]{10,}"),
    ("google", 0, r"AIza[0-9A-Za-z_-]{35}"),
    ("jwt", 0, r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # scheme://user:password@host, any scheme (postgres, mongodb+srv, redis, amqp, https...):
    # only the password is secret.
    ("url", 0, r"://[^\s:/?#@\"'<>]{0,256}:[^\s/?#@\"'<>]{1,512}@"),
    ("aws_secret", 5, r"ecret_access_key(?<=[Aa][Ww][Ss]_[Ss]ecret_access_key)" + _AWS_VALUE),
    ("aws_secret_uc", 5, r"ECRET_ACCESS_KEY(?<=[Aa][Ww][Ss]_SECRET_ACCESS_KEY)" + _AWS_VALUE),
    ("aws_secret_camel", 4, r"ecretAccessKey(?<=[Aa]wsSecretAccessKey)" + _AWS_VALUE),
    # ~/.netrc, ~/.docker/config.json, ~/.npmrc: the value after the keyword.
    ("netrc", 0, r"machine\s+\S+\s+login\s+\S+\s+password\s+\S{4,}"),
    ("docker_auth", 0, r"\"auth\"\s*:\s*\"[A-Za-z0-9+/=]{8,}(?=\")"),
    ("npm_token", 0, r"_authToken\s*=\s*[^\s\"']{8,}"),
    ("auth", 1, r"uthorization(?<=[Aa]uthorization)[\"']?\s*[=:]\s*[\"']?(?:[Bb]earer|[Bb]asic|[Tt]oken)\s+"
                r"[A-Za-z0-9._~+/=-]{8,}"),
)
BACK = {name: back for name, back, _ in SHAPES}


def secret_part(kind: str, start: int, end: int, matched: str) -> tuple[int, int]:
    """The span to redact of a shape match (start already moved back to the shape's start)."""
    if kind == "url":  # keep "://user:" and "@"
        return start + matched.index(":", 3) + 1, end - 1
    if kind.startswith("aws_secret"):
        return end - 40, end
    if kind in ("auth", "netrc"):  # the last word
        return end - len(matched.split()[-1]), end
    if kind in ("docker_auth", "npm_token"):  # after the last '"' or '='
        return start + max(matched.rfind('"'), matched.rfind("=")) + 1, end
    return start, end


def anchor_index(literal: str) -> int:
    """Index of the rarest character of `literal` (first of equals)."""
    rarest, index = -1, 0
    for i, ch in enumerate(literal):
        rank = _RANK.get(ch, len(_COMMON))
        if rank > rarest:
            rarest, index = rank, i
    return index


def literal_pattern(literals: Iterable[str]) -> tuple[str, dict[str, list[str]]]:
    """One pattern for all literals, each anchored at its rarest character (the engine skips
    every position whose character is no anchor), and the map from a match (anchor onwards) to
    the prefixes it may have had before the anchor, longest first."""
    tails: dict[str, list[str]] = {}
    by_anchor: dict[str, list[tuple[str, str]]] = {}
    for lit in literals:
        i = anchor_index(lit)
        pre, tail = lit[:i], lit[i:]
        tails.setdefault(tail, []).append(pre)
        by_anchor.setdefault(lit[i], []).append((pre, tail))
    parts = []
    for ch, items in sorted(by_anchor.items()):
        items.sort(key=lambda pt: (-len(pt[0]) - len(pt[1]), pt))  # longest literal wins
        alts = "|".join((f"(?<={re.escape(pre + ch)})" if pre else "") + re.escape(tail[1:])
                        for pre, tail in items)
        parts.append(f"{re.escape(ch)}(?:{alts})")
    for pres in tails.values():
        pres.sort(key=len, reverse=True)
    return "|".join(parts), tails


def encodings(secret: str) -> set[str]:
    """The forms a command can print `secret` in, each a literal to look for: raw, reversed,
    URL-encoded, JSON-escaped, rot13, hex (both cases) and base64 (standard and urlsafe, at each
    of the 3 byte alignments; only whole groups, so padding and neighbours do not matter)."""
    raw = secret.encode("utf-8", "surrogatepass")
    out = {secret, secret[::-1], quote(secret, safe=""), quote_plus(secret, safe=""),
           json.dumps(secret)[1:-1], codecs.encode(secret, "rot13"), raw.hex(), raw.hex().upper()}
    for skip in range(3):
        part = raw[skip:]
        part = part[: len(part) // 3 * 3]
        if len(part) >= 6:
            enc = base64.b64encode(part).decode("ascii")
            out.add(enc)
            out.add(enc.translate(str.maketrans("+/", "-_")))
    return {v for v in out if v}


# -- multi-line blocks ------------------------------------------------------------------------
# A line that is one base64/hex token, a hexdump row ("00000010: 4f50 454e ..."), or hex bytes
# with separators ("53 54 52", "0x53, 0x54", "\\x53\\x54", "%53%54"); anchored at the newline
# before it, which the scan finds fast. Runs of 2+ such lines are decoded whole, and so is a
# single line of separated hex bytes (no literal can match those).
_SEP_HEX = r"[ \t]*(?:(?:0x|\\x|%)?[0-9a-fA-F]{2}[ \t,:]*){8,}\r?"
_BLOCK_LINE = re.compile(
    r"\n(?:[ \t]*[0-9a-fA-F]{4,16}:?[ \t]+[0-9a-fA-F]{2}[^\n]*|[A-Za-z0-9+/_-]{8,}={0,2}[ \t\r]*"
    r"|" + _SEP_HEX + r")(?=\n|\Z)"
)
_SEP_HEX_LINE = re.compile(_SEP_HEX)


def block_spans(text: str) -> list[tuple[int, int]]:
    """Spans of runs of 2+ consecutive encoded-looking lines (wrapped base64, `xxd -p`, dumps)."""
    spans: list[tuple[int, int]] = []
    run_start, run_end = -1, -2  # no run yet
    lines = 0

    def close() -> None:
        if lines >= 2 or (lines == 1 and _SEP_HEX_LINE.fullmatch(text, run_start, run_end)):
            spans.append((run_start, run_end))

    for m in _BLOCK_LINE.finditer("\n" + text):
        start, end = m.start(), m.end() - 1  # in text (the leading "\n" shifted by one)
        if start == run_end + 1:  # the line right after the previous one
            run_end, lines = end, lines + 1
            continue
        close()
        run_start, run_end, lines = start, end, 1
    close()
    return spans


def decodings(block: str) -> list[str]:
    """What a block may encode: a hexdump's bytes, hex at both nibble offsets, base64 at each of
    the 4 character offsets (standard or urlsafe)."""
    out = []
    lines = block.splitlines()
    if re.match(r"\s*[0-9a-fA-F]{4,16}:?[ \t]+[0-9a-fA-F]{2}", lines[0]):
        out.append(_hexdump_bytes(lines).decode("utf-8", "replace"))
    compact = re.sub(r"\s+", "", block)
    separated = re.sub(r"0x|\\x|%|[\s,:]", "", block)
    if separated != compact and re.fullmatch(r"[0-9a-fA-F]+", separated):
        out.append(bytes.fromhex(separated[: len(separated) // 2 * 2]).decode("utf-8", "replace"))
    if re.fullmatch(r"[0-9a-fA-F]+", compact):
        for off in (0, 1):
            part = compact[off:]
            out.append(bytes.fromhex(part[: len(part) // 2 * 2]).decode("utf-8", "replace"))
    std = compact.rstrip("=").translate(str.maketrans("-_", "+/"))
    if re.fullmatch(r"[A-Za-z0-9+/]*", std):
        for off in range(4):
            part = std[off:]
            part = part[: len(part) // 4 * 4]
            try:
                out.append(base64.b64decode(part, validate=True).decode("utf-8", "replace"))
            except ValueError:
                continue
    return out


def _hexdump_bytes(lines: list[str]) -> bytes:
    """The bytes of an `xxd` / `hexdump -C` dump: each row's width is the step to the next
    row's offset, so the ASCII column is never read as hex."""
    rows = []
    for line in lines:
        m = re.match(r"\s*([0-9a-fA-F]{4,16}):?\s+(.*)", line)
        if not m:
            break
        rows.append((int(m.group(1), 16), m.group(2)))
    out = bytearray()
    width = 16
    for i, (offset, rest) in enumerate(rows):
        if i + 1 < len(rows) and rows[i + 1][0] > offset:
            width = min(rows[i + 1][0] - offset, 256)
        got = bytearray()
        for token in rest.split():
            token = token.strip("|")
            if len(token) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", token) or len(got) >= width:
                break
            got += bytes.fromhex(token)
        out += got[:width]
    return bytes(out)
