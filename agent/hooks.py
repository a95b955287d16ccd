"""Lifecycle hooks with Claude Code's event names and JSON protocol.

Configured in the user config or a (trusted) project config:

    [[hooks.PreToolUse]]
    matcher = "run_command|Bash"     # tool-name regex (full match); "" or "*": every tool
    command = "python3 .agent/hooks/guard.py"
    timeout = 10                     # seconds, default 60

(Claude Code's nested form, `hooks = [{type = "command", command = ...}]` under a matcher, is
read too.) Events: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, Stop. Each hook gets
one JSON object on stdin (session_id, transcript_path, cwd, hook_event_name and the event's own
fields: prompt, tool_name, tool_input, tool_response, stop_hook_active, source) and answers by
exit code (0 ok, stdout may be JSON; 2 blocks with stderr as the reason; anything else is a
non-blocking error shown to the user) and optional JSON on stdout: `decision`/`reason`,
`continue`/`stopReason`, `hookSpecificOutput.permissionDecision` (allow|deny|ask) with
`permissionDecisionReason`, `hookSpecificOutput.additionalContext`.

A hook is a program the agent starts, so it gets what run_command gets: bash in the project root,
the bubblewrap sandbox when it is on, the scrubbed environment (no API keys), its own process
group killed on timeout. Its output is capped and redacted before anything reads it. A hook that
crashes, hangs or prints garbage costs a Warning, never the session.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.records import record

if TYPE_CHECKING:
    from realcost_agent.agent.session import Session

EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop")
TOOL_EVENTS = ("PreToolUse", "PostToolUse")
DEFAULT_TIMEOUT = 60.0
MAX_OUTPUT = 64_000  # bytes kept of each of stdout and stderr; a flood is cut, not buffered
MAX_CONTEXT = 8_000  # characters of reason/context a hook may add for the model
MAX_STOP_FOLLOWUPS = 3  # Stop-hook continuations in a row before the session stops listening
KILL_GRACE = 2.0
# Claude Code's tool names, so a hook written for it matches ours too.
CLAUDE_NAMES = {"Bash": ("run_command",), "Edit": ("edit", "apply_patch"), "MultiEdit": ("edit",),
                "Write": ("write_file",), "Read": ("read_file",), "Grep": ("search",),
                "Glob": ("list_files",), "LS": ("list_files",), "TodoWrite": ("update_plan",)}


class HookConfigError(ValueError):
    pass


@record(frozen=True)
class HookSpec:
    event: str
    matcher: str
    command: str
    timeout: float = DEFAULT_TIMEOUT
    source: str = ""  # the config file it came from

    def matches(self, tool_name: str | None) -> bool:
        if self.event not in TOOL_EVENTS or self.matcher in ("", "*") or tool_name is None:
            return True
        names = {tool_name, *(c for c, ours in CLAUDE_NAMES.items() if tool_name in ours)}
        pattern = re.compile(self.matcher)
        return any(pattern.fullmatch(n) for n in names)


def parse_hooks(value: Any, origin: str) -> dict[str, list[dict[str, Any]]]:
    """The `[hooks]` table as {event: [{matcher, command, timeout, source}]}; ConfigError-worthy
    problems raise HookConfigError naming the file and the entry."""
    if not isinstance(value, dict):
        raise HookConfigError(f"{origin}: [hooks] must be a table of [[hooks.EVENT]] entries")
    out: dict[str, list[dict[str, Any]]] = {}
    for event, entries in value.items():
        if event not in EVENTS:
            raise HookConfigError(f"{origin}: unknown hook event {event!r} (one of {', '.join(EVENTS)})")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise HookConfigError(f"{origin}: hooks.{event} must be a list of tables ([[hooks.{event}]])")
        for i, entry in enumerate(entries):
            where = f"{origin}: hooks.{event}[{i}]"
            if not isinstance(entry, dict):
                raise HookConfigError(f"{where} must be a table with `command`")
            matcher = entry.get("matcher", "")
            if not isinstance(matcher, str):
                raise HookConfigError(f"{where}: matcher must be a string (a tool-name regex)")
            if matcher not in ("", "*"):
                try:
                    re.compile(matcher)
                except re.error as exc:
                    raise HookConfigError(f"{where}: matcher {matcher!r} is not a valid regex: {exc}") from None
            inner = entry.get("hooks")  # Claude Code's nested form
            commands = inner if isinstance(inner, list) else [entry]
            for j, cmd in enumerate(commands):
                if not isinstance(cmd, dict) or cmd.get("type", "command") != "command":
                    raise HookConfigError(f"{where}: hooks[{j}] must be {{type = \"command\", command = ...}}")
                command = cmd.get("command")
                if not isinstance(command, str) or not command.strip():
                    raise HookConfigError(f"{where}: `command` must be a non-empty string")
                timeout = cmd.get("timeout", entry.get("timeout", DEFAULT_TIMEOUT))
                if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                    raise HookConfigError(f"{where}: timeout must be a positive number of seconds")
                out.setdefault(event, []).append({"matcher": matcher, "command": command,
                                                  "timeout": float(timeout), "source": origin})
    return out


def specs_from(settings_hooks: Mapping[str, Any]) -> list[HookSpec]:
    specs = []
    for event, entries in (settings_hooks or {}).items():
        for e in entries:
            specs.append(HookSpec(event, e.get("matcher", ""), e["command"],
                                  float(e.get("timeout", DEFAULT_TIMEOUT)), e.get("source", "")))
    return specs


@record
class RawRun:
    exit_code: int | None  # None: timed out, or could not start
    stdout: str
    stderr: str
    timed_out: bool = False
    error: str = ""


@record
class Verdict:
    """What every matching hook of one event said, combined: deny > ask > allow, block wins."""

    permission: str = ""  # PreToolUse: "allow" | "deny" | "ask" | ""
    blocked: bool = False  # exit 2 or decision "block"
    stop: bool = False  # continue: false
    reasons: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(r for r in self.reasons if r)[:MAX_CONTEXT]

    @property
    def extra(self) -> str:
        return "\n".join(c for c in self.context if c)[:MAX_CONTEXT]


async def run_one(argv: list[str], cwd: str, env: Mapping[str, str], stdin: bytes,
                  timeout: float, process_groups: set[int] | None = None) -> RawRun:
    """Run one hook: stdin written, stdout/stderr capped, the group killed on timeout or cancel."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=dict(env), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        return RawRun(None, "", "", error=f"could not start: {exc.strerror or exc}")
    if process_groups is not None:
        process_groups.add(proc.pid)

    async def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # a hook that reads nothing is fine
        finally:
            proc.stdin.close()

    async def pump(stream: asyncio.StreamReader | None, into: bytearray) -> None:
        assert stream is not None
        while data := await stream.read(65536):
            if len(into) < MAX_OUTPUT:
                into += data[: MAX_OUTPUT - len(into)]  # keep draining so the hook never blocks

    out, err = bytearray(), bytearray()
    tasks = [asyncio.create_task(feed()), asyncio.create_task(pump(proc.stdout, out)),
             asyncio.create_task(pump(proc.stderr, err))]
    from realcost_agent.tools.run_command import exited, kill_group  # the shell tool's own

    timed_out = False
    try:
        try:
            await asyncio.wait_for(exited(proc), timeout)
        except TimeoutError:
            timed_out = True
            await kill_group(proc.pid)
        done, pending = await asyncio.wait(tasks, timeout=KILL_GRACE)
        for t in pending:  # a background child holds the pipes open: stop listening
            t.cancel()
    except asyncio.CancelledError:
        await kill_group(proc.pid)
        for t in tasks:
            t.cancel()
        raise
    finally:
        if process_groups is not None and proc.returncode is not None:
            from realcost_agent.tools.run_command import group_alive

            if not group_alive(proc.pid):
                process_groups.discard(proc.pid)
    text = lambda b: bytes(b).decode("utf-8", errors="replace")  # noqa: E731
    return RawRun(None if timed_out else proc.returncode, text(out), text(err), timed_out)


