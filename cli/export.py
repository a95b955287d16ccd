"""`agent export`: a session's transcript as markdown or JSON, for sharing or a pull request.

    agent export                      the project's last session, markdown on stdout
    agent export ID --format json     a given session (ids as `agent --resume ID` takes them)
    agent export -o session.md        to a file

The transcript comes from the session journal (agent/journal.py): each turn's prompt, the
assistant's messages, every tool call with its arguments, output and diff. Per-call figures
(tokens, cost, time to first token, duration) come from the cost ledger, the rows `agent report`
sums, so the two never disagree; a session recorded without a ledger falls back to the
journal's usage events and says so. Everything is redacted again on the way out with today's
secrets (environment, the project's .env files, configured values): a key added since the
session ran is caught too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping

EXPORT_VERSION = 1
MD_OUTPUT_CHARS = 4_000  # a tool's output in markdown; JSON keeps it whole
CALL_FIELDS = ("model", "litellm_id", "backend", "purpose", "input_tokens", "cached_input_tokens",
               "output_tokens", "reasoning_tokens", "cost", "provider_cost", "ttft_ms",
               "ttft_text_ms", "duration_ms", "local")


class ExportError(ValueError):
    """The session cannot be exported; the message says why and what exists."""


# -- reading -------------------------------------------------------------------------------------
def read_journal(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], int]:
    """(meta, every message ever appended (compactions do not hide earlier ones), events,
    unreadable lines)."""
    from realcost_agent.agent.journal import load

    try:
        r = load(path, keep_compacted=True)
    except OSError as exc:
        raise ExportError(f"session journal {path} cannot be read: {exc.strerror or exc}") from None
    return r.meta, r.messages, r.events, r.skipped_lines


def find_session(root: Path, session: str | None, env: Mapping[str, str]) -> Path:
    """The journal of `session` (an id, or a path to a .jsonl) or the project's latest."""
    from realcost_agent.agent.journal import latest_session_id, sessions_dir

    if session and (session.endswith(".jsonl") or os.sep in session):
        path = Path(session).expanduser()
        if not path.is_file():
            raise ExportError(f"no session journal at {path}")
        return path
    folder = sessions_dir(root, env)
    sid = session or latest_session_id(root, env)
    if sid is None:
        raise ExportError(f"no session recorded for {root} (journals live in {folder})")
    path = folder / f"{sid}.jsonl"
    if not path.is_file():
        known = sorted((p.stem for p in folder.glob("*.jsonl")), reverse=True)[:5] if folder.is_dir() else []
        hint = f"; recent: {', '.join(known)}" if known else ""
        raise ExportError(f"no session {sid!r} in {root}{hint}")
    return path


