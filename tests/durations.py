"""Record how long each slow test took, for the suite's longest-first order (tests/conftest.py).

    make durations        # runs the suite once with --junitxml, then writes tests/durations.json

or by hand: `python tests/durations.py report.xml > tests/durations.json`. Only tests of 0.5 s or
more are kept (about 15% of them, most of the suite's time); the rest keep their file order.
The figures are seconds on whatever machine recorded them: only their order is used, so a slower
or loaded machine changes nothing, and a stale or missing file only makes the run less even.
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

KEEP_FROM = 0.5  # seconds


def nodeid(case: ET.Element) -> str:
    """pytest's node id of a junit testcase: tests.a.test_b (classname) + name -> tests/a/test_b.py::name."""
    parts = (case.get("classname") or "").split(".")
    path, klass = [], []
    for i, part in enumerate(parts):
        path.append(part)
        if part.startswith("test_") or part == "conftest":
            klass = parts[i + 1:]
            break
    name = (case.get("name") or "").split("@")[0]  # without xdist's @group suffix
    return "::".join(["/".join(path) + ".py", *klass, name])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    times: dict[str, float] = {}
    for case in ET.parse(argv[0]).iter("testcase"):
        seconds = float(case.get("time") or 0)
        if seconds >= KEEP_FROM:
            times[nodeid(case)] = round(seconds, 1)
    json.dump(dict(sorted(times.items(), key=lambda kv: -kv[1])), sys.stdout, indent=0)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
