"""run_command: a bash command in its own process group, streamed, capped, and killable."""
from __future__ import annotations

import asyncio
import codecs
import inspect
import os
import re
import signal
import tempfile
from contextlib import suppress
from pathlib import Path

from pydantic import Field

from realcost_agent.tools.base import Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.paths import PathError, display, resolve_in_root

KILL_GRACE = 2.0
# After the shell exits, how long background children may keep the output pipe open.
DRAIN_GRACE = 1.0
# The saved full output is itself capped: `yes` for two minutes must not fill the disk.
MAX_SAVED_BYTES = 64 * 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class RunCommandParams(ToolParams):
    command: str
    timeout: float | None = Field(None, gt=0, description="seconds")
    cwd: str | None = Field(None, description="subdirectory to run in")


class RunCommand(Tool):
    name = "run_command"
    description = (
        "Run a bash command in the project root (stdin is closed; no interactive programs). "
        "Returns combined stdout/stderr and the exit code; long output keeps its head and "
        "tail. Background processes still holding the output when it ends are killed."
    )
    Params = RunCommandParams
    mutating = True

    async def run(self, params: RunCommandParams, ctx: ToolContext) -> ToolResult:
        root = Path(os.path.realpath(ctx.root))
        cwd = root
        if params.cwd:
            try:
                cwd = resolve_in_root(root, params.cwd)
            except PathError as e:
                return ToolResult(str(e), is_error=True)
            if not cwd.is_dir():
                return ToolResult(f"cwd {params.cwd!r} is not a directory", is_error=True)
        if ctx.cancel is not None and ctx.cancel.is_set():
            return ToolResult("[interrupted by the user before the command started]",
                              metadata={"interrupted": True, "exit_code": None})
        timeout = min(params.timeout or ctx.command_timeout, ctx.command_timeout)
        capture = _Capture(ctx.max_output_chars, ctx.outputs)
        argv = ["/bin/bash", "-c", params.command]
        if ctx.wrap_argv is not None:
            argv = ctx.wrap_argv(argv, cwd)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, env=ctx.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            return ToolResult(f"could not start the command: {e}", is_error=True)
        pgid = proc.pid  # start_new_session makes the shell its own group leader
        if ctx.process_groups is not None:
            ctx.process_groups.add(pgid)
        on_output = ctx.on_output
        callback_error: list[str] = []

        async def pump() -> None:
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(65536):
                text = capture.feed(chunk)
                if on_output is not None and text and not callback_error:
                    try:
                        r = on_output(text)
                        if inspect.isawaitable(r):
                            await r
                    except Exception as e:  # a broken viewer must not break the command
                        callback_error.append(repr(e))
            capture.finish()

        pump_task = asyncio.create_task(pump())
        wait_task = asyncio.create_task(exited(proc))
        waiters: set[asyncio.Future] = {wait_task}
        cancel_task = None
        if ctx.cancel is not None:
            cancel_task = asyncio.create_task(ctx.cancel.wait())
            waiters.add(cancel_task)
        status = "exit"
        leftovers = False
        try:
            done, _ = await asyncio.wait(waiters, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if wait_task in done:
                try:
                    await asyncio.wait_for(asyncio.shield(pump_task), DRAIN_GRACE)
                except TimeoutError:
                    leftovers = True
                    await kill_group(pgid)
            else:
                status = "interrupted" if cancel_task in done else "timeout"
                await kill_group(pgid)
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(wait_task), KILL_GRACE)
            # Every writer is dead now unless one escaped with setsid; don't wait on it forever.
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(pump_task), KILL_GRACE)
        finally:
            for t in (pump_task, wait_task, cancel_task):
                if t is not None and not t.done():
                    t.cancel()
            if proc.returncode is None:  # the caller itself was cancelled mid-command
                await kill_group(pgid)
            if not pump_task.done() or proc.returncode is None:
                # A writer escaped the group (setsid) and holds the pipe: stop listening.
                transport = getattr(proc, "_transport", None)
                if transport is not None:
                    transport.close()
            capture.close()
            # Keep tracking the group only while something in it lives (a background job), so
            # the session kills it at exit and never signals a reused pid.
            if ctx.process_groups is not None and not _group_alive(pgid):
                ctx.process_groups.discard(pgid)

        body, meta = capture.render(root)
        code = proc.returncode
        meta["exit_code"] = code
        if status == "timeout":
            tail = f"[timed out after {timeout:g}s; command and its children were killed]"
        elif status == "interrupted":
            tail = "[interrupted by the user; command and its children were killed]"
            meta["interrupted"] = True
        elif code is not None and code < 0:
            tail = f"[killed by signal {_signame(-code)}]"
        else:
            tail = f"[exit code {code}]"
        if leftovers:
            tail += " [background processes still writing output were killed]"
        if ctx.wrap_argv is not None and "Read-only file system" in body and ".git" in body:
            tail += (" [.git/ is read-only in the sandbox: run a git command that writes it "
                     "(commit, checkout, stash...) on its own, plainly (`git add -A && git commit "
                     "-m msg`); it is then asked and run outside the sandbox]")
        if callback_error:
            meta["on_output_error"] = callback_error[0]
        text = f"{body}\n{tail}" if body else f"(no output)\n{tail}"
        return ToolResult(text, is_error=status == "timeout", metadata=meta)


