"""PBT's decisions on a real Optuna storage: who starts, who copies whom, what explore does,
and which end checkpoints may go."""

from __future__ import annotations

import random
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from rltui.search import pbt, segments
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.segments import Segment, Settings
from rltui.spec.pbt import PbtOptions

DISTS: dict[str, Any] = {
    "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    "ent_coef": FloatDistribution(0.0, 0.02),
    "n_epochs": IntDistribution(1, 20),
    "gamma": CategoricalDistribution([0.9, 0.95, 0.99]),
    "net_arch": CategoricalDistribution(["small", "big"]),
}
MUTABLE = frozenset({"learning_rate", "ent_coef", "n_epochs", "gamma"})
TOTAL = 4000


def settings(**changes: Any) -> Settings:
    base = dict(
        population=4,
        interval=1000,
        quantile=0.25,
        perturb=(0.8, 1.2),
        resample_probability=0.25,
        seed=0,
    )
    return Settings(**{**base, **changes})


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(direction="maximize", storage=optuna.storages.InMemoryStorage())


def add(
    study: optuna.Study,
    member: int,
    index: int,
    value: float | None,
    *,
    state: TrialState = TrialState.COMPLETE,
    params: dict[str, Any] | None = None,
    **fields: Any,
) -> FrozenTrial:
    start = fields.pop("start", index * 1000)
    segment = Segment(member, index, start, min(start + 1000, TOTAL), **fields)
    if state == TrialState.COMPLETE and segment.checkpoint is None:
        segment = segment.ended_with(f"/ck/trial-{len(study.trials)}")
    values = {"learning_rate": 1e-3, "ent_coef": 0.01, "n_epochs": 10, "gamma": 0.95}
    template = FrozenTrial(
        number=-1,
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        datetime_start=None,
        datetime_complete=None,
        params={**values, "net_arch": "small", **(params or {})},
        distributions=DISTS,
        user_attrs={},
        system_attrs={segments.SEGMENT: segment.record()},
        intermediate_values={},
        trial_id=-1,
    )
    storage = storage_of(study)
    trial_id = storage.create_new_trial(study_id_of(study), template_trial=template)
    return storage.get_trial(trial_id)


def plan(study: optuna.Study, trial: FrozenTrial, value: float, **changes: Any) -> pbt.Plan | None:
    segment = segments.segment_of(trial)
    assert segment is not None
    return pbt.plan_next(
        trial,
        segment.ended_with(f"/ck/trial-{trial.number}"),
        value,
        study.get_trials(deepcopy=False),
        settings(**changes),
        total=TOTAL,
        maximize=True,
        mutable=MUTABLE,
    )


def running(study: optuna.Study, member: int, index: int) -> FrozenTrial:
    return add(study, member, index, None, state=TrialState.RUNNING)


def population_after_one_segment(study: optuna.Study) -> list[FrozenTrial]:
    """Members 0-3 with first segments worth 10, 20, 30, 40; member 0's trial still runs."""
    first = [running(study, 0, 0)]
    first += [add(study, m, 0, 10.0 * (m + 1)) for m in (1, 2, 3)]
    return first


def test_the_weakest_member_copies_one_of_the_best_and_perturbs(study):
    trials = population_after_one_segment(study)
    result = plan(study, trials[0], 5.0)
    assert result is not None and result.donor == 3
    assert result.source is not None and result.source.number == trials[3].number
    assert result.ended is not None and result.ended.checkpoint == f"/ck/trial-{trials[3].number}"
    assert set(result.explore) == MUTABLE  # the network shape is never touched
    assert result.params["net_arch"] == trials[3].params["net_arch"]


def test_a_member_in_the_middle_goes_on_with_its_own(study):
    trials = population_after_one_segment(study)
    result = plan(study, trials[0], 25.0)
    assert result is not None and result.donor is None and result.explore == {}
    assert result.source is not None and result.source.number == trials[0].number
    assert result.params == trials[0].params


