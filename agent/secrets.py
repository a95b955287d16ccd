"""Secret redaction: what reaches the model, the journal, the ledger, reports and the screen.

A `Redactor` knows secret *values* (secret-named environment variables, every value in the
project's .env files, values named in config) and secret *shapes* (API key formats, PEM private
keys, the password of a credential URL). It replaces both with `[REDACTED]`, and also the common
encodings of the known values a command can print them in: base64 (every alignment, standard and
urlsafe, wrapped or not), hex (plain, wrapped like `xxd -p`, or a hexdump with offsets),
reversed, URL-encoded, JSON-escaped and rot13.

All literals and shapes are one compiled regex, each anchored at a rare character
(agent/secret_forms.py says why), so redaction is one fast scan plus one for multi-line blocks.
`StreamRedactor` does the same on a stream cut into arbitrary chunks: it holds back a tail that
could still be the start of a secret and releases it once it cannot, or at the end.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from realcost_agent.tools.childenv import is_secret_name
from realcost_agent.agent.secret_forms import BACK, SHAPES, block_spans, decodings, encodings, literal_pattern, secret_part

REDACTED = "[REDACTED]"
MIN_LEN = 8  # an unnamed value shorter than this is too likely to be an ordinary word
MIN_NAMED_LEN = 4  # values the user names as secret (redact_values / redact_env)

# Where .env files are looked for: a bounded walk that skips dependency and VCS trees.
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
              ".pytest_cache", ".ruff_cache", "site-packages", ".hg", ".svn", ".agent"}
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults")
MAX_DEPTH = 8
MAX_DIR_ENTRIES = 50_000
MAX_ENV_FILES = 200
MAX_ENV_BYTES = 256_000
MAX_ENV_VALUES = 2_000  # each value adds ~12 literals to the regex


def is_dotenv_name(name: str) -> bool:
    if name not in (".env", ".envrc") and not name.startswith((".env.", ".env-", ".env_")):
        return False
    return not name.lower().endswith(_TEMPLATE_SUFFIXES)


def dotenv_files(root: Path) -> list[Path]:
    """The project's .env files anywhere below root (.env, .env.local, sub/dir/.env.production,
    .envrc), templates excluded; bounded in depth, entries seen and files returned."""
    found: list[Path] = []
    seen = 0
    root_depth = str(root).rstrip(os.sep).count(os.sep)
    for dirpath, dirnames, filenames in os.walk(root):
        seen += len(dirnames) + len(filenames)
        depth = dirpath.rstrip(os.sep).count(os.sep) - root_depth
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and depth < MAX_DEPTH)
        for name in sorted(filenames):
            if is_dotenv_name(name):
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path)
        if seen > MAX_DIR_ENTRIES or len(found) >= MAX_ENV_FILES:
            break
    return found[:MAX_ENV_FILES]


def parse_dotenv(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs: `KEY=value`, `export KEY="value"`, inline `# comments`, and quoted
    values that span lines (a PEM key in .env)."""
    pairs: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip().removeprefix("export ").strip()
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote_char = value[0]
            body = value[1:]
            while quote_char not in body and i < len(lines):  # a value spanning lines
                body += "\n" + lines[i]
                i += 1
            value = body.split(quote_char, 1)[0]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        pairs.append((name, value))
    return pairs


# Settings every .env has that are no secret; redacting them would blank ordinary code
# (`if env == "production"`) and break the model's edits.
_PLAIN_VALUES = frozenset({
    "development", "production", "staging", "localhost", "postgres", "postgresql", "database",
    "default", "console", "warning", "disabled", "enabled", "127.0.0.1", "0.0.0.0",
})


