"""A small bash lexer: enough of the grammar to find every simple command a line would run.

shlex alone is not enough for this job: it does not see `$(...)` inside double quotes (which bash
runs), treats `#` mid-word as a comment, and chokes on heredoc bodies ("don't" in a heredoc is
an unbalanced quote to shlex, but ordinary text to bash). So this lexer tracks quoting itself and
reports, for a command line:

  segments     the simple commands' words, quotes removed, split at ; & && || | ( ) newline;
               redirections and their targets are dropped (`2>/dev/null rm x` -> rm x)
  subs         the text of every command substitution ($(...), `...`, <(...), >(...)),
               to be analysed the same way by the caller
  heredocs     heredoc bodies, keyed by the index of the segment they feed

Anything it cannot tokenize (an unterminated quote or substitution) raises ShellSyntaxError;
bash would refuse such a line too, and callers treat it conservatively.
"""
from __future__ import annotations

from dataclasses import field

from realcost_agent.records import record

_OPERATORS = ("<<<", "<<-", "&>>", ";;&", ">>", "<<", "<&", ">&", "<>", ">|", "&>", "&&", "||",
              ";;", ";&", "|&", ";", "&", "|", "(", ")", "<", ">")


class ShellSyntaxError(ValueError):
    pass


@record
class Lexed:
    segments: list[list[str]] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)
    heredocs: dict[int, list[str]] = field(default_factory=dict)


def lex(text: str) -> Lexed:
    lx = _Lexer(text, 0)
    lx.run()
    return lx.out


