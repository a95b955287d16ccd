// Timeline (seek bar) logic, kept apart from the DOM so it can be tested under Node.

/**
 * Share of the video played, between 0 and 1 (0 while the duration is unknown).
 * @param {number} currentTime
 * @param {number} duration
 */
export function progressRatio(currentTime, duration) {
  if (!Number.isFinite(duration) || duration <= 0) return 0;
  return Math.min(1, Math.max(0, currentTime / duration));
}

/**
 * The time to seek to when the timeline is clicked at clientX.
 * @param {number} clientX pointer position in viewport pixels
 * @param {{left: number, width: number}} rect the timeline's bounding box
 * @param {number} duration
 * @returns {number | null} seconds, or null when nothing can be sought yet
 */
export function seekTimeFromClick(clientX, rect, duration) {
  if (!Number.isFinite(duration) || duration <= 0 || rect.width <= 0) return null;
  const ratio = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
  return ratio * duration;
}

/**
 * Keyboard seeking: arrow keys move by `step` seconds, within the video.
 * @param {string} key
 * @param {number} currentTime
 * @param {number} duration
 * @param {number} [step]
 * @returns {number | null} the new time, or null for keys the timeline ignores
 */
export function seekTimeFromKey(key, currentTime, duration, step = 5) {
  if (!Number.isFinite(duration) || duration <= 0) return null;
  if (key === "ArrowRight") return Math.min(duration, currentTime + step);
  if (key === "ArrowLeft") return Math.max(0, currentTime - step);
  if (key === "Home") return 0;
  if (key === "End") return duration;
  return null;
}
