"""Driving one turn of an in-process Session in tests: start it, send a prompt, collect every
event up to the turn's TurnFinished, close it."""
from __future__ import annotations

import asyncio
from typing import Any

from realcost_agent.agent import events as ev
from realcost_agent.agent.ops import UserInput


async def run_turn(session: Any, prompt: str = "go", timeout: float = 30, *,
                   until_idle: bool = False) -> list[ev.Event]:
    """`until_idle`: go on through turns that continue by themselves (a routed task escalating,
    a hook's follow-up) up to the last TurnFinished that does not."""
    await session.start()
    session.submit(UserInput(prompt))
    seen: list[ev.Event] = []

    async def collect() -> None:
        while True:
            event = await session.next_event()
            seen.append(event)
            if isinstance(event, ev.TurnFinished) and not (until_idle and event.continues):
                return

    try:
        await asyncio.wait_for(collect(), timeout)
    finally:
        await session.close()
    return seen


def of(events: list[ev.Event], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def finished(events: list[ev.Event]) -> ev.TurnFinished:
    return of(events, ev.TurnFinished)[0]
