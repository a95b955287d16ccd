"""Tasks in plain English steer the map: a word that is a file's stem names the file, and
consecutive words that spell an identifier name that definition."""
from __future__ import annotations

from pathlib import Path

import pytest

from realcost_agent.tools.repomap import RepoMap
from realcost_agent.tools.repomap.mentions import Index, find_mentions

# A small video app: generic hubs (index, utils, main) that everything imports, and the leaves
# a task about the timeline and thumbnails is really about.
VIDEO_APP = {
    "src/index.js": '''
import { VideoPlayer } from "./player/VideoPlayer";
import { formatTime, clamp } from "./utils";

export function mount(el) { return new VideoPlayer(el, formatTime(clamp(0, 0, 1))); }
''',
    "src/main.js": '''
import { mount } from "./index";
import { clamp } from "./utils";

export function start() { return mount(document.body, clamp(1, 0, 2)); }
''',
    "src/utils.js": '''
export function formatTime(seconds) { return `${Math.floor(seconds / 60)}:${seconds % 60}`; }
export function clamp(x, lo, hi) { return Math.min(hi, Math.max(lo, x)); }
''',
    "src/player/VideoPlayer.jsx": '''
import { createTimeline } from "./timeline";
import { formatTime, clamp } from "../utils";

export class VideoPlayer {
  constructor(el) { this.el = el; this.timeline = createTimeline(el); }
  play() { return formatTime(clamp(this.el.currentTime, 0, 1)); }
}
''',
    "src/player/timeline.js": '''
import { clamp, formatTime } from "../utils";

export function createTimeline(el) { return { el, position: 0 }; }
export function seekTo(timeline, t) { timeline.position = clamp(t, 0, 1); return formatTime(t); }
''',
    "src/player/ThumbnailPreview.jsx": '''
import { formatTime } from "../utils";

export function ThumbnailPreview(props) { return formatTime(props.time); }
export function frameAt(video, t) { return video.frames[t]; }
''',
    "src/player/controls.js": '''
import { formatTime, clamp } from "../utils";
import { seekTo } from "./timeline";

export function bindControls(player) { seekTo(player.timeline, clamp(0, 0, 1)); return formatTime(0); }
''',
    "src/api/videos.js": '''
import { clamp } from "../utils";

export function fetchVideo(id) { return fetch(`/videos/${clamp(id, 0, 9)}`); }
''',
    # A stem four files share says nothing about which one is meant.
    "a/views.py": "def a_view():\n    pass\n",
    "b/views.py": "def b_view():\n    pass\n",
    "c/views.py": "def c_view():\n    pass\n",
    "d/views.py": "def d_view():\n    pass\n",
    "a/fields.py": "def a_field():\n    pass\n",
    "b/fields.py": "def b_field():\n    pass\n",
    "c/fields.py": "def c_field():\n    pass\n",
    "d/fields.py": "def d_field():\n    pass\n",
    "e/field.py": "def e_field():\n    pass\n",
    "py/protocol.py": '''
class Box:
    def __getitem__(self, key):
        return key

    def setUp(self):
        pass


def parse_header(raw):
    return raw
''',
}


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text.lstrip("\n"), encoding="utf-8")
    return root


def _files(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith(" ")]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "app", VIDEO_APP)


def _index(root: Path, cache_dir: Path) -> Index:
    rm = RepoMap(root, cache_dir=cache_dir)
    rm.build(budget_tokens=64)
    assert rm._index is not None
    return rm._index


# -- a prose word naming a file ------------------------------------------------------------------

@pytest.mark.parametrize("task, first", [
    ("the ledger balance is off by one", "java/src/Ledger.java"),
    ("billing rounds the totals wrong", "app/billing.py"),
    ("the checksum of an empty input is not zero", "native/src/lib.rs"),  # via class Checksum
])
def test_a_prose_word_naming_a_file_or_class_ranks_it_first(repo, cache_dir, task, first):
    text = RepoMap(repo, cache_dir=cache_dir).build(task=task, budget_tokens=200)
    assert _files(text)[0] == first


def test_a_prose_stem_is_weaker_than_an_explicit_path(repo, cache_dir):
    index = _index(repo, cache_dir)
    m = find_mentions(index, "the ledger rounds differently from java/src/FeeTable.java")
    weights = m.personalization
    assert 0 < weights["java/src/Ledger.java"] < weights["java/src/FeeTable.java"]
    assert {"java/src/Ledger.java", "java/src/FeeTable.java"} <= set(m.pinned)


