"""`agent acp`: the core as an Agent Client Protocol agent over stdio (Zed, JetBrains, Toad).

A front-end like the TUI and headless: it submits ops and consumes the core's events, nothing
else. server.py speaks the protocol (official `agent-client-protocol` SDK), mapping.py turns
events into `session/update` payloads, mcp.py validates the MCP servers a client passes.
"""
