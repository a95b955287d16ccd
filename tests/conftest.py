"""Shared test setup: tests/ on sys.path (for `from fakeserver import ...`) and the fake server."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# litellm must never fetch its price map from the network in tests.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakeserver import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def fake_server():
    """A started FakeOpenAIServer on 127.0.0.1 (random port); stopped after the test."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


# -- order: longest first ---------------------------------------------------------------------
# Workers take the next test as they finish one (`--dist loadgroup`, the Makefile), so starting
# the long end-to-end runs first and ending on the many short ones keeps both cores busy to the
# end: run in file order, one 50 s test picked up last left every other worker idle behind it.
# tests/durations.json (written by `make durations`, see tests/durations.py) gives the order only;
# tests not in it keep their file order, after the slow ones.
#
# In-process tests through litellm share one worker (`xdist_group`): importing litellm costs
# about 3.5 s of CPU, paid once there instead of once per worker.
LITELLM_IN_PROCESS = ("tests/integration/providers/", "tests/adversarial/test_model_output.py",
                      "tests/unit/providers/")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    import json

    if not hasattr(config, "workerinput"):
        return  # one process: file order, so module-scoped fixtures are set up once
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.nodeid.startswith(LITELLM_IN_PROCESS) and "litellm" in params.values():
            item.add_marker(pytest.mark.xdist_group("litellm"))
    try:
        seconds = json.loads((Path(__file__).with_name("durations.json")).read_text())
    except (OSError, ValueError):
        return
    if isinstance(seconds, dict):
        items.sort(key=lambda item: -float(seconds.get(item.nodeid, 0)))  # stable


# -- end-of-run figures (tests/figures.py): attacks per class, fault injection, kill -9 ----------
ATTACK_CLASSES = ("key_theft", "code_execution", "self_modification", "data_loss", "secrets",
                  "limits")
_ATTACKS: dict[str, list[int]] = {}  # class -> [tried, held]
_FAULTS: list[dict] = []
_KILLS: list[dict] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    from figures import take_figures

    outcome = yield
    report = outcome.get_result()
    # A case's figures go out with its call report (or its setup report when setup failed).
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for kind, value in take_figures(item):
            report.user_properties.append((f"figure:{kind}", value))


def pytest_runtest_logreport(report) -> None:  # noqa: ANN001 - runs where the summary prints
    for name, value in report.user_properties:
        if name == "figure:attack":
            tried_held = _ATTACKS.setdefault(value, [0, 0])
            tried_held[0] += 1
            tried_held[1] += int(report.passed)
        elif name == "figure:fault":
            _FAULTS.append(value)
        elif name == "figure:kill":
            _KILLS.append(value)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    tr = terminalreporter
    if _KILLS:
        bad = [r for r in _KILLS if r["problems"]]
        tr.write_sep("-", "kill -9 and resume")
        tr.write_line(
            f"kill -9: {len(_KILLS)} kills at random points, {sum(r['resumed'] for r in _KILLS)} "
            f"resumed (the rest died before the session started), {len(bad)} lost messages, "
            "corrupted files or double-counted the ledger")
        for r in bad[:10]:
            tr.write_line(f"  LOST seed {r['seed']}: {'; '.join(r['problems'])}")
    if _FAULTS:
        kinds = sorted({r["kind"] for r in _FAULTS})
        lost = [r for r in _FAULTS if r["lost"]]
        retries = sum(r["retries"] for r in _FAULTS)
        tr.write_sep("-", "fault injection")
        tr.write_line(
            f"fault injection: {len(_FAULTS)} runs, {len(kinds)} fault kinds, {len(_FAULTS)} "
            f"faults injected, {len(_FAULTS) - len(lost)} survived with every invariant, "
            f"{len(lost)} lost something; {retries} provider retries on the fake clock")
        for r in lost[:10]:
            tr.write_line(f"  LOST {r['kind']} seed {r['seed']}: {'; '.join(r['lost'])}")
    if _ATTACKS:
        tr.write_sep("-", "attacks held per class")
        for cls in ATTACK_CLASSES:
            if cls in _ATTACKS:
                tried, held = _ATTACKS[cls]
                tr.write_line(f"{cls:18} tried {tried:4}  held {held:4}  broke {tried - held:4}")
        tried = sum(t for t, _ in _ATTACKS.values())
        held = sum(h for _, h in _ATTACKS.values())
        tr.write_line(f"{'total':18} tried {tried:4}  held {held:4}  broke {tried - held:4}")
