"""The enqueue form: one field per searched parameter, prefilled from the selected trial.

A categorical parameter is a choice among its values; a number is checked against its range
(low, high, log, step) as it is typed, with what is wrong under the field. The trial goes at
the end of the queue, or with "run next" ahead of every enqueued trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select

from rltui.ui.display import cells
from rltui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

    from rltui.spec import SearchSpace


@dataclass(frozen=True)
class QueueRequest:
    """What the form asks for: parameters (those left out are the sampler's to pick), and
    whether the trial runs ahead of every enqueued trial or at the end of the queue."""

    params: dict[str, Any]
    run_next: bool = False


def describe(space: SearchSpace, name: str) -> str:
    """The parameter's space in a few words: ``0.0001 … 0.01 log``, ``1 … 8 step 1``."""
    dist = space.distributions.get(name)
    if dist is None:
        return ""
    choices = getattr(dist, "choices", None)
    if choices is not None:
        return "one of " + ", ".join(str(c) for c in choices)
    low, high = getattr(dist, "low", None), getattr(dist, "high", None)
    log = " log" if getattr(dist, "log", False) else ""
    step = getattr(dist, "step", None)
    steps = f" step {cells.number(step)}" if step not in (None, 1) else ""
    return f"{cells.number(low)} … {cells.number(high)}{log}{steps}"


def parse_number(dist: BaseDistribution, text: str) -> int | float:
    """``text`` as a value of the int or float distribution ``dist``. Raises ValueError with
    what is wrong and what would do: not a number, not whole, out of range, off the step."""
    from optuna.distributions import IntDistribution

    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()} is not a finite number")
    whole = isinstance(dist, IntDistribution)
    if whole and not value.is_integer():
        raise ValueError(f"{text.strip()} is not a whole number")
    number: int | float = int(value) if whole else value
    low, high = dist.low, dist.high  # type: ignore[attr-defined]
    if number < low:
        raise ValueError(f"{cells.number(number)} is below the lowest value, {cells.number(low)}")
    if number > high:
        raise ValueError(f"{cells.number(number)} is above the highest value, {cells.number(high)}")
    step = getattr(dist, "step", None)
    if step:
        offset = (number - low) / step
        if not math.isclose(offset, round(offset), abs_tol=1e-8):
            below = low + math.floor(offset) * step
            raise ValueError(
                f"{cells.number(number)} is off the step {cells.number(step)} from "
                f"{cells.number(low)}: try {cells.number(below)} or "
                f"{cells.number(min(below + step, high))}"
            )
    return number


class InSpace(Validator):
    """An Input's check that its text is a value of one int or float distribution."""

    def __init__(self, dist: BaseDistribution) -> None:
        super().__init__()
        self.dist = dist

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():  # empty: the sampler picks
            return self.success()
        try:
            parse_number(self.dist, value)
        except ValueError as exc:
            return self.failure(str(exc), value)
        return self.success()


class EnqueueScreen(ModalScreen[QueueRequest | None]):
    """Returns the trial to enqueue, or None when cancelled. Empty fields, and categoricals
    left blank, are the sampler's to pick."""

    DEFAULT_CSS = """
    EnqueueScreen { align: center middle; }
    #enqueue-form { width: 72; max-width: 95%; height: auto; max-height: 90%; padding: 0 2;
                    border: round $primary; background: $surface; }
    #enqueue-form Label { margin-top: 1; }
    #enqueue-form .hint { color: $text-muted; margin-top: 0; }
    #enqueue-form .problem { color: $error; margin-top: 0; display: none; }
    #enqueue-form .problem.shown { display: block; }
    #enqueue-form RadioSet { layout: horizontal; width: auto; margin-top: 1; }
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
            for name, dist in self.space.distributions.items():
                yield Label(name)
                choices = getattr(dist, "choices", None)
                if choices is not None:
                    yield Select(
                        [(str(choice), index) for index, choice in enumerate(choices)],
                        prompt="the sampler picks",
                        value=_index_of(choices, self.params.get(name)),
                        id=f"param-{name}",
                    )
                else:
                    value = self.params.get(name)
                    yield Input(
                        "" if value is None else str(value),
                        id=f"param-{name}",
                        placeholder="empty: the sampler picks",
                        validators=[InSpace(dist)],
                        validate_on=["changed", "submitted"],
                    )
                yield Label(describe(self.space, name), classes="hint")
                yield Label("", id=f"problem-{name}", classes="problem")
            with RadioSet(id="placement"):
                yield RadioButton("queue at the end", value=True, id="at-end")
                yield RadioButton("run next", id="run-next")
            yield Label("ctrl+s enqueues from any field · esc cancels", classes="hint")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Enqueue", id="submit", variant="primary")
        yield KeysFooter()  # this form's keys, not the trial table's under it

    def on_mount(self) -> None:
        # Typing should edit the first parameter at once, not go nowhere until a Tab.
        fields = self.query("Input, Select")
        if fields:
            fields.first().focus()
        else:  # nothing to fill in (a clone, no search space): Enter enqueues
            self.query_one("#submit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    @on(Input.Changed)
    def _show_problem(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("param-")
        result = event.validation_result
        if result is None or result.is_valid:
            self._problem(name, None)
        else:
            self._problem(name, "; ".join(result.failure_descriptions))

    def _problem(self, name: str, message: str | None) -> None:
        """Show ``message`` under the parameter's field, or clear it (None)."""
        label = self.query_one(f"#problem-{name}", Label)
        label.update(message or "")
        label.set_class(message is not None, "shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter moves on to the next number, and submits from the last one. Choices are left
        # to Tab: Enter on a choice opens its list.
        fields = list(self.query(Input))
        if event.input is fields[-1]:
            self.action_submit()
        else:
            fields[fields.index(event.input) + 1].focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        params: dict[str, Any] = {}
        for name, dist in self.space.distributions.items():
            field = self.query_one(f"#param-{name}")
            if isinstance(field, Select):
                if field.value is not Select.NULL:
                    params[name] = dist.choices[field.value]  # type: ignore[attr-defined]
                continue
            assert isinstance(field, Input)
            if not field.value.strip():
                continue
            try:
                params[name] = parse_number(dist, field.value)
            except ValueError as exc:
                self._problem(name, str(exc))
                field.focus()
                return
        run_next = self.query_one("#run-next", RadioButton).value
        self.dismiss(QueueRequest(params, run_next=run_next))


def _index_of(choices: tuple[Any, ...], value: Any) -> int | Any:
    """The index of ``value`` among ``choices`` (``Select.NULL`` when it is none of them).
    Compared with its type: ``True == 1`` in Python, but a choice of True is not one of 1."""
    for index, choice in enumerate(choices):
        if type(choice) is type(value) and choice == value:
            return index
    if isinstance(value, int | float) and not isinstance(value, bool):
        for index, choice in enumerate(choices):  # 0 for a choice of 0.0: the same number
            if isinstance(choice, int | float) and not isinstance(choice, bool) and choice == value:
                return index
    return Select.NULL
