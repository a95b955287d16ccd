// The player's existing behaviour: these must keep passing whatever is added.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { formatTime } from "../src/time.js";
import { progressRatio, seekTimeFromClick, seekTimeFromKey } from "../src/timeline.js";

test("formatTime shows m:ss and h:mm:ss", () => {
  assert.equal(formatTime(0), "0:00");
  assert.equal(formatTime(65.9), "1:05");
  assert.equal(formatTime(3723), "1:02:03");
  assert.equal(formatTime(NaN), "0:00");
  assert.equal(formatTime(-4), "0:00");
});

test("progressRatio stays within 0..1 and is 0 while loading", () => {
  assert.equal(progressRatio(30, 120), 0.25);
  assert.equal(progressRatio(500, 120), 1);
  assert.equal(progressRatio(5, NaN), 0);
  assert.equal(progressRatio(5, Infinity), 0);
});

test("clicking the timeline seeks proportionally, clamped to the video", () => {
  const rect = { left: 100, width: 400 };
  assert.equal(seekTimeFromClick(300, rect, 80), 40);
  assert.equal(seekTimeFromClick(50, rect, 80), 0);
  assert.equal(seekTimeFromClick(900, rect, 80), 80);
  assert.equal(seekTimeFromClick(300, rect, NaN), null);
  assert.equal(seekTimeFromClick(300, { left: 0, width: 0 }, 80), null);
});

test("arrow keys, Home and End seek within the video", () => {
  assert.equal(seekTimeFromKey("ArrowRight", 10, 60), 15);
  assert.equal(seekTimeFromKey("ArrowLeft", 2, 60), 0);
  assert.equal(seekTimeFromKey("End", 2, 60), 60);
  assert.equal(seekTimeFromKey("Home", 30, 60), 0);
  assert.equal(seekTimeFromKey("a", 30, 60), null);
});

test("the page keeps every existing control", () => {
  const html = readFileSync(new URL("../index.html", import.meta.url), "utf8");
  for (const id of ["video", "play", "timeline", "played", "time", "mute", "volume", "fullscreen", "open"]) {
    assert.match(html, new RegExp(`id="${id}"`), `#${id} is missing from index.html`);
  }
  assert.match(html, /<script type="module" src="src\/player\.js"><\/script>/);
});
