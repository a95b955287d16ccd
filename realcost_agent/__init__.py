"""realcost-agent: a terminal coding agent that tracks the real cost of every task.

The source folders live at the top of the repository (agent/, tools/, providers/, tui/) and are
installed under this one namespace: realcost_agent.agent, realcost_agent.tools, ...
"""
