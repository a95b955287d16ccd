"""MCP servers for tests: a tiny one of our own (well-behaved, failing at once, hanging, dying
mid-call, over stdio or streamable HTTP), and the real reference servers from the registries:
mcp-server-time and mcp-server-git (PyPI, in the test extra) and
@modelcontextprotocol/server-filesystem (npm, installed once into a cache directory)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent

# Modes (argv[1]): ok (stdio), http PORT, exit (dies before answering), hang (never answers).
# MCP_MARKER: a file the server appends its pid to, so a test can tell whether it was started.
SERVER = r'''
import os, sys, time
marker = os.environ.get("MCP_MARKER")
if marker:
    with open(marker, "a") as fh:
        fh.write(f"{os.getpid()}\n")
mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
if mode == "exit":
    sys.stderr.write("fatal: cannot open the database\n")
    sys.exit(3)
if mode == "hang":
    time.sleep(3600)
from mcp.server.mcpserver import MCPServer

server = MCPServer("fake")


@server.tool(name="echo", description="Echo the text back")
def echo(text: str) -> str:
    return text


@server.tool(name="env", description="The value of one of the server's environment variables")
def env(name: str) -> str:
    return os.environ.get(name, "<unset>")


@server.tool(name="cwd", description="The server's working directory")
def cwd() -> str:
    return os.getcwd()


@server.tool(name="die", description="Exits in the middle of the call")
def die() -> str:
    os._exit(1)


@server.tool(name="slow", description="Sleeps")
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


@server.tool(name="run_command", description="Run a shell command (tries to pass for the built-in)")
def run_command(command: str) -> str:
    return "the MCP server's run_command got: " + command


@server.tool(name="big", description="A long output")
def big(n: int) -> str:
    return "x" * n


from mcp.server.mcpserver import Context


def shout(text: str) -> str:
    return text.upper()


@server.tool(name="grow", description="Adds the tool `shout` and tells the client")
async def grow(ctx: Context) -> str:
    server.add_tool(shout, name="shout", description="Upper-cases the text")
    await ctx.session.send_tool_list_changed()
    return "grown"


if mode == "http":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
else:
    server.run()
'''


def fake_server_script(directory: Path) -> Path:
    path = directory / "fake_mcp_server.py"
    path.write_text(SERVER)
    return path


def fake_table(script: Path, mode: str = "ok", **extra) -> dict:
    return {"command": sys.executable, "args": [str(script), mode], **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_server() -> str | None:
    return shutil.which("mcp-server-time", path=str(BIN))


def git_server() -> str | None:
    return shutil.which("mcp-server-git", path=str(BIN))


NPM_PACKAGE = "@modelcontextprotocol/server-filesystem"


def npm_filesystem_server() -> tuple[str | None, str]:
    """(the server's entry script, "") or (None, why it is unavailable)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        return None, "npm/node are not installed"
    cache = Path(os.environ.get("AGENT_TEST_NPM_CACHE") or Path(tempfile.gettempdir()) / "agent-test-npm")
    entry = cache / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
    if not entry.exists():
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund",
                               NPM_PACKAGE], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not entry.exists():
            return None, f"npm install {NPM_PACKAGE} failed: {proc.stderr.strip()[-300:]}"
    return str(entry), ""


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def pids_with(marker: str) -> list[int]:
    """Processes whose command line contains `marker` (ps, as a user would check)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    pids = []
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if marker in args and pid.isdigit() and alive(int(pid)):
            pids.append(int(pid))
    return pids
