"""The session's figures, built only from the core's events (no access to the session itself).

Feeds the status bar, the cost report screen and the summary printed when the app exits. The
per-model table follows the seed review: first response time, completion time, single-prompt
success, tokens per request, cost per task, debug time, developer cost, real total, ranking.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent import events as ev


@dataclass
class ModelFigures:
    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    api_cost: float = 0.0
    unpriced: int = 0
    ttfts: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    # Filled from the tasks attributed to this model.
    tasks: int = 0
    done_tasks: int = 0
    single_prompt: int = 0
    followups: int = 0
    agent_ms: float = 0.0
    debug_ms: float = 0.0
    task_api_cost: float = 0.0
    real_cost: float = 0.0

    @property
    def first_response_ms(self) -> float | None:
        import statistics

        return statistics.median(self.ttfts) if self.ttfts else None

    @property
    def avg_input(self) -> float:
        return self.input_tokens / self.requests if self.requests else 0.0

    @property
    def avg_output(self) -> float:
        return self.output_tokens / self.requests if self.requests else 0.0

    @property
    def cost_per_task(self) -> float | None:
        return self.task_api_cost / self.tasks if self.tasks else None

    @property
    def developer_cost(self) -> float:
        return max(0.0, self.real_cost - self.task_api_cost)

    @property
    def real_per_task(self) -> float | None:
        return self.real_cost / self.tasks if self.tasks else None


class SessionStats:
    """Everything the TUI shows about usage and cost, folded from events as they arrive."""

    def __init__(self, hourly_rate: float = 35.0) -> None:
        self.hourly_rate = hourly_rate
        self.session_id = ""
        self.model = ""
        self.backend = ""
        self.input_tokens = 0
        self.output_tokens = 0
        self.api_cost = 0.0
        self.unpriced = 0
        self.requests = 0
        self.tasks: dict[int, Any] = {}  # task id -> its latest TaskUpdated
        self.current_task: int | None = None
        self._per_model: dict[str, ModelFigures] = {}
        self._task_models: dict[int, Counter[str]] = {}
        self._turn_task: dict[str, int] = {}

    def feed(self, event: ev.Event) -> None:
        from agent import events as ev  # not at import time: it is off the first paint

        if isinstance(event, ev.SessionStarted):
            self.session_id, self.model, self.backend = event.session_id, event.model, event.backend
        elif isinstance(event, ev.ModelSwitched) or event.type == "model_routed":
            self.model, self.backend = event.model, event.backend  # type: ignore[attr-defined]
        elif isinstance(event, ev.TurnStarted):
            self._turn_task[event.turn_id] = event.task_id
            self.current_task = event.task_id
            self._task_models.setdefault(event.task_id, Counter())[event.model] += 0
        elif isinstance(event, ev.UsageUpdated):
            self._usage(event)
        elif isinstance(event, ev.TaskUpdated):
            self.tasks[event.task_id] = event
            self.current_task = event.task_id

    def _usage(self, event: Any) -> None:
        self.requests += 1
        self.input_tokens = event.session_input_tokens
        self.output_tokens = event.session_output_tokens
        if event.session_cost is not None:
            self.api_cost = event.session_cost
        if event.cost is None:
            self.unpriced += 1
        figures = self._per_model.setdefault(event.model, ModelFigures(event.model))
        figures.requests += 1
        figures.input_tokens += event.input_tokens
        figures.output_tokens += event.output_tokens
        if event.cost is None:
            figures.unpriced += 1
        else:
            figures.api_cost += event.cost
        if getattr(event, "purpose", "turn") == "turn":  # compaction/failed calls: cost only
            if event.ttft_ms is not None:
                figures.ttfts.append(event.ttft_ms)
            figures.durations.append(event.duration_ms)
        task = self._turn_task.get(event.turn_id)
        if task is not None:
            self._task_models.setdefault(task, Counter())[event.model] += 1

    # -- derived -------------------------------------------------------------------------------
    @property
    def real_total(self) -> float:
        """API cost of every call plus each task's developer time at the hourly rate."""
        developer = sum(max(0.0, t.real_cost - t.api_cost) for t in self.tasks.values())
        return self.api_cost + developer

    @property
    def task(self) -> Any:  # the current task's latest TaskUpdated, or None
        return self.tasks.get(self.current_task) if self.current_task is not None else None

    def model_of_task(self, task_id: int) -> str | None:
        """The model that served most of the task's requests (a task can switch models)."""
        counts = self._task_models.get(task_id)
        if not counts:
            return None
        return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]

    def per_model(self) -> list[ModelFigures]:
        """Per-model figures, tasks attributed to their main model, best real cost per task first."""
        figures = {name: _copy_request_figures(f) for name, f in self._per_model.items()}
        for task in self.tasks.values():
            name = self.model_of_task(task.task_id)
            if name is None:
                continue
            f = figures.setdefault(name, ModelFigures(name))
            f.tasks += 1
            f.followups += task.followups
            f.agent_ms += task.agent_ms
            f.debug_ms += max(0.0, task.debug_ms + task.debug_correction_ms)
            f.task_api_cost += task.api_cost
            f.real_cost += task.real_cost
            if task.status == "done":
                f.done_tasks += 1
                f.single_prompt += task.followups == 0
        return sorted(figures.values(), key=lambda f: (f.real_per_task is None, f.real_per_task or 0.0, f.model))

    def summary_lines(self) -> list[str]:
        """The plain-text cost summary printed on the terminal when the app exits; each line
        fits 80 columns for the usual figures."""
        unpriced = f" (+{self.unpriced} unpriced calls)" if self.unpriced else ""
        lines = [
            f"agent session {self.session_id or '(not started)'} · {len(self.tasks)} task(s) · "
            f"{self.requests} request(s)",
            f"  tokens {fmt_tokens(self.input_tokens)} in / {fmt_tokens(self.output_tokens)} out · "
            f"API ${self.api_cost:.4f}{unpriced}",
            f"  real total ${self.real_total:.2f} (API + developer time at ${self.hourly_rate:g}/h)",
        ]
        for task in sorted(self.tasks.values(), key=lambda t: t.task_id):
            debug_ms = max(0.0, task.debug_ms + task.debug_correction_ms)
            model = self.model_of_task(task.task_id) or "-"
            lines.append(
                f"  task {task.task_id} [{task.status}] {model} · {plural(task.followups, 'follow-up')} · "
                f"agent {fmt_duration(task.agent_ms)} · debug {fmt_duration(debug_ms)}"
            )
            lines.append(f"      API ${task.api_cost:.4f} · real ${task.real_cost:.2f}")
        if self.session_id:
            lines.append(f"  details: agent report --session {self.session_id}")
        return lines


def _copy_request_figures(f: ModelFigures) -> ModelFigures:
    return ModelFigures(
        f.model, f.requests, f.input_tokens, f.output_tokens, f.api_cost, f.unpriced,
        list(f.ttfts), list(f.durations),
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def fmt_tokens(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


def fmt_duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    s = ms / 1000
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def fmt_cost(usd: float | None) -> str:
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if abs(usd) < 1:  # API costs are fractions of a cent to a few cents: keep them readable
        return f"${usd:.4f}"
    return f"${usd:.2f}"
