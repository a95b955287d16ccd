"""The TUI shows each MCP server's state (from McpServerStatus events only): the status bar's
MCP part while they start, a line when one is ready, a warning when one fails."""
from __future__ import annotations

import sys
from pathlib import Path

from mcpfakes import fake_server_script
from pilot_helpers import make_app, ready, screen_text, wait_for
from realcost_agent.providers.scripted import text


async def test_tui_shows_mcp_server_states(repo: Path, tmp_path: Path) -> None:
    script = fake_server_script(tmp_path)
    servers = {"fake": {"command": sys.executable, "args": [str(script)], "startup_timeout_sec": 120},
               "broken": {"command": sys.executable, "args": [str(script), "exit"]}}
    app, _ = make_app(repo, [[text("ok")]], mcp_servers=servers)
    async with app.run_test(size=(140, 32)) as pilot:
        await ready(pilot)
        # The session idles (no prompt yet), so the servers start; the bar follows them.
        await wait_for(pilot, lambda: "MCP 1/2 (1 failed)" in screen_text(app), timeout=120,
                       what="both servers settled")
        # The conversation's lines are drawn on the next ticks.
        await wait_for(pilot, lambda: "MCP server fake ready: 8 tools" in screen_text(app),
                       timeout=30, what="the ready line")
        await wait_for(pilot, lambda: "MCP server 'broken' failed" in screen_text(app),
                       timeout=30, what="the failure warning")
