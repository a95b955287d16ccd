"""The wheel installs one top-level package, realcost_agent, and works from it alone.

Built for real (pip wheel, isolated build: setuptools comes from the package registry or pip's
cache), unpacked beside another distribution's generic top-level `tools` package, and run.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# Its module-scoped fixture is set up once: `--dist loadgroup` keeps these tests on one worker.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and ("connection" in r.stderr.lower() or "network" in r.stderr.lower()):
        pytest.skip(f"cannot fetch the build backend from the registry: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = out.glob("realcost_agent-*.whl")
    return whl


def test_the_wheel_has_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"realcost_agent"}
    for expected in ("realcost_agent/agent/session.py", "realcost_agent/tools/registry.py",
                     "realcost_agent/providers/catalogue.py", "realcost_agent/tui/app.py",
                     "realcost_agent/cli/main.py", "realcost_agent/tui/app.tcss"):
        assert expected in names, expected
    (entry,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "agent = realcost_agent.cli.main:entry" in zipfile.ZipFile(wheel).read(entry).decode()
    # nothing from the repository's tests, benches or examples rides along
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", "examples", "tools", "agent")]


def test_the_unpacked_wheel_runs_beside_another_generic_tools_package(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # what another distribution would install: a top-level `tools` and `agent` of its own
    for name in ("tools", "agent"):
        (site / name).mkdir()
        (site / name / "__init__.py").write_text("raise ImportError('the other distribution')\n")
    code = ("import realcost_agent.cli.main as m, realcost_agent.tools.registry as r\n"
            "print(m.__file__); print(r.__file__)\n"
            "m.main(['--version'])\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    first, second, version = r.stdout.splitlines()[:3]
    assert first.startswith(str(site)) and second.startswith(str(site))
    assert version.startswith("agent ")
