"""Fixtures for the repo map tests: a small multi-language repository written to a temp dir."""
from __future__ import annotations

from pathlib import Path

import pytest

# One central module everything uses, plus one leaf per language defining a symbol few files
# reference: a task naming that symbol must put the leaf first, above the central module.
FIXTURE = {
    "app/core.py": '''
class Engine:
    """The hub: every module uses it."""
    def run(self, job):
        return job

    def stop(self):
        pass


def make_engine():
    return Engine()
''',
    "app/jobs.py": '''
from app.core import Engine, make_engine


class Job:
    def execute(self, engine: Engine):
        return engine.run(self)


def schedule(job):
    make_engine().run(job)
''',
    "app/reports.py": '''
from app.core import Engine, make_engine
from app.billing import compute_invoice_total


def monthly_report(rows):
    engine = make_engine()
    engine.run(rows)
    return compute_invoice_total(rows)
''',
    "app/billing.py": '''
from app.core import make_engine

TAX_RATE = 20


def compute_invoice_total(rows):
    make_engine()
    return sum(r.amount for r in rows)


def _round(x):
    return round(x, 2)
''',
    "app/cli.py": '''
from app.core import Engine, make_engine
from app.jobs import Job, schedule


def main():
    engine = make_engine()
    engine.run(Job())
    schedule(Job())
''',
    "web/src/api.ts": '''
import { Engine } from "./engine";

export interface RequestOptions { timeout: number; }

export function fetchWidgets(opts: RequestOptions): Promise<Widget[]> {
  return new Engine().send(opts);
}

export class Widget { constructor(public id: string) {} }
''',
    "web/src/engine.ts": '''
export class Engine {
  send(opts: object): any { return opts; }
}
''',
    "web/src/view.js": '''
import { fetchWidgets } from "./api";

export function renderWidgetList(el) {
  return fetchWidgets({ timeout: 5 }).then((ws) => draw(el, ws));
}

function draw(el, ws) { el.textContent = ws.length; }
''',
    "server/config.go": '''package server

type Config struct {
	Port int
}

func ParseConfig(path string) (*Config, error) {
	return &Config{Port: 8080}, nil
}
''',
    "server/main.go": '''package server

func Serve() error {
	cfg, err := ParseConfig("x")
	if err != nil {
		return err
	}
	return listen(cfg)
}

func listen(c *Config) error { return nil }
''',
    "native/src/lib.rs": '''
pub struct Checksum { value: u32 }

impl Checksum {
    pub fn new() -> Self { Checksum { value: 0 } }
    pub fn feed(&mut self, data: &[u8]) { self.value = crc_update(self.value, data); }
}

pub fn crc_update(seed: u32, data: &[u8]) -> u32 { seed ^ data.len() as u32 }
''',
    "java/src/Ledger.java": '''
package ledger;

public class Ledger {
    public long balanceAfterFees(long amount) { return amount - FeeTable.feeFor(amount); }
}
''',
    "java/src/FeeTable.java": '''
package ledger;

public class FeeTable {
    public static long feeFor(long amount) { return amount / 100; }
}
''',
    "csrc/ring.c": '''
#include "ring.h"

struct ring_buffer { int head; int tail; };

int ring_push(struct ring_buffer *rb, int value) {
    rb->head++;
    return value;
}
''',
    "csrc/ring.h": '''
struct ring_buffer;
int ring_push(struct ring_buffer *rb, int value);
''',
    "cpp/matrix.cpp": '''
namespace linalg {
class Matrix {
 public:
  Matrix transpose() const;
  double determinant() const { return 0.0; }
};
Matrix Matrix::transpose() const { return *this; }
}
''',
    "README.md": "# fixture\n",
}


def write_repo(root: Path, files: dict[str, str] = FIXTURE) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text.lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
