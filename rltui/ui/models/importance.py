"""Parameter importance for the Charts tab: how much each parameter matters (by one of
Optuna's evaluators) and which way it pushes the objective.

Pure Python without Textual. Optuna is imported inside :func:`compute` only, which runs on a
thread: the window's first paint does not wait for it. Importances come from the study;
the direction of each parameter's effect from the snapshot's COMPLETE trials (a Spearman rank
correlation for numbers, the best mean value for choices).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rltui.search.lifecycle import TrialStatus

if TYPE_CHECKING:
    from rltui.search.reader import Snapshot, TrialRow
    from rltui.spec import SearchSpace

METHODS = ("fANOVA", "PED-ANOVA", "MDI")
# Optuna's fANOVA and MDI fit scikit-learn's random forests; PED-ANOVA needs only NumPy.
NEEDS_SKLEARN = frozenset({"fANOVA", "MDI"})
# Below this many COMPLETE trials the ranking is mostly noise: the title says so.
ROUGH_BELOW = 10
# Fewer COMPLETE trials than this: no importance at all (every parameter would tie).
MIN_TRIALS = 2
# A direction needs this many trials with the parameter, and a correlation at least this strong.
MIN_FOR_DIRECTION = 5
WEAK = 0.1
# PED-ANOVA compares the best trials with all of them; Optuna's guide asks for at least 5 in
# the best group, so a young study's group is the best 5 (up to half of the trials).
PED_TOP_TRIALS = 5
PED_QUANTILE = 0.1
# fANOVA's time grows faster than its trials (about 2 s of CPU for 300, 16 s for 1,000, a
# minute for 2,000): past this many it is computed on an even sample of them.
FANOVA_MAX_TRIALS = 500
SEED = 0  # the forests' seed: the same trials give the same picture on every poll

UP, DOWN, FLAT = "↑", "↓", "~"


@dataclass(frozen=True)
class Effect:
    """Which way a parameter pushes the objective: ``mark`` is ↑ (higher is better),
    ↓ (lower is better) or ~ (no clear direction); a categorical names its ``best`` choice."""

    mark: str = FLAT
    rho: float | None = None
    best: str | None = None

    def label(self, name: str) -> str:
        """The bar's label: "lr ↓", "gamma ~", "act: relu"."""
        return f"{name}: {self.best}" if self.best is not None else f"{name} {self.mark}"

    @property
    def meaning(self) -> str:
        if self.best is not None:
            return f"best: {self.best}"
        if self.mark == UP:
            return "higher is better"
        if self.mark == DOWN:
            return "lower is better"
        return "no clear direction"


@dataclass(frozen=True)
class ImportanceData:
    """Parameter importances by ``method``, most important first, each parameter's
    :class:`Effect`, and how many COMPLETE trials they rest on. ``message`` says why there
    are no values (too few trials, a missing package, a failure), in the user's words."""

    values: tuple[tuple[str, float], ...]
    complete: int
    method: str = METHODS[0]
    effects: Mapping[str, Effect] = field(default_factory=dict)
    message: str | None = None
    used: int | None = None  # the trials computed on, when fewer than ``complete``

    @property
    def caveat(self) -> str | None:
        """The caveat below ``ROUGH_BELOW`` complete trials ("rough: N trials"), else None."""
        return f"rough: {self.complete} trials" if self.complete < ROUGH_BELOW else None

    @property
    def title(self) -> str:
        """The full title: "importance · fANOVA (rough: 6 trials)"."""
        return self.titles[0]

    @property
    def titles(self) -> tuple[str, ...]:
        """The title, then shorter ones for a narrow chart, shortest last."""
        caveat, method = self.caveat, self.method
        if self.used is not None and self.used < self.complete:
            sample = f"{self.used} of {self.complete} trials"
            return (f"importance · {method} ({sample})", f"{method} ({sample})", method)
        if caveat is None:
            return (f"importance · {method}", method)
        return (
            f"importance · {method} ({caveat})",
            f"{method} ({caveat})",
            f"{method} (rough: {self.complete})",
            f"{method} (rough)",
            method,
        )

    def label(self, name: str) -> str:
        """The parameter's name with the mark of its effect."""
        return self.effects.get(name, Effect()).label(name)


