"""litellm takes seconds to import: only realcost_agent.providers.litellm_provider may import it, lazily."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_fast_path_modules_do_not_import_litellm():
    r = run(
        "import realcost_agent.providers.factory, realcost_agent.providers.openai_compat, realcost_agent.providers.prices, "
        "realcost_agent.providers.catalogue, realcost_agent.providers.retry, realcost_agent.providers.scripted, realcost_agent.providers.litellm_provider, sys\n"
        "from realcost_agent.providers.catalogue import resolve_model\n"
        "from realcost_agent.providers.factory import make_provider\n"
        "from realcost_agent.providers.prices import price_for\n"
        "assert price_for('o4-mini') is not None\n"
        "make_provider(resolve_model('gpt-oss-20b', env={}))\n"
        "make_provider(resolve_model('anthropic/claude-x', env={}))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'openai', 'tiktoken'))\n"
        "assert not bad, bad\n"
    )
    assert r.returncode == 0, r.stderr


def test_only_litellm_provider_mentions_import_litellm():
    for path in (ROOT / "providers").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        uses = [n for n in names if n.split(".")[0] == "litellm"]
        if path.name == "litellm_provider.py":
            top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            assert not any(getattr(n, "module", None) == "litellm" or
                           any(a.name == "litellm" for a in n.names) for n in top)
        else:
            assert not uses, f"{path.name} imports litellm"
