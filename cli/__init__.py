"""The command-line front-ends: `agent` (main), headless `-p`/`exec`, compare, run, doctor, report,
undo, trust. Each is a consumer of the core (realcost_agent.agent): it submits ops and folds events.
Nothing in the core or the TUI imports this package, so the package graph has no cycle.
"""