def key(snapshot: Snapshot, method: str) -> tuple[str, int]:
    """What importances depend on: recompute when the method or the number of COMPLETE
    trials changes, not on every poll."""
    return method, snapshot.counts.get(TrialStatus.COMPLETE, 0)


def default_method() -> str:
    """fANOVA where scikit-learn is installed, else PED-ANOVA (which does without it).
    Looks for the package without importing it."""
    return METHODS[0] if importlib.util.find_spec("sklearn") is not None else "PED-ANOVA"


def next_method(method: str) -> str:
    """The method after ``method`` in :data:`METHODS`, round."""
    index = METHODS.index(method) if method in METHODS else -1
    return METHODS[(index + 1) % len(METHODS)]


# What each method measures, for the notification that announces it.
ABOUT = {
    "fANOVA": "the variance of a random forest's predictions each parameter explains",
    "PED-ANOVA": "how differently the best trials spread each parameter from all trials",
    "MDI": "how much a random forest's splits on each parameter reduce its error",
}


def describe(method: str) -> str:
    """The notification for a newly picked method: "importance · MDI: how much …"."""
    return f"importance · {method}: {ABOUT.get(method, 'unknown method')}"


def computing(snapshot: Snapshot, method: str) -> ImportanceData:
    """What the chart shows while ``method`` is computed for the first time: no bars, and a
    message saying so (not the previous method's bars under the new method's name)."""
    complete = snapshot.counts.get(TrialStatus.COMPLETE, 0)
    message = f"importance · {method}: computing on {complete} complete trials…"
    return ImportanceData((), complete, method, message=message)


def compute(
    ostudy: Any, snapshot: Snapshot, space: SearchSpace | None, method: str
) -> ImportanceData:
    """Importances of the study's parameters by ``method`` (one of :data:`METHODS`) with the
    direction of each one's effect. Never raises: what went wrong is in ``message``.
    Slow (forests of trees): call it from a thread."""
    rows = _complete(snapshot)
    complete = len(rows)
    effects = directions(snapshot, space)
    if method not in METHODS:
        message = f"unknown importance method {method!r}: use one of {', '.join(METHODS)}"
        return ImportanceData((), complete, method, effects, message)
    if complete < MIN_TRIALS:
        message = f"importance · {method}: needs {MIN_TRIALS} complete trials, has {complete}"
        return ImportanceData((), complete, method, effects, message)
    try:
        values, used = _evaluate(ostudy, method, complete)
    except ImportError:
        message = (
            f"importance · {method} needs scikit-learn: pip install scikit-learn"
            " (PED-ANOVA works without it)"
        )
        return ImportanceData((), complete, method, effects, message)
    # Optuna's evaluators raise what their models raise (NumPy, scikit-learn, the storage);
    # a chart cannot fix any of it, and a traceback must not reach the window.
    except Exception as error:
        message = f"importance · {method} failed: {type(error).__name__}: {error}"
        return ImportanceData((), complete, method, effects, message.splitlines()[0])
    pairs = tuple((name, float(v)) for name, v in values.items() if math.isfinite(float(v)))
    pairs = tuple(sorted(pairs, key=lambda p: -p[1]))
    return ImportanceData(pairs, complete, method, effects, used=used)


