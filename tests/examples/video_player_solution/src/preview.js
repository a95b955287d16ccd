// Timeline preview logic: pure functions, no DOM, so it runs under Node's test runner.
import { formatTime } from "./time.js";

export const PREVIEW_WIDTH = 160;
export const PREVIEW_HEIGHT = 90;
export const FADE_MS = 200;

/** clientX of a mouse or touch event (touchend only has changedTouches), or null. */
export function pointerClientX(event) {
  const touch = event.touches?.[0] ?? event.changedTouches?.[0];
  if (touch) return touch.clientX;
  return typeof event.clientX === "number" ? event.clientX : null;
}

/** Seconds under the pointer, clamped to the video; null while the duration is unknown. */
export function hoverTime(clientX, rect, duration) {
  if (!Number.isFinite(duration) || duration <= 0 || !(rect.width > 0)) return null;
  const ratio = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
  return ratio * duration;
}

/** Left edge of the preview, centred on the pointer and kept inside the viewport. */
export function previewLeft(clientX, rect, viewportWidth, width = PREVIEW_WIDTH) {
  const max = Math.max(0, viewportWidth - width);
  return Math.min(max, Math.max(0, clientX - width / 2));
}

/** Top edge of the preview: always above the timeline, `gap` px clear of it. */
export function previewTop(rect, height = PREVIEW_HEIGHT, gap = 8) {
  return rect.top - height - gap;
}

export function tooltipText(seconds) {
  return formatTime(seconds);
}

/** The frame time a thumbnail is cached under: one capture per interval. */
export function thumbnailTime(seconds, interval = 1) {
  if (!(seconds > 0)) return 0;
  return Math.floor(seconds / interval) * interval;
}