def list_sessions(root: Path, env: Mapping[str, str], limit: int = 20) -> list[tuple[str, float, str]]:
    """(id, modified time, first prompt) of the project's latest sessions, newest first."""
    from realcost_agent.agent.journal import sessions_dir

    folder = sessions_dir(root, env)
    try:
        files = sorted(folder.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    except OSError:
        return []
    out = []
    for path in files[:limit]:
        prompt = ""
        try:
            with open(path, "rb") as fh:
                for raw in fh:  # the first turn's prompt: the journal is redacted already
                    if b'"turn_started"' in raw:
                        prompt = str(json.loads(raw).get("e", {}).get("prompt", ""))
                        break
        except (OSError, ValueError, AttributeError):
            prompt = "(unreadable)"
        out.append((path.stem, path.stat().st_mtime, " ".join(prompt.split())[:70]))
    return out


def ledger_calls(session_id: str, env: Mapping[str, str]) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    """(the ledger's calls of the session in order, the report's totals for it), or
    (None, None) when the ledger is off or does not have the session."""
    from realcost_agent.agent.ledger import default_path

    path = default_path(env)
    if env.get("AGENT_LEDGER") == "0" or not path.is_file():
        return None, None
    from realcost_agent.agent.ledger import Ledger, LedgerError
    from realcost_agent.agent.report import Scope, build_report

    try:
        ledger = Ledger(path)
    except (LedgerError, OSError, Exception):  # noqa: BLE001 - figures are optional here
        return None, None
    try:
        calls = ledger.calls(session_id=session_id)
        if not calls:
            return None, None
        totals = build_report(ledger.conn, Scope(session=session_id))["totals"]
    finally:
        ledger.close()
    calls.sort(key=lambda c: (c.get("at") or 0, c.get("id") or 0))
    return calls, totals


# -- building ------------------------------------------------------------------------------------
def build(meta: dict[str, Any], messages: list[dict[str, Any]], events: list[dict[str, Any]],
          calls: list[dict[str, Any]] | None, totals: dict[str, Any] | None) -> dict[str, Any]:
    """The export document: session, turns (items and per-call figures), totals."""
    args: dict[str, tuple[str, Any]] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            raw = fn.get("arguments")
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                parsed = raw
            args[str(call.get("id"))] = (str(fn.get("name", "")), parsed)
    by_turn: dict[str, list[dict[str, Any]]] = {}
    for call in calls or []:
        by_turn.setdefault(str(call.get("turn_id")), []).append(call)
    turns: list[dict[str, Any]] = []
    turn: dict[str, Any] | None = None
    loose: list[dict[str, Any]] = []
    for e in events:
        kind = e.get("type")
        if kind == "turn_started":
            turn = {"turn_id": e.get("turn_id"), "task_id": e.get("task_id"), "model": e.get("model"),
                    "prompt": e.get("prompt", ""), "followup": bool(e.get("followup")),
                    "origin": e.get("origin", "user"), "items": [], "calls": [], "finished": None}
            turns.append(turn)
            continue
        target = turn["items"] if turn is not None else loose
        if kind == "assistant_message":
            target.append({"type": "assistant", "step": e.get("step"), "text": e.get("text", ""),
                           "reasoning": e.get("reasoning", "")})
        elif kind == "tool_call_finished":
            call_id = str(e.get("call_id"))
            target.append({
                "type": "tool_call", "call_id": call_id, "name": e.get("name"),
                "arguments": args.get(call_id, ("", None))[1], "summary": e.get("summary", ""),
                "paths": e.get("paths") or [], "is_error": bool(e.get("is_error")),
                "duration_ms": e.get("duration_ms"), "diff": e.get("diff", ""),
                "added": e.get("added"), "removed": e.get("removed"), "output": e.get("output", ""),
            })
        elif kind in ("error", "compacted", "model_switched"):
            target.append({"type": kind, **{k: v for k, v in e.items() if k not in ("type", "v")}})
        elif kind == "usage_updated" and turn is not None:
            # One usage event per model call: it takes that call's ledger row (the report's
            # source); the event's own figures only when the ledger has none.
            queue = by_turn.get(str(turn["turn_id"]))
            row = queue.pop(0) if queue else e
            figures = {k: row.get(k) for k in CALL_FIELDS}
            figures["local"] = bool(figures["local"])
            turn["calls"].append(figures)
        elif kind == "turn_finished" and turn is not None:
            turn["finished"] = {"reason": e.get("reason"), "steps": e.get("steps"),
                                "files_changed": e.get("files_changed") or [],
                                "duration_ms": e.get("duration_ms")}
            turn = None
    return {
        "v": EXPORT_VERSION,
        "session": {"id": meta.get("session_id"), "root": meta.get("root"), "model": meta.get("model"),
                    "version": meta.get("version"), "started_at": meta.get("t")},
        "figures_source": "ledger" if calls else ("journal" if any(t["calls"] for t in turns) else "none"),
        "totals": totals,
        "turns": turns,
        "other": loose,
    }


# -- rendering -----------------------------------------------------------------------------------
def _money(value: Any) -> str:
    return "unknown" if value is None else f"${float(value):.4f}"


def _ms(value: Any) -> str:
    return "-" if value is None else (f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms")


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _cap(text: str, limit: int = MD_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit:,} more characters]"


def render_md(doc: dict[str, Any]) -> str:
    s = doc["session"]
    out = [f"# Agent session {s.get('id') or '(unknown)'}", ""]
    out += [f"- Project: `{s.get('root')}`", f"- Model: {s.get('model')} · agent {s.get('version')}"]
    t = doc.get("totals")
    if t:
        calls = [c for turn in doc["turns"] for c in turn["calls"]]
        local = bool(calls) and all(c["local"] for c in calls)  # as every report shows it
        from realcost_agent.agent.report_render import api_text  # the one wording of API cost

        api = api_text(float(t.get("api_cost_known") or 0.0), int(t.get("unpriced_calls") or 0),
                       all_unpriced=t["requests"] > 0 and t.get("unpriced_calls") == t["requests"],
                       local=local)
        out.append(f"- Totals (cost ledger, as `agent report --session {s.get('id')}`): "
                   f"{t['tasks']} task(s), {t['requests']} request(s), API cost "
                   f"{api}, real total {_money(t['real_total'])}")
    elif doc["figures_source"] == "journal":
        out.append("- Figures from the session journal (no ledger record of this session)")
    for turn in doc["turns"]:
        kind = "follow-up" if turn["followup"] else "task"
        out += ["", f"## Turn {turn['turn_id']} · {kind} {turn['task_id']} · {turn['model']}", ""]
        who = "User" if turn["origin"] == "user" else f"Agent ({turn['origin']})"
        out += [f"**{who}:**", "", _fence(turn["prompt"], "text"), ""]
        out += _items_md(turn["items"])
        if turn["calls"]:
            out += ["", "| # | model | purpose | input | cached | output | reasoning | cost | first token | duration |",
                    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
            for i, c in enumerate(turn["calls"], 1):
                cost = "$0 (local)" if c["local"] else _money(c["cost"])
                out.append(f"| {i} | {c['model']} | {c['purpose']} | {c['input_tokens']:,} | "
                           f"{c['cached_input_tokens']:,} | {c['output_tokens']:,} | "
                           f"{c['reasoning_tokens']:,} | {cost} | {_ms(c['ttft_ms'])} | {_ms(c['duration_ms'])} |")
        f = turn.get("finished")
        if f:
            files = ", ".join(f"`{p}`" for p in f["files_changed"]) or "none"
            out += ["", f"_Turn ended: {f['reason']} · {f['steps']} step(s) · "
                    f"{_ms(f['duration_ms'])} · files changed: {files}_"]
    if doc["other"]:
        out += ["", "## Outside any turn", ""] + _items_md(doc["other"])
    return "\n".join(out).rstrip() + "\n"


def _show_arguments(item: dict[str, Any]) -> bool:
    """Arguments add nothing when the diff shows the change or the summary is the one argument
    (a command line): shown otherwise."""
    args = item["arguments"]
    if args in (None, "", {}) or item["diff"]:
        return False
    if isinstance(args, dict) and len(args) == 1:
        value = str(next(iter(args.values())))
        return not (value and value.splitlines()[0][:200] in item["summary"])
    return True


def _items_md(items: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item["type"] == "assistant":
            if item.get("reasoning"):
                out += ["<details><summary>Reasoning</summary>", "", _fence(item["reasoning"], "text"),
                        "", "</details>", ""]
            if item["text"].strip():
                out += ["**Assistant:**", "", item["text"].strip(), ""]
        elif item["type"] == "tool_call":
            mark = "failed" if item["is_error"] else "ok"
            title = f"`{item['name']}` {item['summary']}".strip()
            out += [f"<details><summary>Tool {title} · {mark} · {_ms(item['duration_ms'])}</summary>", ""]
            if _show_arguments(item):
                out += ["Arguments:", "", _fence(json.dumps(item["arguments"], indent=2, ensure_ascii=False)
                                                 if not isinstance(item["arguments"], str)
                                                 else item["arguments"], "json"), ""]
            if item["diff"]:
                out += [_fence(item["diff"], "diff"), ""]
            out += ["Output:", "", _fence(_cap(item["output"] or "(no output)"), "text"), "", "</details>", ""]
        elif item["type"] == "error":
            out += [f"> **Error** ({item.get('kind', '')}): {item.get('message', '')}", ""]
        elif item["type"] == "compacted":
            out += [f"> Conversation compacted: {item.get('folded_messages')} messages folded "
                    f"({item.get('before_tokens')} → {item.get('after_tokens')} tokens)", ""]
        elif item["type"] == "model_switched":
            out += [f"> Model switched to {item.get('model')}", ""]
    return out


# -- the command ---------------------------------------------------------------------------------
def export_session(root: Path, session: str | None, fmt: str,
                   env: Mapping[str, str] | None = None) -> str:
    """The exported text. Raises ExportError with a message for the user."""
    from realcost_agent.agent.secrets import Redactor, dotenv_values

    env = dict(os.environ if env is None else env)
    path = find_session(root, session, env)
    meta, messages, events, bad = read_journal(path)
    if not meta and not messages and not events:
        raise ExportError(f"session journal {path} holds nothing readable"
                          + (f" ({bad} unreadable line(s))" if bad else ""))
    calls, totals = ledger_calls(str(meta.get("session_id") or path.stem), env)
    doc = build(meta, messages, events, calls, totals)
    if bad:
        doc["unreadable_lines"] = bad
    named, named_env = _named_secrets(root, env)
    redact = Redactor(env, dotenv_values(root), named_values=named, redact_env=named_env)
    doc = redact.obj(doc)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return redact(render_md(doc))


def _named_secrets(root: Path, env: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`redact_values` / `redact_env` from the user's config (and a trusted project's)."""
    try:
        from realcost_agent.agent.config import load_settings

        settings = load_settings(root, env=env, warnings=[])
    except Exception:  # noqa: BLE001 - a broken config must not stop an export; env and .env still apply
        return (), ()
    return tuple(settings.redact_values or ()), tuple(settings.redact_env or ())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="agent export",
        description="Print a session's transcript (prompts, answers, tool calls with their diffs, "
        "per-call tokens, cost and time), redacted, as markdown or JSON.")
    parser.add_argument("session", nargs="?", help="session id (default: this project's last "
                        "session) or the path of a session journal (.jsonl)")
    parser.add_argument("--format", choices=["md", "json"], default="md")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("-C", "--cd", metavar="DIR", help="project directory (default: current)")
    parser.add_argument("--list", action="store_true", help="list this project's recent sessions")
    args = parser.parse_args(argv)
    root = Path(args.cd).expanduser().resolve() if args.cd else Path.cwd().resolve()
    if args.list:
        import time

        sessions = list_sessions(root, os.environ)
        for sid, mtime, prompt in sessions:
            print(f"{sid}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(mtime))}  {prompt}")
        if not sessions:
            print(f"no session recorded for {root}", file=sys.stderr)
        return 0
    try:
        text = export_session(root, args.session, args.format)
    except ExportError as exc:
        print(f"agent export: error: {exc}", file=sys.stderr)
        return 2  # as the other commands' usage errors
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output).expanduser()
    try:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        print(f"agent export: error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"exported session to {out}", file=sys.stderr)
    return 0
