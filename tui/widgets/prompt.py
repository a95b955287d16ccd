"""The input area: multi-line prompt entry with history and slash-command completion.

Enter sends. A newline is Shift+Enter where the terminal reports it (kitty protocol terminals),
else Ctrl+J or Alt+Enter, which every terminal delivers, or a trailing backslash before Enter.
Up/Down walk the history when the cursor is on the first/last line. While a slash command is
being typed a list of completions shows above; Tab or Enter takes the highlighted one.
"""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from rich.text import Text
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from realcost_agent.tui.history import History

NEWLINE_KEYS = frozenset({"shift+enter", "ctrl+j", "alt+enter", "ctrl+enter"})


class PromptInput(TextArea):
    # The prompt is a few lines: paging moves through the conversation instead.
    BINDINGS = [
        Binding("pageup", "app.scroll_conversation(-1)", show=False),
        Binding("pagedown", "app.scroll_conversation(1)", show=False),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, history: History, **kwargs) -> None:
        super().__init__(
            soft_wrap=True, show_line_numbers=False, tab_behavior="focus", compact=True,
            placeholder="Ask the agent…  Enter sends · Ctrl+J new line · /help",
            **kwargs,
        )
        self.prompt_history = history
        self.popup: OptionList | None = None
        self._popup_for: str | None = None  # the text the completion list was built for
        self.models: tuple[str, ...] = ()
        self.custom: tuple[tuple[str, str, str], ...] = ()  # custom commands: name, hint, help

    # -- keys -----------------------------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if self.popup is not None and self.popup.display and self._popup_for != self.text:
            # Typed faster than TextArea.Changed arrives: the list shows completions of older
            # text. Rebuild it now, so Enter never takes a completion of what was not typed.
            self.update_completions()
        popup = self.popup if self.popup is not None and self.popup.display else None
        if popup is not None and key in ("up", "down"):
            self._stop(event)
            popup.action_cursor_up() if key == "up" else popup.action_cursor_down()
            return
        if popup is not None and key in ("tab", "enter") and popup.highlighted is not None:
            # Tab fills in; Enter fills in and runs it, unless the command still needs an argument.
            chosen = popup.get_option_at_index(popup.highlighted).id or ""
            self._stop(event)
            self.set_text(chosen)
            if key == "enter" and not chosen.endswith(" "):
                self.submit()
            return
        if popup is not None and key == "escape":
            self._stop(event)
            popup.display = False
            return
        if key == "enter":
            self._stop(event)
            if self.text.endswith("\\") and self.cursor_location == self.document.end:
                self.replace("\n", (self.cursor_location[0], self.cursor_location[1] - 1), self.cursor_location)
                return
            self.submit()
            return
        if key in NEWLINE_KEYS:
            self._stop(event)
            self.insert("\n")
            return
        if key == "up" and self.cursor_location[0] == 0:
            entry = self.prompt_history.previous(self.text)
            if entry is not None:
                self._stop(event)
                self.set_text(entry, cursor_at_end=False)
            return
        if key == "down" and self.cursor_location[0] == self.document.line_count - 1:
            entry = self.prompt_history.following()
            if entry is not None:
                self._stop(event)
                self.set_text(entry)
            return
        await super()._on_key(event)

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.prompt_history.add(text)
        self.clear()
        if self.popup is not None:
            self.popup.display = False
        self.post_message(self.Submitted(text))

    def set_text(self, text: str, *, cursor_at_end: bool = True) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end if cursor_at_end else (0, len(self.document[0])))

    # -- completion -----------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.update_completions()

    def update_completions(self) -> None:
        if self._popup_for == self.text and (self.popup is None or self.popup.display):
            return  # already showing this text's completions (keeps the highlighted choice)
        self._popup_for = self.text
        if not self.text.startswith("/"):
            if self.popup is not None:
                self.popup.display = False
            return
        from realcost_agent.tui.commands import completions

        items = completions(self.text, self.models, self.custom)
        if not items:
            if self.popup is not None:
                self.popup.display = False
            return
        if self.popup is None:
            if not isinstance(self.parent, PromptArea):
                return
            self.popup = self.parent.add_popup()
        self.popup.clear_options()
        self.popup.add_options([Option(Text.assemble(value, "  ", (help, "dim")), id=value)
                                for value, help in items])
        self.popup.highlighted = 0
        self.popup.display = True


class PromptArea(Vertical):
    """The completion list (created when first needed: off the first paint) above the input."""

    def __init__(self, history: History, **kwargs) -> None:
        super().__init__(**kwargs)
        self.input = PromptInput(history, id="prompt")
        self.popup: OptionList | None = None

    def compose(self) -> ComposeResult:
        yield self.input

    def add_popup(self) -> OptionList:
        self.popup = OptionList(id="completions")
        self.popup.can_focus = False
        self.mount(self.popup, before=self.input)
        return self.popup

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.input.set_text(event.option.id or "")
        self.input.focus()
