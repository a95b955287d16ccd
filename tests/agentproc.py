"""Running the installed `agent` binary in a temp project against the fake server (tests only):
its config and data homes sit beside the project, API keys are removed from its environment."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

AGENT = shutil.which("agent", path=str(Path(sys.executable).parent)) or "agent"
PY = sys.executable


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    return root


def agent_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_TOKEN")) and not k.startswith("AGENT_")}
    env.update({
        "AGENT_CONFIG_HOME": str(root.parent / "cfg"),
        "AGENT_DATA_HOME": str(root.parent / "data"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    env.update(extra)
    return env


def run_agent(root: Path, *args: str, timeout: float = 180, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([AGENT, *args], cwd=root, env=agent_env(root, **extra),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def query(root: Path, sql: str, *args) -> list[sqlite3.Row]:
    conn = sqlite3.connect(root.parent / "data" / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def expected_cost(prices: dict[str, float], prompt: int, completion: int) -> float:
    """Per-million prices, no cached tokens: the arithmetic of realcost_agent.providers.prices.Price.cost."""
    return (prompt * prices["input"] + completion * prices["output"]) / 1e6
