"""Parameter importance (the Charts tab's importance view): every method on real Optuna
studies where one parameter drives the objective and one is noise, the direction of each
parameter's effect, the caveats and messages, and the bars' labels as drawn."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from importlib.util import find_spec

import optuna
import pytest
from rich.text import Text
from textual_plotext.plot import Plot

from rltui.search.reader import StudyReader
from rltui.spec import load_study
from rltui.ui.models import importance
from rltui.ui.models.importance import DOWN, FLAT, UP, Effect, ImportanceData
from rltui.ui.textual import internals
from rltui.ui.widgets.view_charts import ImportanceView
from tests.conftest import needs_extra

from .conftest import REPO, SMOKE

SPACE = load_study(SMOKE, check_env=False).space  # learning_rate (log), gamma, ent_coef (choice)
HAS_SKLEARN = find_spec("sklearn") is not None
# fANOVA and MDI need scikit-learn (the importance extra): skipped without it, failed in CI.
SKLEARN = needs_extra("sklearn", "importance")


def make_study(n: int, direction: str = "maximize", seed: int = 0) -> optuna.Study:
    """``n`` COMPLETE trials: the value rises with log10(learning_rate) and with ent_coef 0.01;
    gamma is noise. Plus a failed and a pruned trial, which count for nothing."""
    rng = random.Random(seed)
    study = optuna.create_study(direction=direction)
    dists = SPACE.distributions
    trials = []
    for i in range(n):
        params = {
            "learning_rate": 10 ** rng.uniform(-4, -2),
            "gamma": rng.uniform(0.9, 0.999),
            "ent_coef": (0.0, 0.01)[i % 2],
        }
        value = math.log10(params["learning_rate"]) + (0.3 if params["ent_coef"] else 0.0)
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    unfinished = {"learning_rate": 1e-2, "gamma": 0.99, "ent_coef": 0.01}
    for state in (optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED):
        trials.append(
            optuna.trial.create_trial(state=state, params=unfinished, distributions=dists)
        )
    study.add_trials(trials)
    return study


def compute(study: optuna.Study, method: str) -> ImportanceData:
    return importance.compute(study, StudyReader(study).poll(), SPACE, method)


def method_param(method: str) -> object:
    needs = method in importance.NEEDS_SKLEARN
    return pytest.param(method, marks=SKLEARN if needs else ())


@pytest.mark.parametrize("method", [method_param(m) for m in importance.METHODS])
@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_the_driver_ranks_first_with_its_direction_under_every_method(
    method: str, direction: str
) -> None:
    data = compute(make_study(30, direction), method)
    assert data.message is None and data.method == method and data.complete == 30
    names = [name for name, _ in data.values]
    assert names[0] == "learning_rate" and set(names) == {"learning_rate", "gamma", "ent_coef"}
    assert data.values[0][1] > 0.5 > data.values[-1][1] >= 0.0
    lr, choice = data.effects["learning_rate"], data.effects["ent_coef"]
    # The value rises with the learning rate: better high when maximizing, low when minimizing.
    assert lr.rho is not None and lr.rho > 0.8
    if direction == "maximize":
        assert (lr.mark, lr.meaning, data.label("learning_rate")) == (
            UP,
            "higher is better",
            "learning_rate ↑",
        )
        assert (choice.best, data.label("ent_coef")) == ("0.01", "ent_coef: 0.01")
    else:
        assert (lr.mark, lr.meaning, data.label("learning_rate")) == (
            DOWN,
            "lower is better",
            "learning_rate ↓",
        )
        assert (choice.best, choice.meaning) == ("0.0", "best: 0.0")
    assert data.title == f"importance · {method}" and data.caveat is None


@pytest.mark.parametrize("method", [method_param(m) for m in importance.METHODS])
def test_the_same_trials_give_the_same_importances_on_every_poll(method: str) -> None:
    study = make_study(20)
    assert compute(study, method) == compute(study, method)


def test_the_title_names_the_method_and_is_rough_below_ten_complete_trials() -> None:
    data = compute(make_study(6), "PED-ANOVA")
    assert data.message is None and data.values
    assert data.caveat == "rough: 6 trials"  # the failed and the pruned trial do not count
    assert data.title == "importance · PED-ANOVA (rough: 6 trials)"
    assert data.titles[-1] == "PED-ANOVA"
    enough = compute(make_study(10), "PED-ANOVA")
    assert (enough.caveat, enough.title) == (None, "importance · PED-ANOVA")


@pytest.mark.parametrize("n", [0, 1])
@pytest.mark.parametrize("method", importance.METHODS)
def test_too_few_trials_give_a_message_not_an_exception(n: int, method: str) -> None:
    data = compute(make_study(n), method)
    assert data.values == () and data.complete == n
    assert data.message == f"importance · {method}: needs 2 complete trials, has {n}"


def test_too_few_trials_for_a_direction_leave_it_unclear() -> None:
    data = compute(make_study(4), "PED-ANOVA")
    assert data.effects["learning_rate"] == Effect(FLAT)
    assert data.effects["ent_coef"].best is None
    assert data.label("learning_rate") == "learning_rate ~"
    assert data.label("gamma") == "gamma ~"


def test_an_unknown_method_gives_a_message() -> None:
    data = compute(make_study(5), "SHAP")
    assert data.values == () and data.message is not None
    assert "unknown importance method 'SHAP'" in data.message and "PED-ANOVA" in data.message


def test_a_forest_method_without_scikit_learn_says_how_to_get_it() -> None:
    # A fresh interpreter where scikit-learn cannot be imported (None in sys.modules is how
    # Python marks a module as missing), whether or not it is installed here.
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from tests.ui.test_importance import compute, make_study\n"
        "for method in ('fANOVA', 'MDI', 'PED-ANOVA'):\n"
        "    data = compute(make_study(12), method)\n"
        "    print(method, '|', data.message, '|', len(data.values))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for method, line in zip(("fANOVA", "MDI"), lines[:2], strict=True):
        assert line == (
            f"{method} | importance · {method} needs scikit-learn: pip install scikit-learn"
            " (PED-ANOVA works without it) | 0"
        )
    assert lines[2] == "PED-ANOVA | None | 3"
    assert "Traceback" not in out.stderr


def test_fanova_on_many_trials_is_computed_on_an_even_sample_the_latest_kept() -> None:
    study = make_study(30)
    copy, used = importance._thinned(study, 7)
    numbers = [t.number for t in copy.trials]
    assert used == len(numbers) == 6 and numbers == list(range(6))  # renumbered in the copy
    values = [t.value for t in study.trials[:30]]
    assert [t.value for t in copy.trials] == values[4::5]  # every 5th, the 30th kept
    assert copy.direction == study.direction
    assert importance._thinned(study, 30) == (study, None)


@SKLEARN
def test_a_sampled_fanova_says_on_how_many_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importance, "FANOVA_MAX_TRIALS", 12)
    data = compute(make_study(30), "fANOVA")
    assert data.values[0][0] == "learning_rate" and data.used == 10
    assert data.title == "importance · fANOVA (10 of 30 trials)"


def test_directions_without_a_space_tell_numbers_from_choices() -> None:
    study = make_study(12, "minimize")
    data = importance.directions(StudyReader(study).poll(), None)
    assert data["learning_rate"].mark == DOWN
    assert data["ent_coef"].mark == DOWN  # numbers without a space: correlated, not a choice
    acts = optuna.create_study(direction="maximize")
    for i in range(8):
        acts.enqueue_trial({"act": ("relu", "tanh")[i % 2]})
    acts.optimize(
        lambda t: 1.0 if t.suggest_categorical("act", ["relu", "tanh"]) == "tanh" else 0, 8
    )
    effect = importance.directions(StudyReader(acts).poll(), None)["act"]
    assert (effect.best, effect.label("act")) == ("tanh", "act: tanh")


def test_spearman_ranks_ties_by_their_average() -> None:
    assert importance.ranks([10, 20, 20, 20, 5]) == [2.0, 4.0, 4.0, 4.0, 1.0]
    # By hand: x ranks 1, 2.5, 2.5, 4 and y ranks 1, 3, 2, 4 about a mean of 2.5:
    # Σdxdy = 2.25 + 0 + 0 + 2.25 = 4.5, Σdx² = 4.5, Σdy² = 5, so ρ = 4.5 / √22.5 = 3 / √10.
    rho = importance.spearman([1, 2, 2, 3], [1, 3, 2, 4])
    assert rho == pytest.approx(3 / math.sqrt(10))
    assert importance.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert importance.spearman([1, 1, 1], [1, 2, 3]) is None  # a constant side
    assert importance.spearman([1], [2]) is None


def test_the_key_changes_with_the_method_and_the_complete_trials() -> None:
    few, more = StudyReader(make_study(3)).poll(), StudyReader(make_study(4)).poll()
    assert importance.key(few, "MDI") == ("MDI", 3)
    assert importance.key(few, "MDI") != importance.key(few, "fANOVA")
    assert importance.key(few, "MDI") != importance.key(more, "MDI")
    assert [importance.next_method(m) for m in importance.METHODS] == [
        "PED-ANOVA",
        "MDI",
        "fANOVA",
    ]
    assert importance.default_method() == ("fANOVA" if HAS_SKLEARN else "PED-ANOVA")
    assert importance.describe("MDI").startswith("importance · MDI: ")
    waiting = importance.computing(more, "MDI")
    assert (waiting.values, waiting.method) == ((), "MDI")
    assert waiting.message == "importance · MDI: computing on 4 complete trials…"


def drawn(data: ImportanceData, width: int) -> str:
    plt = Plot()
    plt.clear_figure()
    plt.theme("clear")
    internals.size_plot(plt, width, 10)
    assert ImportanceView().draw(plt, data, width)
    return Text.from_ansi(plt.build()).plain


def test_the_bars_carry_each_parameters_mark_and_the_title_shortens_to_fit() -> None:
    effects = {"lr": Effect(DOWN, -0.8), "gamma": Effect(FLAT, 0.02), "act": Effect(best="relu")}
    data = ImportanceData((("lr", 0.7), ("act", 0.2), ("gamma", 0.1)), 6, "fANOVA", effects)
    wide = drawn(data, 80)
    assert "lr ↓" in wide and "act: relu" in wide and "gamma ~" in wide
    assert "importance · fANOVA (rough: 6 trials)" in wide
    narrow = drawn(data, 38)  # a quarter of an 80×24 window
    assert "lr ↓" in narrow and "fANOVA" in narrow and "importance ·" not in narrow
    long = ImportanceData(
        (("a_very_long_parameter_name", 1.0),),
        20,
        "MDI",
        {"a_very_long_parameter_name": Effect(UP, 0.9)},
    )
    assert "a_very_lo… ↑" in drawn(long, 38)  # cut, its mark kept


def test_the_view_says_why_there_are_no_bars() -> None:
    view = ImportanceView()
    data = ImportanceData((), 1, "MDI", message="importance · MDI: needs 2 complete trials, has 1")
    assert view.empty_for(data) == data.message
    assert view.empty_for(None) == view.empty_message