def test_a_frozen_member_is_never_replaced_and_a_forced_exploit_wins(study):
    trials = population_after_one_segment(study)
    assert plan(study, trials[0], 5.0, frozen=frozenset({0})).donor is None
    forced = plan(study, trials[0], 35.0, force={0: 1})
    assert forced.donor == 1 and forced.source.number == trials[1].number


def test_a_smaller_population_retires_its_weakest_member(study):
    trials = population_after_one_segment(study)
    result = plan(study, trials[0], 5.0, population=3)
    assert result is not None and result.retire and "made 3" in result.retire
    assert plan(study, trials[0], 25.0, population=3).retire is None  # member 1 is weaker


def test_a_member_copies_a_better_checkpoint_even_behind_its_own(study):
    # Member 1 is best but its latest finished segment ends at 1,000; member 0 is at 2,000.
    best = add(study, 1, 0, 100.0)
    running(study, 1, 1)
    add(study, 0, 0, 1.0)
    ending = running(study, 0, 1)
    add(study, 2, 0, 2.0)
    add(study, 3, 0, 3.0)
    result = plan(study, ending, 0.5)
    assert result.donor == 1 and result.ended.end == 1000 and result.source.number == best.number


def test_the_last_segment_plans_nothing(study):
    trial = running(study, 0, 3)
    assert plan(study, trial, 1.0) is None


def test_explore_stays_inside_every_distribution():
    rng = random.Random(1)
    params = {"learning_rate": 1e-2, "ent_coef": 0.0, "n_epochs": 20, "gamma": 0.99}
    seen: dict[str, set[str]] = {}
    for _ in range(500):
        out, told = pbt.perturb(params, DISTS, MUTABLE, settings(perturb=(0.5, 3.0)), rng)
        for name, value in out.items():
            assert DISTS[name]._contains(DISTS[name].to_internal_repr(value)), (name, value)
        assert isinstance(out["n_epochs"], int)
        for name, what in told.items():
            seen.setdefault(name, set()).add(what.split(" ")[0])
        params = out
    assert {"resampled", "x0.5", "x3"} <= seen["learning_rate"]
    assert "resampled" in seen["gamma"] and len(seen["gamma"]) > 1


def test_a_list_of_choices_moves_one_place():
    rng = random.Random(0)
    out, told = pbt.perturb(
        {"gamma": 0.95}, DISTS, frozenset({"gamma"}), settings(resample_probability=0.0), rng
    )
    assert out["gamma"] in (0.9, 0.99) and told["gamma"] == f"0.95 -> {out['gamma']}"


def test_next_member_fills_the_population_and_refills_after_retirement(study):
    for m in range(3):
        add(study, m, 0, 1.0)
    found = segments.members(study.get_trials(deepcopy=False))
    assert pbt.next_member(found, settings()) == 3
    assert pbt.next_member(found, settings(population=3)) is None
    assert pbt.next_member(found, settings(population=3, retired={1: "retired"})) == 3


def test_enqueue_writes_a_waiting_segment_that_starts_after_its_source(study):
    trials = population_after_one_segment(study)
    result = plan(study, trials[0], 5.0)
    segment = segments.segment_of(trials[0])
    trial_id = pbt.enqueue(
        storage_of(study),
        study_id_of(study),
        result,
        segment,
        trials[0].number,
        interval=1000,
        total=TOTAL,
        version=1,
    )
    queued = storage_of(study).get_trial(trial_id)
    written = segments.segment_of(queued)
    assert queued.state == TrialState.WAITING and queued.params == result.params
    assert written == Segment(
        member=0,
        index=1,
        start=1000,
        end=2000,
        parent=trials[3].number,
        previous=trials[0].number,
        donor=3,
        explore=result.explore,
        source=f"/ck/trial-{trials[3].number}",
    )
    assert queued.user_attrs["pbt_donor"] == 3 and queued.user_attrs["pbt_steps"] == "1000-2000"
    assert pbt.successor(study.get_trials(deepcopy=False), trials[0]).number == queued.number


