"""Fault injection: the fake OpenAI-compatible server (real HTTP, direct client) injects one fault
kind per run on a seeded schedule into a scripted four-step task (read, patch, run a command,
answer). Retry back-off runs on a fake clock. After every run the invariants hold:

- every user message and finished tool result is in the journal;
- every file is byte-exact old or new; nothing outside the project changes; a tool call cut off
  mid-stream never runs;
- the session's token totals equal the usage the server reported for delivered streams;
- no process of the run survives; no traceback or internal error reaches the user;
- no secret canary appears in any request body sent, any journal or any saved output.

`pytest tests/faults -q` prints the figures (runs, faults injected, survived, anything lost).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.journal import load
from realcost_agent.agent.ops import UserInput
from realcost_agent.agent.session import Session
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

SEEDS = int(os.environ.get("FAULT_SEEDS", "10"))  # `make test-full`: 50
CANARY = "sk-canary-7f3a9c1e5b2d4680"
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
PATCH = ("*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
         "+    return a + b\n*** End Patch")
COMMAND = "wc -c < .env; echo checked; sleep 300 > /dev/null 2>&1 & echo $! > bg.pid"
IDLE_TIMEOUT = 0.3


def normal_turns() -> list[FakeTurn]:
    return [
        FakeTurn(reasoning="look first", tool_calls=[FakeToolCall("read_file", {"path": "calc.py"}, id="n_read")],
                 prompt_tokens=900, completion_tokens=30),
        FakeTurn(reasoning="patch it", tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="n_patch")],
                 prompt_tokens=1100, completion_tokens=60, cached_tokens=512),
        FakeTurn(tool_calls=[FakeToolCall("run_command", {"command": COMMAND}, id="n_run")],
                 prompt_tokens=1300, completion_tokens=25),
        FakeTurn(content="Fixed add() and checked.", prompt_tokens=1500, completion_tokens=12),
    ]


# A fault builder gets (rng, the normal turn at the injection point) and returns the turns the
# server serves instead of it, plus the turn reasons the run may end with.
Fault = Callable[[random.Random, FakeTurn], tuple[list[FakeTurn], set[str]]]
DONE = {"done"}


def _insert(*turns: FakeTurn) -> Callable[[random.Random, FakeTurn], tuple[list[FakeTurn], set[str]]]:
    return lambda rng, normal: ([*turns, normal], DONE)


def _status(code: int) -> Fault:
    def build(rng, normal):
        retry_after = rng.choice([None, 0, 1, 7, 120, "soon"]) if code in (429, 503) else None
        return [FakeTurn(status=code, retry_after=retry_after, error_message=f"injected {code}"), normal], DONE
    return build


def _cut_text(rng, normal):
    return [FakeTurn(content="A partial answer that will be cut " * 3, cut_after=rng.randint(0, 6)), normal], DONE


def _cut_tool_call(rng, normal):
    # If this partial call ever ran, evil.txt would exist.
    bad = FakeTurn(tool_calls=[FakeToolCall("write_file", {"path": "evil.txt", "content": "x" * 50})],
                   arg_pieces=8, cut_after=rng.randint(1, 8))
    return [bad, normal], DONE


def _close_no_done(rng, normal):
    return [FakeTurn(content="closing early " * 4, framing="close", cut_after=rng.randint(1, 5)), normal], DONE


def _malformed_chunk(rng, normal):
    return [replace(normal, malformed_at=rng.randint(0, 3)), normal], DONE


def _error_chunk(rng, normal):
    return [replace(normal, stream_error_at=rng.randint(0, 3)), normal], DONE


def _slow_first_byte(rng, normal):
    return [replace(normal, delay_first_byte=rng.choice([0.01, 0.05, 0.1]))], DONE


def _keepalives(rng, normal):
    return [replace(normal, keepalive=rng.randint(1, 5))], DONE


def _idle_stall(rng, normal):
    stalled = FakeTurn(content="stalling " * 6, piece=8, chunk_delay=IDLE_TIMEOUT * 2)
    return [stalled, normal], DONE


def _reasoning_only(rng, normal):
    return [FakeTurn(reasoning="thinking without answering " * rng.randint(1, 3)), normal], DONE


def _malformed_args(rng, normal):
    args = rng.choice(['{"path": "calc.py"', '{path: calc.py}', '[1, 2]', '{"path": 5}'])
    return [FakeTurn(tool_calls=[FakeToolCall("read_file", args)]), normal], DONE


def _unknown_tool(rng, normal):
    name = rng.choice(["assistant<|channel|>analysis", "python", "browser.search", "shell"])
    return [FakeTurn(tool_calls=[FakeToolCall(name, {"cmd": "ls"})]), normal], DONE


def _name_suffix(rng, normal):
    call = FakeToolCall("read_file<|channel|>commentary", {"path": "calc.py"})
    return [FakeTurn(tool_calls=[call]), normal], DONE


def _leaked_call(rng, normal):
    leak = 'to=functions.read_file<|channel|>commentary json<|message|>{"path": "calc.py"}<|call|>'
    return [FakeTurn(content=leak), normal], DONE


def _outside_paths(rng, normal):
    path = rng.choice(["../outside/secret.txt", "/etc/hostname", "link_out/secret.txt", ".git/config"])
    calls = [FakeToolCall("read_file", {"path": path}, id="o1"),
             FakeToolCall("write_file", {"path": path, "content": "pwned"}, id="o2")]
    return [FakeTurn(tool_calls=calls), normal], DONE


def _huge_output(rng, normal):
    size = rng.choice([200_000, 1_000_000, 3_000_000])
    cmd = f"head -c {size} /dev/zero | tr '\\0' 'a'; echo; echo {CANARY[:6]}"
    return [FakeTurn(tool_calls=[FakeToolCall("run_command", {"command": cmd})]), normal], DONE


def _context_overflow(rng, normal):
    err = FakeTurn(status=400, error_message="This model's maximum context length is 8192 tokens. "
                   "However, your messages resulted in 9100 tokens.")
    return [err, FakeTurn(content="Summary: read calc.py, planning the fix."), normal], DONE | {"context_overflow"}


def _auth_failure(rng, normal):
    return [FakeTurn(status=rng.choice([401, 403]), error_message="Incorrect API key provided")], {"error"}


def _duplicate_ids(rng, normal):
    calls = [FakeToolCall("read_file", {"path": "calc.py"}, id="dup"),
             FakeToolCall("list_files", {}, id="dup")]
    return [FakeTurn(tool_calls=calls), normal], DONE


def _empty_stream(rng, normal):
    return [FakeTurn(content="", usage=False, finish_reason="stop"), normal], DONE


def _repeated_call(rng, normal):
    same = FakeToolCall("list_files", {"path": "."})
    # The loop stops the turn; a routed task then escalates a tier and may finish the work.
    return [FakeTurn(tool_calls=[same]) for _ in range(6)], {"repeated_call", "done"}


FAULTS: dict[str, Fault] = {
    "http_429": _status(429), "http_500": _status(500), "http_502": _status(502),
    "http_503": _status(503), "http_504": _status(504), "cut_mid_text": _cut_text,
    "cut_mid_tool_call": _cut_tool_call, "close_without_done": _close_no_done,
    "malformed_chunk": _malformed_chunk, "error_chunk": _error_chunk,
    "slow_first_byte": _slow_first_byte, "keepalive_comments": _keepalives,
    "idle_stall": _idle_stall, "reasoning_only_turn": _reasoning_only,
    "malformed_tool_args": _malformed_args, "unknown_tool_name": _unknown_tool,
    "gpt_oss_name_suffix": _name_suffix, "tool_call_leaked_in_text": _leaked_call,
    "paths_outside_root": _outside_paths, "huge_command_output": _huge_output,
    "context_overflow": _context_overflow, "auth_failure": _auth_failure,
    "duplicate_call_ids": _duplicate_ids, "empty_stream": _empty_stream,
    "repeated_identical_call": _repeated_call,
}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def _make_repo(base: Path) -> tuple[Path, Path]:
    root, outside = base / "repo", base / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the project\n")
    (root / "calc.py").write_text(BUGGY)
    (root / ".env").write_text(f"OPENROUTER_API_KEY={CANARY}\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "link_out").symlink_to(outside)
    return root, outside


async def _run_once(base: Path, server: FakeOpenAIServer, kind: str, seed: int) -> dict:
    rng = random.Random(f"{kind}-{seed}")
    root, outside = _make_repo(base)
    turns = normal_turns()
    at = rng.randrange(len(turns))
    injected, allowed = FAULTS[kind](rng, turns[at])
    # A spare answer at the end: a routed task that escalates after a stopped turn asks again.
    script = turns[:at] + injected + turns[at + 1:] + [FakeTurn(content="Finished after escalating.")]
    for turn in script:
        turn.piece = rng.choice([1, 3, 7, 20]) if turn.piece == 3 else turn.piece
        server.add(turn)
    outside_before = _tree(outside)
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    env = {"PATH": os.environ["PATH"], "HOME": str(base), "AGENT_DATA_HOME": str(base / "data"),
           "OPENROUTER_API_KEY": CANARY, "OPENAI_COMPAT_API_KEY": CANARY + "-compat"}
    settings = Settings(api_base=server.url, stream_idle_timeout=IDLE_TIMEOUT, max_steps=25,
                        command_timeout=20, prices={"gpt-oss-120b": {"input": 0.1, "output": 0.5}},
                        # The bg.pid check reads host pids: in the sandbox's pid namespace $! is
                        # another number (and background jobs end with their command anyway).
                        sandbox="off")
    session = Session(settings, root, env=env, sleep=fake_sleep)
    await session.start()
    session.submit(UserInput("make add() correct and check it"))
    events: list[ev.Event] = []
    while True:
        event = await asyncio.wait_for(session.next_event(), 60)
        assert event is not None
        events.append(event)
        if isinstance(event, ev.TurnFinished) and not event.continues:
            break  # a routed task may continue on a higher tier after a stopped turn
    await session.close()
    finished = events[-1]
    lost: list[str] = []

    # The run ended the way this fault allows, with no internal error or traceback.
    if finished.reason not in allowed:
        lost.append(f"ended {finished.reason!r} ({finished.text[:120]}), expected {sorted(allowed)}")
    wire = json.dumps([ev.to_dict(e) for e in events])
    if "Traceback" in wire or any(isinstance(e, ev.Error) and e.kind == "internal" for e in events):
        lost.append("internal error or traceback reached the user")
    # Journal holds every user message and finished tool result.
    journal = load(next((base / "data").rglob(f"{session.id}.jsonl")))
    for role in ("user", "tool"):
        mine = [m for m in session.messages if m["role"] == role]
        theirs = [m for m in journal.messages if m["role"] == role]
        if mine != theirs:
            lost.append(f"journal lost {role} messages: {len(mine)} in session, {len(theirs)} journaled")
    # Files: old or new, nothing outside changed, the cut call never ran.
    calc = (root / "calc.py").read_text()
    if calc not in (BUGGY, FIXED):
        lost.append("calc.py corrupted")
    if (root / ".env").read_text() != f"OPENROUTER_API_KEY={CANARY}\n":
        lost.append(".env changed")
    if (root / "evil.txt").exists():
        lost.append("a tool call cut off mid-stream was executed")
    if _tree(outside) != outside_before or (root / ".git" / "config").read_text() != "[core]\n":
        lost.append("a file outside the project (or in .git) changed")
    # Usage: the session's totals equal what the server delivered, plus the local estimates
    # for responses that came without usage (marked `estimated`, never a silent 0).
    delivered = [u for u in server.delivered_usage if u]
    guessed = [e for e in events if isinstance(e, ev.UsageUpdated) and e.estimated]
    if session.meter.total_input != sum(u["prompt_tokens"] for u in delivered) + sum(e.input_tokens for e in guessed) or \
            session.meter.total_output != sum(u["completion_tokens"] for u in delivered) + sum(e.output_tokens for e in guessed):
        lost.append(f"usage mismatch: session {session.meter.total_input}/{session.meter.total_output}, "
                    f"server {sum(u['prompt_tokens'] for u in delivered)}/{sum(u['completion_tokens'] for u in delivered)}")
    # No process survives.
    pid_file = root / "bg.pid"
    if pid_file.exists() and pid_file.read_text().strip() and _alive(int(pid_file.read_text())):
        lost.append("a background process survived the session")
    # No secret canary in what was sent to the model or written by the agent.
    sent = b"".join(r.raw for r in server.requests)
    if CANARY.encode() in sent:
        lost.append("the secret canary was sent to the model")
    for path in (base / "data").rglob("*"):
        if path.is_file() and CANARY.encode() in path.read_bytes():
            lost.append(f"the secret canary was written to {path.name}")
    if any(s > 60 for s in sleeps):
        lost.append(f"a retry waited {max(sleeps)} s (cap 60)")
    return {"kind": kind, "seed": seed, "at": at, "reason": finished.reason, "lost": lost,
            "retries": len(sleeps)}


# One test case per (kind, seed): each run is short, so the cases spread over the workers.
@pytest.mark.parametrize("seed", range(SEEDS))
@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_fault_kind_survives(kind: str, seed: int, tmp_path: Path, fault_figures: list) -> None:
    with FakeOpenAIServer() as server:
        result = asyncio.run(_run_once(tmp_path, server, kind, seed))
    fault_figures.append(result)
    assert not result["lost"], json.dumps(result, indent=1)


def test_there_are_at_least_twenty_fault_kinds() -> None:
    assert len(FAULTS) >= 20 and SEEDS >= 1
    assert sys.version_info >= (3, 11)
