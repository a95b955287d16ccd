"""`agent mcp`: the MCP servers the agent starts (agent/mcp_client.py).

    agent mcp list [--check] [-C DIR]     servers from your config and the project's (with
                                          whether the project's wait for trust); --check starts
                                          each one and lists its tools
    agent mcp add NAME [--env K=V]... [--env-var NAME]... -- COMMAND [ARGS...]
    agent mcp add NAME --url URL [--header K=V]...
    agent mcp remove NAME

add and remove edit your own config.toml (never a project's): a [mcp_servers.NAME] table is
appended or taken out, the rest of the file is kept byte for byte.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Mapping, Sequence, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
         out: TextIO | None = None, err: TextIO | None = None) -> int:
    from realcost_agent.agent.config import ConfigError

    env = os.environ if env is None else env
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="agent mcp", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    sub = parser.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="list configured servers")
    ls.add_argument("--check", action="store_true", help="start each server and list its tools")
    ls.add_argument("-C", "--cd", metavar="DIR", help="project directory (default: current)")
    add = sub.add_parser("add", help="add a server to your config")
    add.add_argument("name")
    add.add_argument("--url", help="a streamable HTTP endpoint instead of a command")
    add.add_argument("--env", action="append", default=[], metavar="K=V", help="set for the server")
    add.add_argument("--env-var", action="append", default=[], metavar="NAME",
                     help="pass this variable of your environment through (e.g. GITHUB_TOKEN)")
    add.add_argument("--header", action="append", default=[], metavar="K=V", help="HTTP header")
    add.add_argument("command", nargs="*", help="-- COMMAND [ARGS...]")
    rm = sub.add_parser("remove", help="remove a server from your config")
    rm.add_argument("name")
    argv = list(argv)
    tail: list[str] | None = None
    if argv[:1] == ["add"] and "--" in argv:  # everything after -- is the server's command line
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if tail is not None:
        args.command = [*args.command, *tail]
    try:
        if args.cmd == "list":
            return _list(Path(args.cd or "."), env, out, check=args.check)
        if args.cmd == "add":
            return _add(args, env, out)
        return _remove(args.name, env, out)
    except ConfigError as exc:
        err.write(f"agent mcp: {exc}\n")
        return EXIT_USAGE


# -- list ------------------------------------------------------------------------------------------
def _list(root: Path, env: Mapping[str, str], out: TextIO, *, check: bool) -> int:
    from realcost_agent.agent.config import load_settings, project_config_path, user_config_path
    from realcost_agent.agent.mcp_config import parse_servers, servers_from_settings

    settings = load_settings(root, env=env, warnings=[])
    configs = servers_from_settings(settings)
    user, project = user_config_path(env), project_config_path(root)
    waiting = {}
    outcome = settings.project_trust
    if outcome is not None and not outcome.applied:
        raw = _read(project).get("mcp_servers")
        try:
            waiting = parse_servers(raw, str(project)) if raw else {}
        except Exception:  # noqa: BLE001 - shown as-is; a run would ignore it anyway
            waiting = {}
    if not configs and not waiting:
        out.write(f"no MCP servers configured (add one with `agent mcp add NAME -- COMMAND`; "
                  f"your config: {user})\n")
        return EXIT_OK
    states: dict[str, Any] = {}
    if check and configs:
        states = asyncio.run(_check(root, env, configs))
    failed = 0
    for c in configs:
        where = "project" if c.origin == str(project) else "user"
        line = f"{c.name:<16} {c.transport:<5} {c.describe()}  [{where}]"
        if c.name in states:
            st = states[c.name]
            failed += st.state != "ready"
            line += (f"  ready, {st.tools} tools: {', '.join(st.names)}" if st.state == "ready"
                     else f"  FAILED: {st.error}")
        out.write(line + "\n")
    for name, table in waiting.items():
        what = table.get("url") or " ".join([str(table.get("command", "")), *map(str, table.get("args", []))])
        out.write(f"{name:<16} {'http' if table.get('url') else 'stdio':<5} {what}  [project: "
                  f"not started until you trust it: `agent trust {root.resolve()}`]\n")
    return EXIT_FAILED if failed else EXIT_OK


async def _check(root: Path, env: Mapping[str, str], configs: list) -> dict[str, Any]:
    from types import SimpleNamespace

    from realcost_agent.agent import events as ev
    from realcost_agent.agent.mcp_client import McpManager
    from realcost_agent.tools.registry import ToolRegistry

    registry = ToolRegistry()
    manager = McpManager(root=root.resolve(), env=env, registry=registry, emit=lambda e: None)
    manager.start(configs)
    try:
        await manager.wait_ready(max(c.startup_timeout_sec for c in configs) + 5)
    except asyncio.TimeoutError:
        pass
    result = {}
    for status in manager.statuses():
        names = [n for n, s in manager.servers[status.name].tools.items()]
        result[status.name] = SimpleNamespace(state=status.state, tools=status.tools,
                                              error=status.error or "still starting", names=names)
    await manager.aclose()
    assert ev  # the statuses are McpServerStatus events
    return result


# -- add / remove ------------------------------------------------------------------------------------
def _add(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from realcost_agent.agent.config import ConfigError, user_config_path
    from realcost_agent.agent.mcp_config import parse_server

    command = list(args.command)
    table: dict[str, Any] = {}
    if args.url:
        if command:
            raise ConfigError("give either --url or -- COMMAND, not both")
        table["url"] = args.url
        if args.header:
            table["headers"] = _pairs(args.header, "--header")
    else:
        if not command:
            raise ConfigError("give the server's command after --, e.g. "
                              "`agent mcp add time -- uvx mcp-server-time`, or --url URL")
        table["command"] = command[0]
        if command[1:]:
            table["args"] = command[1:]
    if args.env:
        table["env"] = _pairs(args.env, "--env")
    if args.env_var:
        table["env_vars"] = list(args.env_var)
    config = parse_server(args.name, table, "agent mcp add")
    path = user_config_path(env)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = _parse(text, path).get("mcp_servers") or {}
    if args.name in existing:
        raise ConfigError(f"{path}: an MCP server named {args.name!r} exists already "
                          f"(`agent mcp remove {args.name}` first)")
    block = f"[mcp_servers.{args.name}]\n" + "".join(
        f"{k} = {_toml(v)}\n" for k, v in config.to_table().items())
    sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    _write(path, text + sep + block)
    out.write(f"added MCP server {args.name!r} ({config.describe()}) to {path}\n")
    return EXIT_OK


def _remove(name: str, env: Mapping[str, str], out: TextIO) -> int:
    from realcost_agent.agent.config import ConfigError, user_config_path

    path = user_config_path(env)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if name not in (_parse(text, path).get("mcp_servers") or {}):
        raise ConfigError(f"{path}: no MCP server named {name!r}")
    header = re.compile(r"^\s*\[\s*mcp_servers\s*\.\s*(?:\"%s\"|'%s'|%s)\s*\]\s*(#.*)?$"
                        % ((re.escape(name),) * 3))
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        raise ConfigError(f"{path}: {name!r} is not written as a [mcp_servers.{name}] table; "
                          "edit the file by hand")
    end = start + 1
    while end < len(lines) and not re.match(r"^\s*\[", lines[end]):
        end += 1
    # Sub-tables ([mcp_servers.NAME.env]) belong to it too.
    sub = re.compile(r"^\s*\[\s*mcp_servers\s*\.\s*[\"']?%s[\"']?\s*\." % re.escape(name))
    while end < len(lines) and sub.match(lines[end]):
        end += 1
        while end < len(lines) and not re.match(r"^\s*\[", lines[end]):
            end += 1
    new = "".join(lines[:start] + lines[end:])
    if name in (_parse(new, path).get("mcp_servers") or {}):
        raise ConfigError(f"{path}: {name!r} is also set elsewhere in the file; edit it by hand")
    _write(path, new)
    out.write(f"removed MCP server {name!r} from {path}\n")
    return EXIT_OK


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    from realcost_agent.agent.config import ConfigError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} takes KEY=VALUE, not {item!r}")
        out[key] = value
    return out


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _read(path: Path) -> dict[str, Any]:
    try:
        return _parse(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        return {}


def _parse(text: str, path: Path) -> dict[str, Any]:
    from realcost_agent.agent.config import ConfigError

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; nothing was changed") from None


def _write(path: Path, text: str) -> None:
    """Checked, then written whole (a crash leaves the old file or the new one)."""
    _parse(text, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