def test_collectable_keeps_each_members_latest_and_every_pending_source(study):
    a0 = add(study, 0, 0, 1.0)
    a1 = add(study, 0, 1, 2.0)
    b0 = add(study, 1, 0, 3.0)
    add(study, 1, 1, None, state=TrialState.WAITING, parent=a0.number)
    gone = {t.number for t in pbt.collectable(study.get_trials(deepcopy=False), TOTAL)}
    assert gone == set()  # a0 is a waiting segment's source, a1 and b0 are latest
    add(study, 0, 2, 5.0)
    gone = {t.number for t in pbt.collectable(study.get_trials(deepcopy=False), TOTAL)}
    assert gone == {a1.number} and b0.number not in gone


@pytest.mark.parametrize(
    "record",
    [
        None,
        "member 1",
        {"member": 1},
        {"member": -1, "index": 0, "start": 0, "end": 10},
        {"member": True, "index": 0, "start": 0, "end": 10},
        {"member": 1, "index": 0, "start": 0, "end": 10, "explore": ["x"]},
        {"member": 1, "index": 0, "start": 0, "end": 10, "source": 5},
    ],
)
def test_a_planted_segment_record_reads_as_none(record):
    assert Segment.read(record) is None


def test_settings_ignore_planted_values():
    system = {
        segments.POPULATION: "many",
        segments.PERTURB: [0.8, -1],
        f"{segments.FROZEN}2": True,
        f"{segments.FROZEN}x": True,
        f"{segments.FORCE}1": 3,
        f"{segments.FORCE}2": "3",
    }
    got = segments.settings(PbtOptions(population=5, interval=100), system)
    assert got.population == 5 and got.perturb == (0.8, 1.2)
    assert got.frozen == {2} and dict(got.force) == {1: 3}


def test_the_schedule_follows_the_weights_through_every_exploit(study):
    a0 = add(study, 0, 0, 1.0, params={"learning_rate": 1e-3})
    b0 = add(study, 1, 0, 9.0, params={"learning_rate": 2e-3})
    b1 = add(study, 1, 1, 9.5, parent=b0.number, params={"learning_rate": 2e-3})
    # Member 0 copies member 1's first segment (ending at 1,000) after its own first.
    a1 = add(
        study, 0, 1, 3.0, start=1000, parent=b0.number, donor=1, params={"learning_rate": 3e-3}
    )
    a2 = add(study, 0, 2, 4.0, start=2000, parent=a1.number, params={"learning_rate": 3e-3})
    stretches = segments.schedule(study.get_trials(deepcopy=False), a2)
    assert [(s.start, s.end, s.trial, s.member) for s in stretches] == [
        (0, 1000, b0.number, 1),
        (1000, 2000, a1.number, 0),
        (2000, 3000, a2.number, 0),
    ]
    assert stretches[0].params["learning_rate"] == 2e-3
    assert a0.number not in [s.trial for s in stretches] and b1.number != stretches[0].trial
    assert segments.schedule(study.get_trials(deepcopy=False), study.trials[0]) == [
        segments.Stretch(0, 1000, a0.number, 0, dict(a0.params))
    ]


def test_the_best_final_segment_is_the_best_member_that_trained_its_budget(study):
    early = add(study, 0, 0, 500.0)  # best value, but its member trained on past it
    add(study, 0, 3, 100.0)
    best = add(study, 1, 3, 300.0)
    running(study, 2, 3)
    found = [(t, segments.segment_of(t), t.state == TrialState.COMPLETE) for t in study.trials]
    assert segments.best_final(found, TOTAL, maximize=True).number == best.number
    assert segments.best_final(found, TOTAL, maximize=False).number != early.number
    assert segments.best_final(found[:1], TOTAL, maximize=True) is None
    assert segments.counts(s for _, s, _ in found) == {
        "members": 3,
        "segments": 4,
        "exploits": 0,
    }
