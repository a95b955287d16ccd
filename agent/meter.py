"""Prices and totals in one place: every model call is charged here, and the figures the
UsageUpdated event carries (the call's cost, the session's totals) come from here alone.

    meter.record(usage, model, turn_id=..., ...) -> cost | None
        checks the usage (agent/usagecheck.py), prices it (config [prices] over the catalogue;
        one Warning per unpriced model), adds it to the session's and the current task's totals
        and emits UsageUpdated.
    meter.total_cost / total_input / total_output / unpriced_calls
    meter.restore(records)   the totals of a resumed session, from its journaled usage events
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent.costs import price_with_overrides
from realcost_agent.agent.tasks import TaskTracker
from realcost_agent.agent.usagecheck import check_usage
from realcost_agent.providers.base import ResolvedModel, Usage
from realcost_agent.providers.prices import Price


class Meter:
    def __init__(self, prices: Mapping[str, Mapping[str, float]], tasks: TaskTracker,
                 emit: Callable[[ev.Event], None]) -> None:
        self._prices = prices
        self._tasks = tasks
        self._emit = emit
        self._warned: set[str] = set()
        # Sum of the calls whose price is known; `unpriced_calls` counts the others.
        self.total_cost = 0.0
        self.unpriced_calls = 0
        self.total_input = 0
        self.total_output = 0

    def price(self, model: ResolvedModel) -> Price | None:
        price = price_with_overrides(model, self._prices)
        if price is None and model.litellm_id not in self._warned:
            self._warned.add(model.litellm_id)
            self._emit(ev.Warning(
                f"no price known for {model.litellm_id}: its cost shows as unknown. "
                "Set one under [prices] in your config.toml (a project's .agent/config.toml "
                "needs trust for it)."
            ))
        return price

    def record(
        self, usage: Usage | None, model: ResolvedModel, *, turn_id: str, purpose: str = "turn",
        duration_ms: float, ttft_ms: float | None = None, ttft_text_ms: float | None = None,
        setup_ms: float | None = None, note: str | None = None, cost_unknown: bool = False,
    ) -> float | None:
        """Charge one model call and emit its UsageUpdated; the call's cost (None: unknown)."""
        usage, bad = check_usage(usage)
        if bad:
            self._emit(ev.Warning(f"{bad}; recorded as 0 tokens and an unknown cost"))
            note = bad if note is None else f"{note}; {bad}"
        # route: one "is this call local" predicate (providers/local.py); local calls priced by
        # wall time under [prices.local] (agent/costs.py)
        from realcost_agent.agent.costs import local_compute
        from realcost_agent.providers.local import is_local

        price = self.price(model)
        cost = None if price is None else price.cost(usage)
        if (bad or cost_unknown) and not is_local(model):
            cost = None
        cost, local = local_compute(cost, model, duration_ms, self._prices)
        self._add(usage, cost, model)
        self._emit(ev.UsageUpdated(
            turn_id=turn_id, model=model.label, litellm_id=model.litellm_id,
            backend=model.backend, input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens, cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost=cost, provider_cost=usage.provider_cost,
            ttft_ms=ttft_ms, ttft_text_ms=ttft_text_ms, duration_ms=duration_ms,
            setup_ms=setup_ms, usage_note=note,
            session_cost=self.total_cost, session_input_tokens=self.total_input,
            session_output_tokens=self.total_output, purpose=purpose,
            # A local server the user priced in [prices] is billed after all: not "local"
            # (priced by the hour under [prices.local], it stays local: agent/costs.py).
            local=local, estimated=usage.estimated,
        ))
        return cost

    def _add(self, usage: Usage, cost: float | None, model: ResolvedModel) -> None:
        self.total_input += usage.input_tokens
        self.total_output += usage.output_tokens
        task = self._tasks.current
        if task is not None:
            task.requests += 1
            task.input_tokens += usage.input_tokens
            task.output_tokens += usage.output_tokens
            if model.label not in task.models:
                task.models.append(model.label)
        if cost is None:
            self.unpriced_calls += 1
            if task is not None:
                task.unpriced_calls += 1
        else:
            self.total_cost += cost
            if task is not None:
                task.api_cost += cost

    def restore(self, records: Iterable[Mapping[str, Any]]) -> None:
        """The session totals of a resumed session: its journaled usage_updated events."""
        for record in records:
            if record.get("type") != "usage_updated":
                continue
            self.total_input += int(record.get("input_tokens", 0))
            self.total_output += int(record.get("output_tokens", 0))
            if record.get("cost") is None:
                self.unpriced_calls += 1
            else:
                self.total_cost += float(record["cost"])
