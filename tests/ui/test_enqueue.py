"""The enqueue form: a choice for each categorical, numbers checked against the space as they
are typed, Enter and the buttons submit, Esc cancels, and the trial's place in the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input, Label, RadioButton, Select

from rltui.spec import SearchSpace, load_study
from rltui.ui.screens.enqueue import EnqueueScreen, QueueRequest, parse_number

STUDY = """
name: form
train:
  function: "formfn:train"
  timesteps: 1
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
  n_steps: {type: int, low: 64, high: 512, step: 64}
  clip_range: {type: float, low: 0.1, high: 0.4, step: 0.05}
  activation: choice(tanh, relu)
  ortho_init: choice(true, false)
"""
CLONED = {
    "learning_rate": 3e-3,
    "n_steps": 128,
    "clip_range": 0.2,
    "activation": "relu",
    "ortho_init": False,
}


@pytest.fixture
def space(tmp_path: Path) -> SearchSpace:
    path = tmp_path / "form.yaml"
    path.write_text(STUDY, encoding="utf-8")
    return load_study(path, check_env=False).space


class FormApp(App[None]):
    """The form alone, with what it answered."""

    def __init__(self, screen: EnqueueScreen) -> None:
        super().__init__()
        self.form = screen
        self.answers: list[QueueRequest | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.form, self.answers.append)


def problem(app: FormApp, name: str) -> str | None:
    """The message under a parameter's field; None while it is hidden."""
    label = app.form.query_one(f"#problem-{name}", Label)
    return str(label.content) if label.has_class("shown") else None


async def test_categoricals_are_choices_with_the_trials_value_selected(space):
    app = FormApp(EnqueueScreen(space, dict(CLONED), clone_of=4))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        activation = app.form.query_one("#param-activation", Select)
        ortho = app.form.query_one("#param-ortho_init", Select)
        assert activation.selection == 1 and ortho.selection == 1  # relu; False, not 0
        assert isinstance(app.form.query_one("#param-n_steps"), Input)
        assert app.focused is app.form.query_one("#param-learning_rate")
        activation.value = 0  # tanh
        ortho.clear()  # left to the sampler
        await pilot.press("ctrl+s")
        await pilot.pause()
    (answer,) = app.answers
    assert answer == QueueRequest(
        {"learning_rate": 3e-3, "n_steps": 128, "clip_range": 0.2, "activation": "tanh"},
        run_next=False,
    )


@pytest.mark.slow
async def test_a_bad_number_says_what_is_wrong_under_its_field_and_is_not_enqueued(space):
    app = FormApp(EnqueueScreen(space, dict(CLONED), clone_of=4))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        n_steps = app.form.query_one("#param-n_steps", Input)
        n_steps.focus()
        await pilot.press("end", "backspace", "backspace", "backspace", *"100")
        await pilot.pause()
        assert problem(app, "n_steps") == "100 is off the step 64 from 64: try 64 or 128"
        assert problem(app, "learning_rate") is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.answers == [] and app.focused is n_steps  # still open, at the bad field
        n_steps.value = "192"
        await pilot.pause()
        assert problem(app, "n_steps") is None
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.answers[0] is not None and app.answers[0].params["n_steps"] == 192


async def test_enter_moves_through_the_numbers_and_submits_from_the_last(space):
    app = FormApp(EnqueueScreen(space, dict(CLONED), clone_of=None))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert app.focused is app.form.query_one("#param-n_steps")
        await pilot.press("enter")
        assert app.focused is app.form.query_one("#param-clip_range")
        app.form.query_one("#run-next", RadioButton).value = True
        await pilot.press("enter")
        await pilot.pause()
    (answer,) = app.answers
    assert answer is not None and answer.run_next and answer.params["clip_range"] == 0.2


async def test_escape_cancels_and_the_button_submits(space):
    app = FormApp(EnqueueScreen(space, {}, clone_of=None))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.answers == [None]
        app.form = EnqueueScreen(space, {}, clone_of=None)
        app.push_screen(app.form, app.answers.append)
        await pilot.pause()
        app.form.query_one("#submit").scroll_visible(animate=False)  # below the fields
        await pilot.pause()
        await pilot.click("#submit")
        await pilot.pause()
    # Every field empty: every parameter is the sampler's to pick.
    assert app.answers == [None, QueueRequest({}, run_next=False)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("96.5", "96.5 is not a whole number"),
        ("32", "32 is below the lowest value, 64"),
        ("1024", "1,024 is above the highest value, 512"),
        ("100", "100 is off the step 64 from 64: try 64 or 128"),
    ],
)
def test_numbers_outside_the_space_are_refused_with_the_reason(space, text, message):
    with pytest.raises(ValueError) as refused:
        parse_number(space.distributions["n_steps"], text)
    assert str(refused.value) == message


def test_numbers_inside_the_space_are_read_as_their_type(space: Any):
    assert parse_number(space.distributions["n_steps"], "256.0") == 256
    assert isinstance(parse_number(space.distributions["n_steps"], "256"), int)
    assert parse_number(space.distributions["clip_range"], "0.35") == pytest.approx(0.35)
    assert parse_number(space.distributions["learning_rate"], "1e-3") == 1e-3
    with pytest.raises(ValueError, match="below the lowest value"):
        parse_number(space.distributions["learning_rate"], "0")


async def test_a_clone_with_nothing_to_fill_in_is_enqueued_by_enter(tmp_path: Path):
    # A study with no search space: the form has no field, and Enter is what a user presses.
    path = tmp_path / "fixed.yaml"
    path.write_text(
        "name: fixed\ntrain:\n  algorithm: ppo\n  env: CartPole-v1\n  timesteps: 64\n",
        encoding="utf-8",
    )
    app = FormApp(EnqueueScreen(load_study(path, check_env=False).space, {}, clone_of=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.answers == [QueueRequest({}, run_next=False)]
