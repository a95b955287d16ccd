"""A task's check: a shell command run after the agent says it is done (tests, a linter...).

Where the command comes from, first found wins: the `--check` flag, `AGENT_CHECK`, `check` in
the project or user config, then the root AGENTS.md, in this one syntax:

    ## Check

    ```sh
    npm test
    ```

(a "Check" heading of any level, then the first fenced block under it; its lines run as one
bash script). `check = ""` in config or `--check ""` turns a check from AGENTS.md off.

The check is the user's own command (a project's own check, from its config or AGENTS.md, applies
only once the user trusts the project: agent/trust.py), so it runs without approval, but like
run_command: bash in the project root, in the same bubblewrap sandbox when it is on (a check
taken from a cloned AGENTS.md is code from that repository too), its own process group (killed
whole on timeout or interrupt), stdin closed, API keys removed from its environment.
"""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Callable, Mapping

from realcost_agent.records import record

OUTPUT_CAP = 200_000  # characters kept while the check runs (its tail matters most)
TAIL_CHARS = 6_000  # what the follow-up prompt and the events carry
KILL_GRACE = 2.0

_HEADING = re.compile(r"^#{1,6}\s*check\s*:?\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^(```+|~~~+)")


@record(frozen=True)
class CheckResult:
    command: str
    passed: bool
    exit_code: int | None  # None: killed (timeout or interrupt)
    output: str  # the tail, at most TAIL_CHARS
    duration_ms: float
    timed_out: bool = False


def check_from_agents_md(root: Path, names: tuple[str, ...] | list[str] = ("AGENTS.md",)) -> str | None:
    """The command under a "## Check" heading in the root instruction file, or None.

    Read with the file tools' confinement and cap (agent.instructions.read_confined). The
    command needs the user's trust before it runs (agent.trust): load_settings decides."""
    from realcost_agent.agent.instructions import read_confined

    for name in names:
        text = read_confined(Path(root), name)
        if text is None:
            continue
        found = parse_check_section(text)
        if found:
            return found
    return None


def parse_check_section(text: str) -> str | None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not _HEADING.match(line.strip()):
            continue
        for j in range(i + 1, len(lines)):
            stripped = lines[j].strip()
            if stripped.startswith("#"):
                break  # the next heading: the section had no block
            fence = _FENCE.match(stripped)
            if fence:
                body = []
                for k in range(j + 1, len(lines)):
                    if lines[k].strip().startswith(fence.group(1)):
                        break
                    body.append(lines[k])
                command = "\n".join(body).strip()
                return command or None
    return None


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    if 0 <= newline < 200:
        cut = cut[newline + 1:]
    return "[... earlier output cut ...]\n" + cut


async def run_check(
    command: str, root: Path, env: Mapping[str, str], *, timeout: float,
    process_groups: set[int] | None = None, wrap_argv: Callable[..., list[str]] | None = None,
) -> CheckResult:
    """Run the check; cancelling the awaiting task kills its process group. `wrap_argv`
    ((argv, cwd) -> argv) puts it in the sandbox."""
    started = time.monotonic()
    argv = ["/bin/bash", "-c", command]
    if wrap_argv is not None:
        argv = wrap_argv(argv, root)
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=root, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    if process_groups is not None:
        process_groups.add(proc.pid)
    chunks: list[str] = []
    size = 0

    async def pump() -> None:
        nonlocal size
        assert proc.stdout is not None
        while data := await proc.stdout.read(65536):
            chunks.append(data.decode("utf-8", errors="replace"))
            size += len(chunks[-1])
            while size > OUTPUT_CAP and len(chunks) > 1:
                size -= len(chunks.pop(0))

    from realcost_agent.tools.run_command import kill_group  # the shell tool's own

    timed_out = False
    reader = asyncio.create_task(pump())
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await kill_group(proc.pid)
        try:
            await asyncio.wait_for(reader, KILL_GRACE)
        except TimeoutError:  # a background child kept the pipe open: stop listening
            reader.cancel()
    except asyncio.CancelledError:
        await kill_group(proc.pid)
        reader.cancel()
        raise
    finally:
        # Forget the group only once it is empty: a background child the check left running is
        # killed when the session ends (and a reused pid is never mistaken for ours).
        if process_groups is not None and proc.returncode is not None:
            from realcost_agent.tools.run_command import group_alive

            if not group_alive(proc.pid):
                process_groups.discard(proc.pid)
    output = "".join(chunks)
    code = None if timed_out else proc.returncode
    if timed_out:
        output += f"\n[the check timed out after {timeout:g}s and was killed]"
    return CheckResult(command, code == 0, code, tail(output), (time.monotonic() - started) * 1000,
                       timed_out)


def followup_prompt(result: CheckResult, *, escalated_to: str | None = None) -> str:
    """The automatic follow-up after a failed check: what failed and its output."""
    how = "timed out" if result.timed_out else f"failed (exit code {result.exit_code})"
    lines = [f"The check `{result.command}` {how} after your changes."]
    if escalated_to:
        lines.append(f"(The task was escalated to {escalated_to} after repeated failures; "
                     "review the earlier attempts critically.)")
    lines += ["Its output:", "```", result.output.strip() or "(no output)", "```",
              "Fix the code so the check passes. Do not weaken or skip the check, and do not "
              "break what already works."]
    return "\n".join(lines)


TOOL_FAILURE_PROMPT = (
    "Your previous tool calls kept failing (malformed arguments, unknown tools or the same call "
    "repeated). The task was escalated to {model}. Continue the task with valid tool calls."
)
