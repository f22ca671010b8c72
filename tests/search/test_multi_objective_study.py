"""A study with several objectives in the storage: created with one direction each and the
objectives' names, refused when its file changes them, and ended with one value each."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rltui.search import endings
from rltui.search.lifecycle import StopCause
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.reader import StudyReader
from rltui.search.study import open_study, publish_spec
from rltui.spec import SpecError, load_study

SMOKE = Path(__file__).resolve().parents[2] / "sample_studies" / "smoke.yaml"
PRUNER = "pruner:\n  type: median\n  n_startup_trials: 2\n  n_warmup_steps: 0\n"


def _file(tmp_path: Path, objectives: str, direction: str | None = None) -> Path:
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    text = path.read_text(encoding="utf-8").replace(PRUNER, "")
    line = f"objectives: {objectives}\n" + (f"direction: {direction}\n" if direction else "")
    path.write_text(text.replace("direction: maximize\n", line), encoding="utf-8")
    return path


def test_the_study_gets_its_directions_and_names(tmp_path: Path) -> None:
    ostudy, _ = open_study(load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False))
    assert [d.name for d in ostudy.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert ostudy.metric_names == ["reward", "wall_time"]
    snap = StudyReader(ostudy).poll()
    assert snap.multi_objective and snap.objective_names == ("reward", "wall_time")
    assert snap.direction.name == "MAXIMIZE"


def test_a_single_objective_study_is_as_before(tmp_path: Path) -> None:
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    ostudy, _ = open_study(load_study(path, check_env=False))
    assert ostudy.metric_names is None and len(ostudy.directions) == 1


def test_other_directions_for_the_same_name_are_refused(tmp_path: Path) -> None:
    open_study(load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False))
    path = _file(tmp_path, "[reward, wall_time]", "[maximize, maximize]")
    with pytest.raises(SpecError) as caught:
        open_study(load_study(path, check_env=False))
    text = str(caught.value)
    assert (
        "direction: the study in the storage already optimises towards [maximize, minimize]" in text
    )
    assert "use another 'name' for a new study" in text


def test_other_objectives_with_the_same_directions_are_refused(tmp_path: Path) -> None:
    ostudy, _ = open_study(load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False))
    path = _file(tmp_path, "[auc, wall_time]")
    with pytest.raises(SpecError) as caught:
        publish_spec(ostudy, load_study(path, check_env=False))
    text = str(caught.value)
    assert "objectives: this study's trials hold values of [reward, wall_time]" in text
    assert "cannot change to [auc, wall_time]" in text


def test_a_change_of_directions_from_the_editor_is_refused(tmp_path: Path) -> None:
    # The window publishes an edited file into the open study (open_study is not called).
    ostudy, _ = open_study(load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False))
    path = _file(tmp_path, "[reward, wall_time]", "[maximize, maximize]")
    with pytest.raises(SpecError) as caught:
        publish_spec(ostudy, load_study(path, check_env=False))
    assert "cannot change its directions to [maximize, maximize]" in str(caught.value)


@pytest.fixture
def two() -> optuna.Study:
    return optuna.create_study(directions=["maximize", "minimize"])


def test_a_running_trial_completes_with_both_values(two: optuna.Study) -> None:
    trial = two.ask()
    assert endings.end(two, trial_id_of(trial), None, value=[150.0, 12.5])
    assert two.trials[0].state == TrialState.COMPLETE and two.trials[0].values == [150.0, 12.5]


def test_a_pruned_trial_keeps_its_curve_and_has_no_values(two: optuna.Study) -> None:
    trial = two.ask()
    storage_of(two).set_trial_intermediate_value(trial_id_of(trial), 128, 40.0)
    endings.end(two, trial_id_of(trial), StopCause.PRUNE)
    frozen = two.trials[0]
    assert frozen.state == TrialState.PRUNED and frozen.values is None
    assert frozen.intermediate_values == {128: 40.0}


def test_a_waiting_trial_pruned_gets_no_single_value(two: optuna.Study) -> None:
    two.enqueue_trial({})
    (waiting,) = two.get_trials(states=(TrialState.WAITING,))
    storage_of(two).set_trial_intermediate_value(trial_id_of(waiting), 128, 40.0)
    endings.end(two, trial_id_of(waiting), StopCause.PRUNE)
    assert two.trials[0].state == TrialState.PRUNED and two.trials[0].values is None


def test_rltui_run_shows_the_front_live_and_in_its_summaries(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from rltui import headless
    from rltui.headless import summary

    study = load_study(_file(tmp_path, "[reward, wall_time]"), check_env=False)
    ostudy, url = open_study(study)
    for values in ([150.0, 60.0], [100.0, 90.0], [90.0, 30.0]):
        trial = ostudy.ask()
        trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        ostudy.tell(trial, values)
    snap = StudyReader(ostudy).poll()
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(headless.render(snap, study, url))
    live = console.file.getvalue()
    assert "front #0 #2" in live  # the file's enqueued trial ran first
    assert "150 / 60 ★" in live and "100 / 90" in live and "100 / 90 ★" not in live
    doc = summary.summary_doc(snap, study, url, False, None, 1.0)
    assert doc["pareto_front"] == [
        {"number": 0, "values": {"reward": 150.0, "wall_time": 60.0}},
        {"number": 2, "values": {"reward": 90.0, "wall_time": 30.0}},
    ]


def test_the_best_trial_is_the_fronts_best_by_the_first_objective(two: optuna.Study) -> None:
    # #0 and #1 tie on reward; #1 is faster, so #0 is dominated and is not "the best".
    for values in ([500.0, 5.0], [500.0, 3.0], [400.0, 1.0]):
        two.add_trial(optuna.trial.create_trial(values=values))
    snap = StudyReader(two).poll()
    assert [r.number for r in snap.front] == [1, 2]
    assert snap.best is not None and snap.best.number == 1
