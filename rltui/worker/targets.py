"""A trial that reached the study's target (:mod:`rltui.spec.target`): recorded on the trial,
and, once as many trials as ``train.target.trials`` asks have reached it, the study drains:
workers finish the trials they run and take no new ones."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rltui.search import attrs
from rltui.spec import StudyFile, target

if TYPE_CHECKING:
    from rltui.worker.trial import TrialRun


def record(run: TrialRun, study: StudyFile, step: int | None) -> None:
    """Record that ``run``'s trial reached the target at ``step`` (None: it did not)."""
    if step is None:
        return
    storage, worker = run.storage, run.worker
    storage.set_trial_system_attr(run.id, attrs.TARGET, step)
    storage.set_trial_user_attr(run.id, attrs.USER_TARGET, step)
    _, enough = target.read(study.spec.train.target)
    if enough is None:
        return
    trials = storage.get_all_trials(worker.study_id, deepcopy=False)
    reached = sum(attrs.TARGET in t.system_attrs for t in trials)
    run.say(f"reached the target at {step:,} timesteps ({reached} of {enough} trials)")
    system = storage.get_study_system_attrs(worker.study_id)
    if reached >= enough and not system.get(attrs.DRAIN):
        storage.set_study_system_attr(worker.study_id, attrs.DRAIN, time.time())
        run.say(f"{reached} trials reached the target: the study drains")
