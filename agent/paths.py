"""Where the agent keeps its own files (never inside the user's repository)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("AGENT_DATA_HOME"):
        return Path(env["AGENT_DATA_HOME"])
    import platformdirs

    return Path(platformdirs.user_data_dir("agent"))
