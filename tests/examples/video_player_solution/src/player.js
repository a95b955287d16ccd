// The player: wires the video element to its controls. Logic lives in timeline.js and time.js.
import { formatTime } from "./time.js";
import { progressRatio, seekTimeFromClick, seekTimeFromKey } from "./timeline.js";
import {
  FADE_MS, PREVIEW_HEIGHT, PREVIEW_WIDTH, hoverTime, pointerClientX, previewLeft, previewTop,
  thumbnailTime, tooltipText,
} from "./preview.js";

const video = document.getElementById("video");
const play = document.getElementById("play");
const timeline = document.getElementById("timeline");
const played = document.getElementById("played");
const time = document.getElementById("time");
const mute = document.getElementById("mute");
const volume = document.getElementById("volume");
const fullscreen = document.getElementById("fullscreen");
const open = document.getElementById("open");

function render() {
  played.style.width = `${progressRatio(video.currentTime, video.duration) * 100}%`;
  time.textContent = `${formatTime(video.currentTime)} / ${formatTime(video.duration)}`;
  play.textContent = video.paused ? "Play" : "Pause";
  play.setAttribute("aria-label", video.paused ? "Play" : "Pause");
  mute.textContent = video.muted || video.volume === 0 ? "Unmute" : "Mute";
  timeline.setAttribute("aria-valuenow", String(Math.round(video.currentTime)));
  timeline.setAttribute("aria-valuemax", String(Math.round(video.duration || 0)));
}

function togglePlay() {
  if (video.paused) video.play().catch(() => {});
  else video.pause();
}

play.addEventListener("click", togglePlay);
video.addEventListener("click", togglePlay);
for (const name of ["timeupdate", "play", "pause", "loadedmetadata", "durationchange", "volumechange"]) {
  video.addEventListener(name, render);
}

timeline.addEventListener("click", (event) => {
  const target = seekTimeFromClick(event.clientX, timeline.getBoundingClientRect(), video.duration);
  if (target !== null) video.currentTime = target;
});

timeline.addEventListener("keydown", (event) => {
  const target = seekTimeFromKey(event.key, video.currentTime, video.duration);
  if (target !== null) {
    event.preventDefault();
    video.currentTime = target;
  }
});

mute.addEventListener("click", () => {
  video.muted = !video.muted;
});
volume.addEventListener("input", () => {
  video.volume = Number(volume.value);
  video.muted = video.volume === 0;
});

fullscreen.addEventListener("click", () => {
  const player = document.getElementById("player");
  if (document.fullscreenElement) document.exitFullscreen();
  else player.requestFullscreen?.();
});

open.addEventListener("change", () => {
  const file = open.files?.[0];
  if (file) video.src = URL.createObjectURL(file);
});

// -- timeline hover preview ------------------------------------------------------------------
// A second, muted video seeks to the hovered time and is drawn into a canvas, so the main
// video's playback and seeking are never touched. Thumbnails are cached per second.
const preview = document.getElementById("preview");
const canvas = document.getElementById("preview-canvas");
const label = document.getElementById("preview-time");
const ctx = canvas.getContext("2d");
const grabber = document.createElement("video");
grabber.muted = true;
grabber.preload = "auto";
grabber.crossOrigin = "anonymous";
const cache = new Map();
let wanted = null;
let hideTimer = null;

function syncSource() {
  if (grabber.src !== video.currentSrc && video.currentSrc) {
    grabber.src = video.currentSrc;
    cache.clear();
  }
}

function draw(time) {
  const cached = cache.get(time);
  if (cached) {
    ctx.putImageData(cached, 0, 0);
    return;
  }
  if (grabber.readyState < 1) return; // not loaded yet: the label still shows
  wanted = time;
  grabber.currentTime = time;
}

grabber.addEventListener("seeked", () => {
  if (wanted === null) return;
  try {
    ctx.drawImage(grabber, 0, 0, PREVIEW_WIDTH, PREVIEW_HEIGHT);
    cache.set(wanted, ctx.getImageData(0, 0, PREVIEW_WIDTH, PREVIEW_HEIGHT));
  } catch (error) {
    // A cross-origin video without CORS taints the canvas: keep the time label only.
    console.warn("timeline preview: cannot capture frames from this video", error);
  }
});
grabber.addEventListener("error", () => cache.clear());

function showPreview(event) {
  const x = pointerClientX(event);
  const rect = timeline.getBoundingClientRect();
  const time = x === null ? null : hoverTime(x, rect, video.duration);
  if (time === null) return hidePreview(); // loading, or a live stream without a duration
  syncSource();
  clearTimeout(hideTimer);
  preview.hidden = false;
  preview.style.left = `${previewLeft(x, rect, document.documentElement.clientWidth)}px`;
  preview.style.top = `${previewTop(rect)}px`;
  label.textContent = tooltipText(time);
  requestAnimationFrame(() => preview.classList.add("visible"));
  draw(thumbnailTime(time));
}

function hidePreview() {
  preview.classList.remove("visible");
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { preview.hidden = true; }, FADE_MS);
}

timeline.addEventListener("mousemove", showPreview);
timeline.addEventListener("mouseleave", hidePreview);
timeline.addEventListener("touchstart", showPreview, { passive: true });
timeline.addEventListener("touchmove", showPreview, { passive: true });
timeline.addEventListener("touchend", hidePreview);
timeline.addEventListener("touchcancel", hidePreview);
video.addEventListener("emptied", () => cache.clear());

render();
