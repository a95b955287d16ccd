"""Per-language extraction: each grammar yields the definitions and references we expect."""
from __future__ import annotations

import pytest

from realcost_agent.tools.repomap.languages import language_of
from realcost_agent.tools.repomap.tags import extract

CASES = {
    "a.py": (
        b'''
import os
from .base import Base, helper as h
MAX_SIZE = 10
class Shape(Base):
    def area(self) -> float:
        def local():
            pass
        return helper(self.r)
async def run(x: Shape) -> None:
    await Shape().area()
''',
        {("constant", "MAX_SIZE"), ("class", "Shape"), ("function", "area"), ("function", "run")},
        {"Base", "Shape", "helper", "area"},
    ),
    "a.js": (
        b'''
export function makeWidget(opts) { return new Widget(opts); }
class Widget extends Base {
  render(el) { return helper(el).draw(); }
}
const shout = (s) => s.toUpperCase();
module.exports.compute = function (x) { return makeWidget(x); };
''',
        {("function", "makeWidget"), ("class", "Widget"), ("method", "render"),
         ("function", "shout"), ("function", "compute")},
        {"Widget", "Base", "helper", "draw", "makeWidget"},
    ),
    "a.ts": (
        b'''
export interface Shape { area(): number; }
export type Point = { x: number; y: number };
enum Color { Red, Green }
export class Circle implements Shape {
  area(): number { return 1; }
}
export function makeCircle(p: Point): Circle { return new Circle(); }
''',
        {("interface", "Shape"), ("method", "area"), ("type", "Point"), ("enum", "Color"),
         ("class", "Circle"), ("function", "makeCircle")},
        {"Shape", "Point", "Circle"},
    ),
    "a.tsx": (
        b'''
export const App = () => <Panel title="x" />;
function Panel(props: PanelProps) { return null; }
''',
        {("function", "App"), ("function", "Panel")},
        {"Panel", "PanelProps"},
    ),
    "a.go": (
        b'''package shapes

const Pi = 3.14

type Shape interface {
	Area() float64
}

type Circle struct{ R float64 }

func (c *Circle) Area() float64 { return Pi * c.R * c.R }

func NewCircle(r float64) *Circle { return &Circle{R: r} }
''',
        {("constant", "Pi"), ("type", "Shape"), ("method", "Area"), ("type", "Circle"),
         ("function", "NewCircle")},
        {"Circle"},
    ),
    "a.rs": (
        b'''
pub struct Circle { r: f64 }
pub enum Shape { C(Circle) }
pub trait Area { fn area(&self) -> f64; }
impl Area for Circle {
    fn area(&self) -> f64 { helper(self.r) }
}
fn helper(x: f64) -> f64 { let c = Circle::new(x); x }
macro_rules! square { ($x:expr) => { $x * $x }; }
type Alias = Vec<Circle>;
''',
        {("struct", "Circle"), ("enum", "Shape"), ("trait", "Area"), ("function", "area"),
         ("function", "helper"), ("macro", "square"), ("type", "Alias"), ("impl", "Circle")},
        {"Circle", "Area", "helper", "new"},
    ),
    "A.java": (
        b'''
package p;
public class Shapes extends Base implements Area {
    public double area(Circle c) { return helper(c) + c.radius(); }
    interface Inner { void go(); }
    enum Kind { A, B }
}
''',
        {("class", "Shapes"), ("method", "area"), ("interface", "Inner"), ("method", "go"),
         ("enum", "Kind")},
        {"Base", "Area", "Circle", "helper", "radius"},
    ),
    "a.c": (
        b'''
#define SQUARE(x) ((x)*(x))
typedef struct point { int x; } point_t;
struct circle { point_t c; double r; };
char *name_of(const struct circle *c) { return "c"; }
double area(struct circle *c) { return SQUARE(c->r) + helper(c); }
''',
        {("macro", "SQUARE"), ("type", "point_t"), ("struct", "circle"), ("function", "name_of"),
         ("function", "area")},
        {"SQUARE", "helper", "point_t", "circle"},
    ),
    "a.cpp": (
        b'''
namespace geo {
class Shape { public: virtual double area() const = 0; };
struct Circle : public Shape { double area() const override { return helper(1); } };
double Shape::perimeter() { return 0; }
using Radius = double;
}
''',
        {("namespace", "geo"), ("class", "Shape"), ("function", "area"), ("struct", "Circle"),
         ("function", "perimeter"), ("type", "Radius")},
        {"Shape", "helper"},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_language_extracts_expected_definitions_and_references(name):
    source, want_defs, want_refs = CASES[name]
    tags = extract(source, language_of(name))
    got_defs = {(d.kind, d.name) for d in tags.defs}
    assert want_defs <= got_defs, f"missing {want_defs - got_defs}"
    got_refs = {r[0] for r in tags.refs}
    assert want_refs <= got_refs, f"missing {want_refs - got_refs}"


def test_every_language_has_a_case():
    from realcost_agent.tools.repomap.languages import EXTENSIONS

    covered = {language_of(name) for name in CASES}
    assert covered == set(EXTENSIONS.values())


def test_local_functions_are_not_definitions():
    tags = extract(CASES["a.py"][0], "python")
    assert "local" not in {d.name for d in tags.defs}


def test_depth_records_nesting():
    tags = extract(CASES["a.py"][0], "python")
    depth = {d.name: d.depth for d in tags.defs}
    assert depth["Shape"] == 0 and depth["area"] == 1 and depth["run"] == 0


def test_signature_is_one_line_up_to_the_body():
    src = b'def f(\n    a,\n    b=1,\n) -> int:  # why\n    # comment\n    return a\n'
    (d,) = extract(src, "python").defs
    assert d.signature == "def f( a, b=1, ) -> int"
    assert (d.line, d.end_line) == (1, 6)


def test_go_and_js_signatures_keep_their_declaration_keyword():
    go = extract(b"package p\n\ntype T struct {\n\tA int\n}\n", "go").defs
    assert go[0].signature == "type T struct"
    js = extract(b"const f = (a, b) => {\n  return a;\n};\n", "javascript").defs
    assert js[0].signature == "const f = (a, b)"


def test_builtins_are_not_references():
    src = b'class A(B):\n    def f(self):\n        super().f()\n        len(x)\n        ", ".join(y)\n        return mine(z)\n'
    refs = {r[0] for r in extract(src, "python").refs}
    assert refs == {"B", "f", "mine"}


def test_plain_and_member_references_are_counted_apart():
    src = b"helper(1)\nhelper(2)\nobj.helper(3)\n"
    assert extract(src, "python").refs == (("helper", 2, 1),)


def test_tags_are_sorted_and_plain_tuples_compare_equal():
    tags = extract(CASES["a.rs"][0], "rust")
    assert list(tags.defs) == sorted(tags.defs, key=lambda d: (d.line, d.name, d.kind))
    assert [tuple(d) for d in tags.defs] == list(tags.defs)
    assert list(tags.refs) == sorted(tags.refs)
