// The player: wires the video element to its controls. Logic lives in timeline.js and time.js.
import { formatTime } from "./time.js";
import { progressRatio, seekTimeFromClick, seekTimeFromKey } from "./timeline.js";

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

render();