def dotenv_values(root: Path) -> list[str]:
    """Every value assigned in the project's .env files, anywhere in the tree (but the plain
    settings of _PLAIN_VALUES and numbers)."""
    values = []
    for path in dotenv_files(root):
        try:
            with open(path, "rb") as fh:
                text = fh.read(MAX_ENV_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        for _name, value in parse_dotenv(text):
            if value.lower() in _PLAIN_VALUES or re.fullmatch(r"[\d.:]+", value):
                continue
            values.append(value)
            # A multi-line value: each line is secret on its own too (a printed PEM line).
            values.extend(part.strip() for part in value.splitlines()[1:])
    return values[:MAX_ENV_VALUES]


def env_secret_values(env: Mapping[str, str], redact_env: Iterable[str] = ()) -> list[str]:
    """Values of secret-named variables (>= MIN_LEN) and of variables named in `redact_env`
    (>= MIN_NAMED_LEN, whatever their name)."""
    named = set(redact_env)
    out = [v for k, v in env.items() if is_secret_name(k) and len(v) >= MIN_LEN]
    out += [env[k] for k in named if k in env and len(env[k]) >= MIN_NAMED_LEN]
    return out


class Redactor:
    """Replaces secrets in any text with `[REDACTED]`; `obj()` does it inside JSON-like data and
    event dataclasses. Built once per session; `rebuild()` takes changed .env values."""

    MIN_LEN = MIN_LEN

    def __init__(
        self,
        env: Mapping[str, str],
        extra_values: Iterable[str] = (),
        *,
        named_values: Iterable[str] = (),
        redact_env: Iterable[str] = (),
    ) -> None:
        self._args = (dict(env), tuple(named_values), tuple(redact_env))
        self.extra_values = tuple(extra_values)
        values = set(env_secret_values(env, redact_env))
        values |= {v for v in self.extra_values if len(v) >= MIN_LEN}
        values |= {v for v in named_values if len(v) >= MIN_NAMED_LEN}
        # A key or a credential URL inside any variable or .env value: its bare secret is known,
        # so its encodings are caught too.
        for value in [*env.values(), *values]:
            for kind, _, src in SHAPES:
                for m in re.finditer(src, value):
                    start, end = secret_part(kind, max(0, m.start() - BACK[kind]), m.end(), m.group())
                    if end - start >= MIN_NAMED_LEN:
                        values.add(value[start:end])
        values = {v for v in values if v.strip() and v not in REDACTED}
        self.values = frozenset(values)
        literals: set[str] = set()
        for v in values:
            # A long value (a key file) is found raw; its encodings would only bloat the regex.
            forms = encodings(v) if len(v) <= 1024 else {v}
            literals |= {e for e in forms if len(e) >= MIN_NAMED_LEN}
        self.literal_count = len(literals)
        lit_src, self._tails = literal_pattern(literals)
        # One scan per shape (each starts with its own literal, which the engine finds fast; one
        # alternation of all of them is several times slower) and one for all known values.
        self._passes = [(name, re.compile(src)) for name, _, src in SHAPES]
        if lit_src:
            self._passes.append(("lit", re.compile(lit_src)))
        raw = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
        self._raw = re.compile(raw) if raw else None  # for decoded blocks
        # The longest text that could still be the start of a secret: held back by streams.
        self.window = max([256, *(len(x) + 16 for x in literals)])
        self._memo: dict[str, str] = {}

    def rebuild(self, extra_values: Iterable[str]) -> None:
        """Take a new set of file-borne values (a .env changed), in place: the journal and every
        stream keep using this object."""
        env, named, redact_env = self._args
        self.__init__(env, extra_values, named_values=named, redact_env=redact_env)  # type: ignore[misc]

    def add_named(self, values: Iterable[str]) -> None:
        """More literal secrets, redacted in every form (e.g. tokens set in an MCP server's env)."""
        env, named, redact_env = self._args
        new = tuple(v for v in values if v not in named)
        if new:
            self.__init__(env, self.extra_values, named_values=named + new,  # type: ignore[misc]
                          redact_env=redact_env)

    def scan(self, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(spans to redact, sorted and merged; spans a stream must not cut: every match whole
        and every encoded-looking block, secret or not)."""
        found, whole = [], []
        for kind, pattern in self._passes:
            for m in pattern.finditer(text):
                start, end = m.span()
                if kind == "lit":
                    pres = self._tails.get(m.group(), ())
                    back = next((len(p) for p in pres if text.startswith(p, start - len(p))), 0)
                    found.append((start - back, end))
                    whole.append((start - back, end))
                else:
                    start = max(0, start - BACK[kind])
                    found.append(secret_part(kind, start, end, m.group()))
                    whole.append((start, end))
        for start, end in block_spans(text):
            whole.append((start, end))
            if self._raw is not None and any(self._raw.search(d) for d in decodings(text[start:end])):
                found.append((start, end))
        found.sort()
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start < merged[-1][1]:  # touching spans stay apart: a stream cuts between
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged, whole

    def spans(self, text: str) -> list[tuple[int, int]]:
        return self.scan(text)[0]

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if len(text) > _MEMO_MAX_CHARS:
            return _apply(text, self.scan(text)[0])
        # The same short strings come by again and again (keys, ids, tool names, a message on
        # its way to the journal after the screen): remembered per redactor, which a rebuild
        # replaces, so a new secret is never missed.
        done = self._memo.get(text)
        if done is None:
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()
            done = self._memo[text] = _apply(text, self.scan(text)[0])
        return done

    def obj(self, value: Any) -> Any:
        """`value` with every string inside it redacted (dicts, lists, tuples, dataclasses)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self.obj(k) if isinstance(k, str) else k: self.obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.obj(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for f in dataclasses.fields(value):
                if f.init:
                    old = getattr(value, f.name)
                    new = self.obj(old)
                    if new is not old and new != old:
                        changes[f.name] = new
            return dataclasses.replace(value, **changes) if changes else value
        return value

    def safe_cut(self, text: str, cut: int, whole: list[tuple[int, int]] | None = None) -> int:
        """The largest index <= cut where `text` can be split without splitting a secret, an
        encoded block, or a shape that later text could still extend."""
        if whole is None:
            whole = self.scan(text)[1]
        moved = True
        while moved:
            moved = False
            for start, end in whole:
                if start < cut and (cut < end or end == len(text)):
                    cut, moved = start, True
        return cut


_MEMO_MAX_CHARS = 4096
_MEMO_ENTRIES = 4096


def _apply(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for start, end in spans:
        out += [text[pos:start], REDACTED]
        pos = end
    out.append(text[pos:])
    return "".join(out)


class StreamRedactor:
    """Redacts a stream fed in arbitrary chunks: `feed()` returns what is safe to show now,
    `flush()` the rest at the end. A secret split across chunks is redacted whole."""

    CAP = 256_000  # held text never exceeds this (a never-ending block is released in pieces)

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._buf = ""

    def feed(self, chunk: str) -> str:
        self._buf += chunk
        hold = self.redactor.window
        if len(self._buf) <= hold:
            return ""
        spans, whole = self.redactor.scan(self._buf)
        cut = self.redactor.safe_cut(self._buf, len(self._buf) - hold, whole)
        if cut <= 0:
            if len(self._buf) < self.CAP:
                return ""
            cut = len(self._buf) - hold
            spans = self.redactor.scan(self._buf[:cut])[0]
        out, self._buf = self._buf[:cut], self._buf[cut:]
        # Spans found with the held text as context; none crosses the cut.
        return _apply(out, [(a, b) for a, b in spans if b <= cut])

    def flush(self) -> str:
        out, self._buf = self._buf, ""
        return self.redactor(out) if out else ""
