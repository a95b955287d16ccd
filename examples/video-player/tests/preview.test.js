// The timeline preview feature's logic (the task in TASK.md). It lives in src/preview.js, a
// module without DOM access so it runs under Node; src/player.js uses it for the hover preview.
//
// Contract:
//   PREVIEW_WIDTH = 160, PREVIEW_HEIGHT = 90 (px), FADE_MS = 200
//   pointerClientX(event)                      mouse or touch event -> clientX, or null
//   hoverTime(clientX, rect, duration)         seconds under the pointer, clamped to the video;
//                                              null while the duration is unknown (loading)
//   previewLeft(clientX, rect, viewportWidth, width = PREVIEW_WIDTH)
//                                              left edge (viewport px) centred on the pointer,
//                                              kept inside the viewport
//   previewTop(rect, height = PREVIEW_HEIGHT, gap = 8)
//                                              top edge: always ABOVE the timeline
//   tooltipText(seconds)                       the time label, formatted like the player's
//   thumbnailTime(seconds, interval = 1)       the frame time a thumbnail is cached under
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  FADE_MS, PREVIEW_HEIGHT, PREVIEW_WIDTH, hoverTime, pointerClientX, previewLeft, previewTop,
  thumbnailTime, tooltipText,
} from "../src/preview.js";

const rect = { left: 100, top: 500, width: 600, height: 8 };

test("the preview is 160x90 and fades in 200ms", () => {
  assert.equal(PREVIEW_WIDTH, 160);
  assert.equal(PREVIEW_HEIGHT, 90);
  assert.equal(FADE_MS, 200);
});

test("mouse and touch events give the pointer position", () => {
  assert.equal(pointerClientX({ clientX: 42 }), 42);
  assert.equal(pointerClientX({ touches: [{ clientX: 17 }], changedTouches: [] }), 17);
  assert.equal(pointerClientX({ touches: [], changedTouches: [{ clientX: 9 }] }), 9);
  assert.equal(pointerClientX({ touches: [], changedTouches: [] }), null);
});

test("hover time maps the pointer to the video's timestamp precisely", () => {
  assert.equal(hoverTime(400, rect, 120), 60);
  assert.equal(hoverTime(100, rect, 120), 0);
  assert.equal(hoverTime(700, rect, 120), 120);
  assert.equal(hoverTime(250, rect, 3600), 900);
});

test("hover time is clamped outside the timeline and unknown while loading", () => {
  assert.equal(hoverTime(20, rect, 120), 0);
  assert.equal(hoverTime(5000, rect, 120), 120);
  assert.equal(hoverTime(400, rect, NaN), null);
  assert.equal(hoverTime(400, rect, 0), null);
  assert.equal(hoverTime(400, rect, Infinity), null);
  assert.equal(hoverTime(400, { ...rect, width: 0 }, 120), null);
});

test("the preview follows the cursor, centred, inside the viewport", () => {
  assert.equal(previewLeft(400, rect, 1200), 320);
  assert.equal(previewLeft(30, rect, 1200), 0);
  assert.equal(previewLeft(1190, rect, 1200), 1040);
  assert.equal(previewLeft(400, rect, 1200, 200), 300);
  assert.equal(previewLeft(50, rect, 120), 0); // a viewport narrower than the preview
});

test("the preview sits above the timeline, never below it", () => {
  assert.equal(previewTop(rect), 402);
  assert.equal(previewTop(rect, 90, 12), 398);
  for (const top of [0, 40, 95, 500]) {
    const t = previewTop({ ...rect, top });
    assert.ok(t + PREVIEW_HEIGHT < top, `preview at ${t} overlaps a timeline at ${top}`);
  }
});

test("the tooltip shows the time like the player does", () => {
  assert.equal(tooltipText(0), "0:00");
  assert.equal(tooltipText(65.4), "1:05");
  assert.equal(tooltipText(3723), "1:02:03");
});

test("thumbnails are cached per interval", () => {
  assert.equal(thumbnailTime(12.7), 12);
  assert.equal(thumbnailTime(12.7, 5), 10);
  assert.equal(thumbnailTime(-3), 0);
});

test("the player uses the preview module", () => {
  const player = readFileSync(new URL("../src/player.js", import.meta.url), "utf8");
  assert.match(player, /from\s+["']\.\/preview\.js["']/, "src/player.js does not import ./preview.js");
});