def _evaluate(ostudy: Any, method: str, complete: int) -> tuple[dict[str, float], int | None]:
    """The importances, and how many COMPLETE trials they were computed on when not all."""
    import optuna  # here, not at the top: the window paints before Optuna loads

    imp = optuna.importance
    evaluator: Any
    used = None
    if method == "fANOVA":
        evaluator = imp.FanovaImportanceEvaluator(seed=SEED)
        ostudy, used = _thinned(ostudy, FANOVA_MAX_TRIALS)
    elif method == "MDI":
        evaluator = imp.MeanDecreaseImpurityImportanceEvaluator(seed=SEED)
    else:
        quantile = min(0.5, max(PED_QUANTILE, PED_TOP_TRIALS / complete))
        evaluator = imp.PedAnovaImportanceEvaluator(target_quantile=quantile)
    # Several objectives: the importances for the first (Optuna needs one number a trial).
    target = (lambda t: t.values[0]) if len(ostudy.directions) > 1 else None
    found = imp.get_param_importances(ostudy, evaluator=evaluator, target=target)
    return dict(found), used


def _thinned(ostudy: Any, limit: int) -> tuple[Any, int | None]:
    """``ostudy`` itself, or past ``limit`` COMPLETE trials an in-memory copy of about
    ``limit`` of them, evenly spread over the study, the latest kept."""
    import optuna

    trials = ostudy.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(trials) <= limit:
        return ostudy, None
    step = math.ceil(len(trials) / limit)
    picked = trials[::-1][::step][::-1]
    copy = optuna.create_study(directions=ostudy.directions)
    copy.add_trials(picked)
    return copy, len(picked)


# Direction of effect -----------------------------------------------------------------------


def _complete(snapshot: Snapshot) -> list[TrialRow]:
    return [
        r
        for r in snapshot.rows.values()
        if r.status == TrialStatus.COMPLETE and r.value is not None and math.isfinite(r.value)
    ]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def directions(snapshot: Snapshot, space: SearchSpace | None) -> dict[str, Effect]:
    """Each parameter's :class:`Effect` over the COMPLETE trials: numbers by the sign of their
    Spearman correlation with the objective (ranks do not change under a log scale, so log
    parameters need no transform), choices by the best mean value. One pass over the rows,
    then a sort per parameter."""
    maximize = snapshot.direction.name == "MAXIMIZE"
    seen: dict[str, list[tuple[Any, float]]] = {}
    for row in _complete(snapshot):
        for name, x in row.params.items():
            seen.setdefault(name, []).append((x, row.value))  # type: ignore[arg-type]
    dists = space.distributions if space is not None else {}
    out: dict[str, Effect] = {}
    for name, pairs in seen.items():
        dist = dists.get(name)
        if dist is not None:
            categorical = hasattr(dist, "choices")
        else:
            categorical = not all(_is_number(x) for x, _ in pairs)
        if categorical:
            out[name] = _best_choice(pairs, maximize)
        else:
            numbers = [(float(x), v) for x, v in pairs if _is_number(x)]
            out[name] = _numeric(numbers, maximize)
    return out


def _numeric(pairs: Sequence[tuple[float, float]], maximize: bool) -> Effect:
    if len(pairs) < MIN_FOR_DIRECTION:
        return Effect()
    rho = spearman([x for x, _ in pairs], [v for _, v in pairs])
    if rho is None or abs(rho) < WEAK:
        return Effect(FLAT, rho)
    better_high = (rho > 0) == maximize
    return Effect(UP if better_high else DOWN, rho)


def _best_choice(pairs: Sequence[tuple[Any, float]], maximize: bool) -> Effect:
    sums: dict[str, list[float]] = {}
    for x, v in pairs:
        sums.setdefault(str(x), []).append(v)
    if len(pairs) < MIN_FOR_DIRECTION or len(sums) < 2:
        return Effect()
    means = {choice: sum(vs) / len(vs) for choice, vs in sums.items()}
    pick = max if maximize else min
    return Effect(best=pick(means, key=lambda c: means[c]))


def ranks(xs: Sequence[float]) -> list[float]:
    """1-based ranks of ``xs``; tied values share the average of the ranks they span."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    out = [0.0] * len(xs)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and xs[order[end + 1]] == xs[order[start]]:
            end += 1
        average = (start + end) / 2 + 1
        for i in order[start : end + 1]:
            out[i] = average
        start = end + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's on average ranks); None for fewer than two
    pairs or when either side is constant."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = ranks(xs), ranks(ys)
    n = len(rx)
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)