async def exited(proc: asyncio.subprocess.Process) -> int:
    """A process's exit (the shell's, a hook's, a check's), known as soon as it is reaped. Process.wait() is no good here: it
    only returns once every pipe is closed, i.e. never while a background child holds stdout."""
    delay = 0.005
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    return proc.returncode


def _signame(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return str(num)


def _group_alive(pgid: int) -> bool:
    """True while any non-zombie process is in the group. killpg(pgid, 0) is not enough: when
    PID 1 does not reap orphans, killed children linger as zombies that still 'exist'."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()  # the name may contain spaces and ')'
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


async def kill_group(pgid: int) -> None:
    """SIGTERM the whole group (shell, its children, their background jobs), then SIGKILL
    whatever is still alive after a short grace period."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_GRACE
    while loop.time() < deadline:
        if not _group_alive(pgid):
            return
        await asyncio.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    # SIGKILL lands asynchronously; return only once the group is really gone.
    deadline = loop.time() + 1.0
    while _group_alive(pgid) and loop.time() < deadline:
        await asyncio.sleep(0.01)


class _Capture:
    """Bounded memory: the first `cap` chars, a rolling tail, and (once the output outgrows
    the cap) the raw bytes streamed to a file so nothing is lost."""

    def __init__(self, cap: int, outputs_dir):
        self.cap = max(200, cap)
        self.outputs_dir = outputs_dir  # called lazily: most commands never need the file
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.head: list[str] = []
        self.head_len = 0
        self.tail = ""
        self.total_chars = 0
        self.newlines = 0
        self.last_char = ""
        self.raw: bytearray | None = bytearray()
        self.file = None
        self.file_path: Path | None = None
        self.saved = 0

    def feed(self, chunk: bytes) -> str:
        text = self.decoder.decode(chunk)
        self._save(chunk)
        self._add(text)
        return text

    def finish(self) -> None:
        self._add(self.decoder.decode(b"", final=True))

    def _add(self, text: str) -> None:
        if not text:
            return
        self.total_chars += len(text)
        self.newlines += text.count("\n")
        self.last_char = text[-1]
        if self.head_len < self.cap:
            piece = text[: self.cap - self.head_len]
            self.head.append(piece)
            self.head_len += len(piece)
        self.tail += text
        if len(self.tail) > 2 * self.cap:
            self.tail = self.tail[-self.cap:]

    def _save(self, chunk: bytes) -> None:
        if self.raw is not None:
            self.raw += chunk
            if len(self.raw) <= self.cap:  # bytes >= chars, so still under the char cap
                return
            fd, name = tempfile.mkstemp(dir=self.outputs_dir(), prefix="cmd-", suffix=".log")
            self.file = os.fdopen(fd, "wb")
            self.file_path = Path(name)
            chunk, self.raw = bytes(self.raw), None
        if self.file is not None and self.saved < MAX_SAVED_BYTES:
            part = chunk[: MAX_SAVED_BYTES - self.saved]
            self.file.write(part)
            self.saved += len(part)

    def close(self) -> None:
        if self.file is not None:
            if self.saved >= MAX_SAVED_BYTES:
                self.file.write(b"\n[output file cut at 64 MiB]\n")
            self.file.close()
            self.file = None

    def render(self, root: Path) -> tuple[str, dict]:
        total_lines = self.newlines + (1 if self.last_char and self.last_char != "\n" else 0)
        meta: dict = {"truncated": False}
        if self.total_chars <= self.cap:
            body = "".join(self.head)
            if self.file_path is not None:  # multi-byte text passed the byte cap only
                with suppress(OSError):
                    self.file_path.unlink()
        else:
            half = self.cap // 2
            head = "".join(self.head)[:half]
            if "\n" in head:
                head = head[: head.rfind("\n") + 1]
            tail = self.tail[-half:]
            if "\n" in tail[:-1]:
                tail = tail[tail.index("\n") + 1:]
            omitted_chars = self.total_chars - len(head) - len(tail)
            tail_lines = tail.count("\n") + (1 if tail and not tail.endswith("\n") else 0)
            omitted_lines = max(0, total_lines - head.count("\n") - tail_lines)
            where = ""
            if self.file_path is not None:
                shown = display(root, self.file_path)
                where = f"; full output saved to {shown}"
                meta["full_output_path"] = str(self.file_path)
            marker = (f"[... {omitted_lines} lines ({omitted_chars} chars) omitted{where} "
                      "...]\n")
            body = head + ("" if head.endswith("\n") or not head else "\n") + marker + tail
            meta["truncated"] = True
        meta["output_lines"] = total_lines
        return _ANSI.sub("", body).rstrip("\n"), meta


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process remains in the group."""
    return _group_alive(pgid)


async def kill_surviving_groups(pgids: set[int]) -> int:
    """Kill what is left of process groups commands started (background jobs); returns how many
    groups still had live processes."""
    alive = [g for g in sorted(pgids) if _group_alive(g)]
    for g in alive:
        await kill_group(g)
    pgids.clear()
    return len(alive)