def test_prose_stems_find_the_task_s_files_among_generic_hubs(app, cache_dir):
    task = ("Implement video timeline scrubbing with dynamic thumbnail previews; "
            "do not break existing video functionality")
    text = RepoMap(app, cache_dir=cache_dir).build(task=task, budget_tokens=120)
    files = _files(text)
    assert files[0] == "src/player/ThumbnailPreview.jsx"  # file and definition both named
    assert "function ThumbnailPreview(props)" in text
    # utils.js may follow (both named files lean on it); the other hubs do not come before.
    assert "src/player/timeline.js" in files[:3]
    assert "src/index.js" not in files[:3] and "src/main.js" not in files[:3]


def test_generic_and_widely_shared_stems_name_no_file(app, cache_dir):
    index = _index(app, cache_dir)
    m = find_mentions(index, "the index page and the main utils are slow; views render twice")
    assert m.pinned == []
    assert not {"src/index.js", "src/main.js", "src/utils.js"} & set(m.personalization)
    assert not any(p.endswith("views.py") for p in m.personalization)


def test_a_widely_shared_plural_stem_does_not_fall_back_to_its_singular(app, cache_dir):
    # Four fields.py say nothing about which is meant; the one field.py is not meant either.
    m = find_mentions(_index(app, cache_dir), "detect renamed fields")
    assert m.pinned == [] and m.personalization == {}


def test_a_prose_stem_pins_every_file_sharing_it_up_to_the_cap(tmp_path, cache_dir):
    root = write_repo(tmp_path / "two", {"a/ledger.py": "def a():\n    pass\n",
                                         "b/ledger.py": "def b():\n    pass\n",
                                         "c/other.py": "def c():\n    pass\n"})
    m = find_mentions(_index(root, cache_dir), "the ledger is wrong")
    assert m.pinned == ["a/ledger.py", "b/ledger.py"]
    assert m.personalization["a/ledger.py"] == m.personalization["b/ledger.py"]


# -- consecutive prose words spelling an identifier --------------------------------------------

@pytest.mark.parametrize("task, first, line", [
    ("compute invoice total returns the wrong value", "app/billing.py",
     "def compute_invoice_total(rows)"),
    ("parse config ignores the port", "server/config.go", "func ParseConfig(path string)"),
    ("crc update overflows on long input", "native/src/lib.rs", "pub fn crc_update("),
    ("the render widget list shows nothing", "web/src/view.js", "function renderWidgetList(el)"),
    ("the balance after fees is negative", "java/src/Ledger.java", "balanceAfterFees"),
])
def test_prose_words_spelling_an_identifier_put_its_definition_first(
        repo, cache_dir, task, first, line):
    text = RepoMap(repo, cache_dir=cache_dir).build(task=task, budget_tokens=120)
    files = _files(text)
    assert files[0] == first
    section = text.split(files[1] + "\n")[0] if len(files) > 1 else text
    assert line in section


def test_a_prose_identifier_is_weaker_than_code(repo, cache_dir):
    index = _index(repo, cache_dir)
    prose = find_mentions(index, "crc update overflows")
    code = find_mentions(index, "`crc_update` overflows")
    assert 1.0 < prose.boosts["crc_update"] < code.boosts["crc_update"]
    assert prose.personalization["native/src/lib.rs"] < code.personalization["native/src/lib.rs"]


def test_plural_prose_still_names_the_definition(app, cache_dir):
    m = find_mentions(_index(app, cache_dir), "thumbnail previews flicker")
    assert m.boosts.get("ThumbnailPreview", 1.0) > 1.0
    assert "src/player/ThumbnailPreview.jsx" in m.pinned  # the file is named after it too


@pytest.mark.parametrize("task, name", [
    ("parse. Header values are wrong", "parse_header"),  # a sentence boundary splits the run
    ("parse the header", "parse_header"),  # so does a word in between
    ("get item from the box", "__getitem__"),  # dunders are protocol, not a prose target
    ("set up the box", "setUp"),  # "up" is a common word
])
def test_prose_windows_that_do_not_spell_an_identifier(app, cache_dir, task, name):
    m = find_mentions(_index(app, cache_dir), task)
    assert name not in m.boosts


def test_a_hyphenated_prose_pair_spells_an_identifier(app, cache_dir):
    m = find_mentions(_index(app, cache_dir), "the parse-header step fails")
    assert m.boosts.get("parse_header", 1.0) > 1.0


def test_prose_mentions_are_deterministic(app, cache_dir):
    task = "Implement video timeline scrubbing with dynamic thumbnail previews"
    index = _index(app, cache_dir)
    a, b = find_mentions(index, task), find_mentions(index, task)
    assert list(a.personalization.items()) == list(b.personalization.items())
    assert list(a.boosts.items()) == list(b.boosts.items())
    assert a.pinned == b.pinned
