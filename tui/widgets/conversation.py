"""The conversation view: user prompts, reasoning, streamed answers, tool cards and notices.

`Conversation.handle(event)` maps the core's events onto widgets; text deltas only queue and the
app calls `flush()` about 20 times a second, so a fast stream costs one layout per tick, not one
per token.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from realcost_agent.tui.stats import fmt_duration, plural

if TYPE_CHECKING:  # imported when the first answer arrives: markdown and diffs stay off the first paint
    from realcost_agent.agent import events as ev
    from realcost_agent.tui.widgets.stream import Reasoning, StreamingMarkdown
    from realcost_agent.tui.widgets.tool_card import ToolCard

REASONS = {
    "done": ("done", "dim"),
    "max_steps": ("stopped: step limit reached", "yellow"),
    "max_cost": ("stopped: cost limit reached", "yellow"),
    "max_time": ("stopped: time limit reached", "yellow"),
    "tool_errors": ("stopped: repeated invalid tool calls", "yellow"),
    "repeated_call": ("stopped: the model repeated the same call", "yellow"),
    "context_overflow": ("stopped: the conversation no longer fits the context window", "yellow"),
    "output_budget": ("stopped: the model used its whole output budget", "yellow"),
    "stream_timeout": ("stopped: the model's response timed out", "yellow"),
    "response_too_large": ("stopped: the model's response was too large (nothing run)", "yellow"),
    "interrupted": ("interrupted", "yellow"),
    "error": ("failed", "red"),
}


class Conversation(VerticalScroll, can_focus=True):
    """Everything said in the session, newest at the bottom; follows the end unless scrolled up."""

    def __init__(self, root: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.cards: dict[str, ToolCard] = {}
        self._answer: StreamingMarkdown | None = None
        self._reasoning: Reasoning | None = None
        self._live_cards: set[str] = set()
        self._checkpoint: ev.Event | None = None  # CheckpointCreated during the running turn

    # -- items ---------------------------------------------------------------------------------
    def add(self, widget: Widget) -> Widget:
        self.mount(widget)
        return widget

    def add_user(self, text: str) -> Static:
        return self.add(Static(Text(text), classes="user-message"))  # type: ignore[return-value]

    def notice(self, text: str, kind: str = "info") -> Static:
        return self.add(Static(Text(text), classes=f"notice -{kind}"))  # type: ignore[return-value]

    def on_key(self, event) -> None:  # noqa: ANN001 - textual.events.Key
        # Reading the conversation and starting to type goes straight to the prompt.
        prompt = self.app.prompt  # type: ignore[attr-defined]
        if event.is_printable and event.character:
            event.stop()
            prompt.focus()
            prompt.insert(event.character)
        elif event.key == "enter" and prompt.text.strip():
            # The rest of a quickly typed message that reached a focused card: Enter sends it
            # (a card's own Enter binding would toggle the card, or be lost once focus moved).
            event.stop()
            event.prevent_default()
            prompt.focus()
            prompt.submit()

    @property
    def streaming(self) -> bool:
        return self._answer is not None or self._reasoning is not None

    # -- events --------------------------------------------------------------------------------
    def handle(self, event: ev.Event) -> None:
        from realcost_agent.agent import events as ev
        from realcost_agent.tui.widgets.stream import Reasoning
        from realcost_agent.tui.widgets.tool_card import ToolCard

        if isinstance(event, ev.AssistantDelta):
            self._answer_stream().write(event.text)
        elif isinstance(event, ev.ReasoningDelta):
            if self._reasoning is None:
                self._reasoning = self.add(Reasoning())  # type: ignore[assignment]
            self._reasoning.stream.write(event.text)
        elif isinstance(event, ev.AssistantMessage):
            self._end_step(event)
        elif isinstance(event, ev.ToolCallStarted):
            self._end_reasoning()
            card = ToolCard(event, self.root)
            self.cards[event.call_id] = card
            self._live_cards.add(event.call_id)
            self.add(card)
        elif isinstance(event, ev.ToolOutputDelta):
            card = self.cards.get(event.call_id)
            if card is not None:
                card.append_output(event.text)
        elif isinstance(event, ev.ToolCallFinished):
            card = self.cards.get(event.call_id)
            if card is not None:
                card.finish(event)
                self._live_cards.discard(event.call_id)
        elif isinstance(event, ev.ApprovalRequested):
            card = self.cards.get(event.call_id)
            if card is not None:
                card.set_waiting(True, event.preview)
        elif isinstance(event, ev.TurnFinished):
            self._end_turn(event)
        elif isinstance(event, ev.Warning):
            self.notice(f"warning: {event.message}", "warning")
        elif isinstance(event, ev.Error):
            self.notice(f"error: {event.message}", "error")
        elif event.type == "compacted":
            self.notice(f"context compacted: {plural(event.folded_messages, 'older message')} summarized "  # type: ignore[attr-defined]
                        f"(~{event.before_tokens:,} → ~{event.after_tokens:,} tokens)", "info")  # type: ignore[attr-defined]
        elif event.type == "checkpoint_created":
            # Taken before any tool that may write, a command that only reads included: said
            # at the turn's end, and only when the turn changed files.
            self._checkpoint = event
        elif event.type == "checkpoint_restored":
            self._restored(event)
        elif event.type == "model_routed":
            e = event  # ModelRouted: routing chose (or the user pinned) the task's model
            verb = "escalated to" if getattr(e, "escalated", False) else "model"
            self.notice(f"{verb} {e.model} via {e.backend} · {e.reason}",  # type: ignore[attr-defined]
                        "warning" if getattr(e, "escalated", False) else "info")
        elif event.type in ("hand_over", "cache_discarded"):  # route: issue 16
            from realcost_agent.agent.autoroute import event_line

            self.notice(event_line(event) or "", "warning")
        elif event.type == "check_started":
            self.notice(f"check: {event.command} (attempt {event.attempt})…", "info")  # type: ignore[attr-defined]
        elif event.type == "check_finished":
            self._check_finished(event)

    def _check_finished(self, event: ev.Event) -> None:
        e = event  # CheckFinished
        seconds = f"{e.duration_ms / 1000:.1f}s"  # type: ignore[attr-defined]
        if e.passed:  # type: ignore[attr-defined]
            self.notice(f"check passed: {e.command} · {seconds}", "task")  # type: ignore[attr-defined]
            return
        code = "timed out" if e.exit_code is None else f"exit {e.exit_code}"  # type: ignore[attr-defined]
        tail = "\n".join(str(e.output_tail).rstrip().splitlines()[-6:])  # type: ignore[attr-defined]
        self.notice(f"check failed: {e.command} · {code} · {seconds}" + (f"\n{tail}" if tail else ""),  # type: ignore[attr-defined]
                    "error")

    def _restored(self, event: ev.Event) -> None:
        e = event  # CheckpointRestored: restored / deleted / created / skipped paths
        parts = [f"{len(e.restored)} restored", f"{len(e.deleted)} removed"]  # type: ignore[attr-defined]
        if e.skipped:  # type: ignore[attr-defined]
            parts.append(f"{len(e.skipped)} skipped (changed since): {', '.join(e.skipped)}")  # type: ignore[attr-defined]
        files = ", ".join([*e.restored, *e.deleted][:8])  # type: ignore[attr-defined]
        not_saved = tuple(getattr(e, "not_saved", ()))
        self.notice(f"undo: checkpoint {e.checkpoint_id} · {' · '.join(parts)}"  # type: ignore[attr-defined]
                    + (f" · {files}" if files else "")
                    + (f"\nnot in the checkpoint, left as they are: {', '.join(not_saved[:5])}"
                       + (f" (+{len(not_saved) - 5} more)" if len(not_saved) > 5 else "")
                       if not_saved else ""), "task")

    def show_history(self, messages: list[dict]) -> None:
        """A resumed conversation: prompts, answers and one line per tool call (no live state)."""
        from realcost_agent.tui.widgets.stream import StreamingMarkdown
        from realcost_agent.tui.widgets.tool_card import summarize_args

        for message in messages:
            role, content = message.get("role"), message.get("content")
            if role == "user" and isinstance(content, str):
                self.add_user(content)
            elif role == "assistant":
                if isinstance(content, str) and content.strip():
                    self.add(StreamingMarkdown(content, classes="answer"))
                for call in message.get("tool_calls") or []:
                    fn = call.get("function", {})
                    args: object = fn.get("arguments", "")
                    try:
                        import json

                        args = json.loads(str(args))
                    except ValueError:
                        pass
                    self.notice(f"▸ {fn.get('name', '?')}  {summarize_args(args)}", "info")

    def _answer_stream(self) -> StreamingMarkdown:
        from realcost_agent.tui.widgets.stream import StreamingMarkdown

        if self._answer is None:
            self._end_reasoning()
            self._answer = self.add(StreamingMarkdown(classes="answer"))  # type: ignore[assignment]
        return self._answer

    def _end_reasoning(self) -> None:
        if self._reasoning is not None:
            self._reasoning.finish()
            self._reasoning = None

    def _end_step(self, event: ev.AssistantMessage) -> None:
        """A model response is complete: show what never streamed, then settle the widgets."""
        from realcost_agent.tui.widgets.stream import Reasoning

        if event.reasoning and self._reasoning is None and not self._answer:
            block = self.add(Reasoning())
            block.stream.write(event.reasoning)  # type: ignore[attr-defined]
            self._reasoning = block  # type: ignore[assignment]
        if event.text and self._answer is None:
            self._answer_stream().write(event.text)
        self._end_reasoning()
        if self._answer is not None:
            self._answer.flush()
            self._answer = None

    def _end_turn(self, event: ev.TurnFinished) -> None:
        self._end_reasoning()
        if self._answer is not None:
            self._answer.flush()
            self._answer = None
        for call_id in list(self._live_cards):
            self.cards[call_id].set_waiting(False)
        self._live_cards.clear()
        label, style = REASONS.get(event.reason, (event.reason, "yellow"))
        parts = [label, plural(event.steps, "step"), fmt_duration(event.duration_ms)]
        if event.files_changed:
            parts.append("changed " + ", ".join(event.files_changed))
        if event.reason not in ("done", "interrupted", "error") and event.text:
            parts.append(event.text)
        self.add(Static(Text("─ " + " · ".join(parts), style=style), classes="turn-end"))
        if self._checkpoint is not None and event.files_changed:
            self.notice(f"checkpoint {self._checkpoint.checkpoint_id} saved before these changes · "  # type: ignore[attr-defined]
                        "/undo reverts them", "info")
        self._checkpoint = None

    def flush(self) -> None:
        """Push queued text and output into the widgets (the app's tick)."""
        if not self.is_anchored and self.max_scroll_y > 0:
            # Follow the end from the first overflow on (anchoring earlier would bottom-align a
            # short conversation); scrolling up releases it until the user returns to the end.
            self.anchor()
        if self._reasoning is not None:
            self._reasoning.stream.flush()
            chars = len(self._reasoning.stream.source)
            self._reasoning.title = f"Thinking… ({chars:,} chars)"
        if self._answer is not None:
            self._answer.flush()
        for call_id in self._live_cards:
            self.cards[call_id].flush()