class _Lexer:
    def __init__(self, text: str, start: int, *, nested: bool = False) -> None:
        self.s = text
        self.i = start
        self.nested = nested  # inside $( ... ): stop at the unmatched ")"
        self.depth = 0
        self.out = Lexed(segments=[[]])
        self.word: list[str] | None = None
        self.skip_word = False  # the next word is a redirection target
        self.herestring_next = False  # the next word is a here-string (`<<<`): the stdin
        self.heredoc_next: bool | None = None  # next word is a heredoc delimiter (value: <<-)
        self.pending: list[tuple[str, bool, bool, int]] = []  # delim, strip tabs, expand, seg
        self._last_word_quoted = False  # a quoted heredoc delimiter turns expansion off

    # -- words ---------------------------------------------------------------------------------
    def add(self, text: str) -> None:
        if self.word is None:
            self.word = []
        self.word.append(text)

    def end_word(self) -> None:
        if self.word is None:
            return
        word, self.word = "".join(self.word), None
        if self.heredoc_next is not None:
            raw_quoted = self._last_word_quoted
            self.pending.append((word, self.heredoc_next, not raw_quoted, len(self.out.segments) - 1))
            self.heredoc_next = None
        elif self.herestring_next:
            # `cmd <<< 'text'`: the word is the command's stdin, like a heredoc body.
            self.herestring_next = False
            self.out.heredocs.setdefault(len(self.out.segments) - 1, []).append(word)
        elif self.skip_word:
            self.skip_word = False
        else:
            self.out.segments[-1].append(word)

    def separate(self) -> None:
        self.end_word()
        if self.out.segments[-1]:
            self.out.segments.append([])

    # -- main loop -----------------------------------------------------------------------------
    def run(self) -> int:
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if self.word is None:
                self._last_word_quoted = False
            if c in " \t\r":
                self.end_word()
                self.i += 1
            elif c == "\n":
                self.separate()
                self.i += 1
                self._read_heredocs()
            elif c == "#" and self.word is None:
                nl = s.find("\n", self.i)
                self.i = n if nl < 0 else nl
            elif c == "\\":
                self._last_word_quoted = True
                if self.i + 1 < n and s[self.i + 1] != "\n":
                    self.add(s[self.i + 1])
                self.i += 2  # backslash-newline is a line continuation
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated single quote")
                self._last_word_quoted = True
                self.add(s[self.i + 1:end])
                self.i = end + 1
            elif c == '"':
                self._last_word_quoted = True
                self.i += 1
                self._double()
            elif c == "$":
                self._dollar()
            elif c == "`":
                self._backtick()
            elif c in "<>" and s.startswith("(", self.i + 1):
                self.out.subs.append(self._paren(self.i + 1))
                self.add("<(...)")
            elif c in ";&|()<>":
                if self._operator():
                    return self.i
            else:
                self.add(c)
                self.i += 1
        if self.nested:
            raise ShellSyntaxError("unterminated $( ... )")
        self.end_word()
        if not self.out.segments[-1]:
            self.out.segments.pop()
        return self.i

    def _operator(self) -> bool:
        """Consume one operator; True when it closes the enclosing $( ... )."""
        s = self.s
        op = next(o for o in _OPERATORS if s.startswith(o, self.i))
        self.i += len(op)
        if "<" in op or ">" in op:
            if self.word is not None and "".join(self.word).isdigit():
                self.word = None  # `2>` : the digits are a file descriptor, not an argument
            self.end_word()
            if op in ("<<", "<<-"):
                self.heredoc_next = op == "<<-"
            elif op == "<<<":
                self.herestring_next = True
            else:
                self.skip_word = True
            return False
        if op == "(":
            self.depth += 1
        elif op == ")":
            if self.nested and self.depth == 0:
                self.end_word()
                if not self.out.segments[-1]:
                    self.out.segments.pop()
                return True
            self.depth = max(0, self.depth - 1)
        self.separate()
        return False

    # -- quoting and expansions ------------------------------------------------------------------
    def _double(self) -> None:
        s, n = self.s, len(self.s)
        self.add("")  # "" is an (empty) word
        while self.i < n:
            c = s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self.i + 1 < n:
                nxt = s[self.i + 1]
                if nxt in '$`"\\':
                    self.add(nxt)
                elif nxt != "\n":
                    self.add("\\" + nxt)
                self.i += 2
            elif c == "$":
                self._dollar()
            elif c == "`":
                self._backtick()
            else:
                self.add(c)
                self.i += 1
        raise ShellSyntaxError("unterminated double quote")

    def _dollar(self) -> None:
        s, i = self.s, self.i
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if nxt == "(":
            self.out.subs.append(self._paren(i + 1))
            self.add("$(...)")
        elif nxt == "{":
            end = self._brace(i + 1)
            inner = s[i + 2:end]
            if "$(" in inner or "`" in inner:  # ${x:-$(cmd)} runs cmd
                self.out.subs.extend(_expansions(inner))
            self.add(s[i:end + 1])
            self.i = end + 1
        elif nxt == "'":  # $'...' : ANSI-C quoting, where \' does not end the string
            j = i + 2
            buf = []
            while j < len(s) and s[j] != "'":
                if s[j] == "\\" and j + 1 < len(s):
                    j += 1
                buf.append(s[j])
                j += 1
            if j >= len(s):
                raise ShellSyntaxError("unterminated $'...' string")
            self._last_word_quoted = True
            self.add("".join(buf))
            self.i = j + 1
        elif nxt == '"':
            self._last_word_quoted = True
            self.i += 2
            self._double()
        else:
            self.add("$")
            self.i += 1

    def _paren(self, open_at: int) -> str:
        """Text inside the parentheses opening at `open_at`; moves past the closing one."""
        sub = _Lexer(self.s, open_at + 1, nested=True)
        end = sub.run()  # index just past ")"
        self.i = end
        return self.s[open_at + 1:end - 1]

    def _brace(self, open_at: int) -> int:
        s, depth, j = self.s, 0, open_at
        while j < len(s):
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'":
                k = s.find("'", j + 1)
                if k < 0:
                    raise ShellSyntaxError("unterminated quote in ${...}")
                j = k
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        raise ShellSyntaxError("unterminated ${...}")

    def _backtick(self) -> None:
        s, j, buf = self.s, self.i + 1, []
        while j < len(s) and s[j] != "`":
            if s[j] == "\\" and j + 1 < len(s) and s[j + 1] in "`$\\":
                j += 1
            buf.append(s[j])
            j += 1
        if j >= len(s):
            raise ShellSyntaxError("unterminated backquote")
        self.out.subs.append("".join(buf))
        self.add("`...`")
        self.i = j + 1

    def _read_heredocs(self) -> None:
        """Called after a newline: consume the bodies of heredocs opened on that line."""
        s = self.s
        for delim, strip, expand, seg in self.pending:
            lines = []
            while self.i < len(s):
                nl = s.find("\n", self.i)
                end = len(s) if nl < 0 else nl
                line = s[self.i:end]
                self.i = end + 1
                if (line.lstrip("\t") if strip else line) == delim:
                    break
                lines.append(line)
            body = "\n".join(lines)
            self.out.heredocs.setdefault(seg, []).append(body)
            if expand:
                self.out.subs.extend(_expansions(body))
        self.pending = []


def _expansions(text: str) -> list[str]:
    """Command substitutions in text that is expanded but not word-split (heredocs, ${...})."""
    lx = _Lexer(text, 0)
    s, n = text, len(text)
    while lx.i < n:
        c = s[lx.i]
        if c == "\\":
            lx.i += 2
        elif c == "$":
            lx._dollar()
        elif c == "`":
            lx._backtick()
        else:
            lx.i += 1
    return lx.out.subs
