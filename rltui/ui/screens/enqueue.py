"""The enqueue form: one field per searched parameter, prefilled from the selected trial."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

if TYPE_CHECKING:
    from rltui.spec import SearchSpace
from rltui.ui import cells


def describe(space: SearchSpace, name: str) -> str:
    dist = space.distributions.get(name)
    if dist is None:
        return ""
    choices = getattr(dist, "choices", None)
    if choices is not None:
        return "one of " + ", ".join(str(c) for c in choices)
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    log = " log" if getattr(dist, "log", False) else ""
    return f"{cells.number(low)} … {cells.number(high)}{log}"


class EnqueueScreen(ModalScreen[dict[str, Any] | None]):
    """Returns the parameters to enqueue, or None when cancelled. Empty fields are left to the
    sampler."""

    DEFAULT_CSS = """
    EnqueueScreen { align: center middle; }
    #enqueue-form { width: 72; max-width: 95%; height: auto; max-height: 90%; padding: 0 2;
                    border: round $primary; background: $surface; }
    #enqueue-form Label { margin-top: 1; }
    #enqueue-form .hint { color: $text-muted; margin-top: 0; }
    #enqueue-form Horizontal { height: auto; align-horizontal: right; margin: 1 0; }
    #enqueue-form Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="enqueue.cancel"),
        Binding("ctrl+s", "submit", "Enqueue", id="enqueue.submit", priority=True),
    ]

    def __init__(self, space: SearchSpace, params: dict[str, Any], clone_of: int | None) -> None:
        super().__init__()
        self.space = space
        self.params = params
        self.clone_of = clone_of

    def compose(self) -> ComposeResult:
        title = (
            f"Enqueue a clone of trial {self.clone_of}"
            if self.clone_of is not None
            else "Enqueue a trial"
        )
        with VerticalScroll(id="enqueue-form") as form:
            form.border_title = title
            for name in self.space.distributions:
                value = self.params.get(name)
                yield Label(name)
                yield Input(
                    "" if value is None else str(value),
                    id=f"param-{name}",
                    placeholder="empty: the sampler picks",
                )
                yield Label(describe(self.space, name), classes="hint")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Enqueue", id="submit", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self) -> None:
        self.action_submit()

    def on_mount(self) -> None:
        # Typing should edit the first parameter at once, not go nowhere until a Tab.
        fields = self.query(Input)
        if fields:
            fields.first().focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        params: dict[str, Any] = {}
        for name, dist in self.space.distributions.items():
            text = self.query_one(f"#param-{name}", Input).value.strip()
            if not text:
                continue
            from rltui.spec.grammar import coerce_scalar
            from rltui.spec.space import contains

            value = coerce_scalar(text)
            if not contains(dist, value):
                self.notify(
                    f"{name}: {text} lies outside {describe(self.space, name)}",
                    severity="error",
                    title="Not enqueued",
                )
                self.query_one(f"#param-{name}", Input).focus()
                return
            params[name] = value
        self.dismiss(params)