def interpret(event: str, run: RawRun) -> tuple[Verdict, str, str]:
    """(verdict, decision label for HookRan, warning or "") from one finished hook."""
    v = Verdict()
    if run.error or run.timed_out:
        why = run.error or "timed out and was killed"
        return v, "timeout" if run.timed_out else "error", f"{event} hook {why}"
    stdout, stderr = run.stdout.strip(), run.stderr.strip()
    if run.exit_code == 2:
        v.blocked = True
        v.permission = "deny" if event == "PreToolUse" else ""
        v.reasons.append(stderr or f"blocked by a {event} hook (exit code 2, no reason given)")
        return v, "block", ""
    if run.exit_code != 0:
        tail = (stderr or stdout)[-300:]
        return v, "error", f"{event} hook failed (exit code {run.exit_code}){': ' + tail if tail else ''}"
    data: Any = None
    if stdout.startswith("{"):
        try:
            data = json.loads(stdout)
        except json.JSONDecodeError:
            return v, "error", f"{event} hook printed invalid JSON (ignored): {stdout[:200]!r}"
    if not isinstance(data, dict):
        # Plain text: context for the model where Claude Code takes it so, else ignored.
        if stdout and event in ("SessionStart", "UserPromptSubmit"):
            v.context.append(stdout)
        return v, "", ""
    label = ""
    specific = data.get("hookSpecificOutput")
    specific = specific if isinstance(specific, dict) else {}
    decision = data.get("decision")
    reason = _text(data.get("reason"))
    if event == "PreToolUse":
        perm = specific.get("permissionDecision")
        # The older top-level form: "approve" | "block".
        perm = perm or {"approve": "allow", "block": "deny"}.get(str(decision or ""), "")
        if perm in ("allow", "deny", "ask"):
            v.permission, label = perm, perm
            v.reasons.append(_text(specific.get("permissionDecisionReason")) or reason)
        elif perm:
            return v, "error", f"PreToolUse hook: unknown permissionDecision {perm!r} (ignored)"
    elif decision == "block":
        v.blocked, label = True, "block"
        v.reasons.append(reason or f"blocked by a {event} hook")
    if _text(specific.get("additionalContext")):
        v.context.append(_text(specific["additionalContext"]))
    if data.get("continue") is False:
        v.stop, label = True, "stop"
        v.reasons.append(_text(data.get("stopReason")) or f"a {event} hook stopped the turn")
    return v, label, ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class Hooks:
    """The session's hooks. Every method is safe to await: failures become Warning events."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.specs = specs_from(getattr(session.settings, "hooks", {}) or {})
        self.turn_origin = "user"  # set by Session._start_turn; Stop's stop_hook_active
        self.stop_followups = 0
        self.pending_stop: str | None = None  # a PostToolUse `continue: false` to honour

    def __bool__(self) -> bool:
        return bool(self.specs)

    def _env(self) -> dict[str, str]:
        from realcost_agent.tools.childenv import scrubbed_env

        env = scrubbed_env(self.s.env)
        for name in ("SSH_AUTH_SOCK", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS"):
            env.pop(name, None)  # as in the sandbox: no agent sockets for a hook either
        return env

    def _transcript(self) -> str:
        journal = self.s.history.journal
        return str(getattr(journal, "path", "") or "")

    async def _run(self, event: str, fields: dict[str, Any], tool_name: str | None = None,
                   call_id: str = "") -> Verdict:
        combined = Verdict()
        specs = [h for h in self.specs if h.event == event and _safe_match(h, tool_name)]
        if not specs:
            return combined
        payload = {"session_id": self.s.id, "transcript_path": self._transcript(),
                   "cwd": str(self.s.root), "hook_event_name": event,
                   "permission_mode": self.s.approvals.mode, **fields}
        data = json.dumps(self.s.redact.obj(payload), default=str).encode()
        results = await asyncio.gather(*(self._run_spec(h, data, tool_name, call_id) for h in specs))
        order = {"deny": 3, "ask": 2, "allow": 1, "": 0}
        for v in results:
            if order[v.permission] > order[combined.permission]:
                combined.permission = v.permission
            combined.blocked |= v.blocked
            combined.stop |= v.stop
            combined.reasons += v.reasons
            combined.context += v.context
        return combined

    async def _run_spec(self, spec: HookSpec, data: bytes, tool_name: str | None,
                        call_id: str) -> Verdict:
        t0 = time.monotonic()
        root = str(self.s.root)
        argv = ["/usr/bin/env", f"AGENT_PROJECT_DIR={root}", f"CLAUDE_PROJECT_DIR={root}",
                "/bin/bash", "-c", spec.command]
        try:
            wrap = self.s.sandbox.command_wrapper()
            if wrap is not None:
                argv = wrap(argv, self.s.root)
            raw = await run_one(argv, root, self._env(), data, spec.timeout,
                                getattr(self.s, "process_groups", None))
            raw.stdout, raw.stderr = self.s.redact(raw.stdout), self.s.redact(raw.stderr)
            verdict, label, problem = interpret(spec.event, raw)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a hook must never take the session down
            raw = RawRun(None, "", "", error=f"{type(exc).__name__}: {exc}")
            verdict, label, problem = Verdict(), "error", f"{spec.event} hook failed: {raw.error}"
        if problem:
            self.s.emit(ev.Warning(f"{problem} [{_short(spec.command)}]; the session goes on"))
        self.s.emit(ev.HookRan(spec.event, spec.matcher, spec.command, raw.exit_code, label,
                               verdict.reason, (time.monotonic() - t0) * 1000, tool_name or "",
                               call_id))
        return verdict

    # -- the call sites --------------------------------------------------------------------------
    async def session_start(self, source: str = "startup") -> None:
        if not self:
            return
        v = await self._run("SessionStart", {"source": source})
        if v.extra:
            self.s.history.append({"role": "user", "content": f"[SessionStart hook context]\n{v.extra}"})

    async def user_prompt(self, prompt: str) -> Verdict:
        """UserPromptSubmit, for prompts the user typed (not the session's own follow-ups)."""
        if not self or self.turn_origin != "user":
            return Verdict()
        return await self._run("UserPromptSubmit", {"prompt": prompt})

    async def pre_tool(self, call_id: str, tool_name: str, tool_input: Any, decision: Any) -> Any:
        """The approval decision after PreToolUse hooks: deny > the rules' deny > ask > allow.
        An `allow` skips the approval mode's question, never a protected path's or a
        destructive command's."""
        if not self:
            return decision
        v = await self._run("PreToolUse", {"tool_name": tool_name, "tool_input": tool_input,
                                           "tool_use_id": call_id}, tool_name, call_id)
        if v.stop:
            from realcost_agent.agent.turn import TurnStopped

            raise TurnStopped("hook_stopped", f"Stopped by a PreToolUse hook: {v.reason}")
        why = v.reason or "no reason given"
        if v.permission == "deny":
            return replace(decision, action="deny", reason=f"a PreToolUse hook blocked it: {why}")
        if decision.action == "deny":
            return decision
        if v.permission == "ask":
            return replace(decision, action="ask", reason=f"a PreToolUse hook asks: {why}")
        # Like an allow rule: never past a protected path's or a destructive command's question.
        if (v.permission == "allow" and decision.action == "ask"
                and not getattr(decision, "protected", ()) and not getattr(decision, "destructive", False)):
            return replace(decision, action="allow")
        return decision

    async def post_tool(self, call_id: str, tool_name: str, tool_input: Any, result: Any) -> Any:
        """PostToolUse: a block reason or added context goes to the model with the result."""
        if not self:
            return result
        response = {"output": result.output[:MAX_OUTPUT], "is_error": result.is_error}
        v = await self._run("PostToolUse", {"tool_name": tool_name, "tool_input": tool_input,
                                            "tool_response": response, "tool_use_id": call_id},
                            tool_name, call_id)
        notes = []
        if v.blocked and v.reason:
            notes.append(f"[PostToolUse hook feedback: {v.reason}]")
        if v.extra:
            notes.append(f"[PostToolUse hook context: {v.extra}]")
        if v.stop:
            self.pending_stop = v.reason
        if notes:
            result = replace(result, output=result.output.rstrip("\n") + "\n\n" + "\n".join(notes))
        return result

    def check_stop(self) -> None:
        """After a call's result is recorded: a PostToolUse `continue: false` ends the turn."""
        if self.pending_stop is not None:
            reason, self.pending_stop = self.pending_stop, None
            from realcost_agent.agent.turn import TurnStopped

            raise TurnStopped("hook_stopped", f"Stopped by a PostToolUse hook: {reason}")

    async def stop(self, reason: str) -> tuple[str, str] | None:
        """Stop: a hook may ask the model to go on, as an automatic follow-up (origin "hook",
        counted like the check's). Loops are cut by stop_hook_active, a cap of consecutive
        continuations, and the session's max_auto_followups."""
        if not self or reason != "done":
            return None
        active = self.turn_origin == "hook"
        if not active:
            self.stop_followups = 0
        v = await self._run("Stop", {"stop_hook_active": active})
        if not v.blocked or v.stop:
            return None
        if self.stop_followups >= MAX_STOP_FOLLOWUPS:
            self.s.emit(ev.Warning(f"a Stop hook asked to continue {MAX_STOP_FOLLOWUPS + 1} times "
                                   "in a row; stopping here"))
            return None
        flow = getattr(self.s, "flow", None)
        if flow is not None and not flow.may_follow_up():
            self.s.emit(ev.Warning("a Stop hook asked to continue, but the task has used its "
                                   "automatic follow-ups (max_auto_followups)"))
            return None
        self.stop_followups += 1
        return (f"A Stop hook asked you to continue before finishing:\n{v.reason}", "hook")


def _safe_match(spec: HookSpec, tool_name: str | None) -> bool:
    try:
        return spec.matches(tool_name)
    except re.error:
        return False


def _short(command: str) -> str:
    line = " ".join(command.split())
    return line if len(line) <= 80 else line[:79] + "…"
