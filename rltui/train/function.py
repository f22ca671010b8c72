"""Training one trial with the user's own code: ``train: {function: "package.module:function"}``.

It is called as ``fn(params, ctx)`` with a :class:`TrialContext`; it reports evaluations with
``ctx.report(step, value)`` and checks ``ctx.should_stop()`` often. Stopping with ``ctx.paused``
true, it saves its state into ``ctx.checkpoint_dir``; the resumed run finds it in
``ctx.resume_dir``, and the earlier evaluations are kept beside it so the objective covers the
whole curve (a function that saves nothing starts over). A returned float becomes the value.
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rltui.search.lifecycle import ControlAction, StopCause
from rltui.spec import StudyFile
from rltui.train.checkpoint import publish
from rltui.train.progress import ProgressLog
from rltui.train.trainer import Outcome, Reporter, TrialFailed
from rltui.train.trust import (
    CheckpointRefused,
    TrustPolicy,
    judge_chain,
    trusted_checkpoint,
    walk,
)

STATE_FILE = "rltui-function.json"
STOP_REQUESTS = (ControlAction.PAUSE, ControlAction.PRUNE, ControlAction.KILL)
UserFunction = Callable[[dict[str, Any], "TrialContext"], Any]


@dataclass
class TrialContext:
    """What a user's training function gets besides its parameters.

    ``params`` (the hyperparameters), ``seed``, ``device`` and ``budget`` (the timesteps to train
    for) describe the trial; ``resume_dir`` is the folder of the state saved at a pause when
    this run continues one (None otherwise); ``evaluations`` lists ``(step, value)`` reports,
    those made before a pause included; ``timesteps`` is the furthest step seen.
    """

    params: dict[str, Any]
    seed: int | None
    device: str
    budget: int
    resume_dir: Path | None
    _reporter: Reporter
    _log: ProgressLog | None
    _staging: Path  # becomes the checkpoint ``step-N`` once the pause is complete
    evaluations: list[tuple[int, float]] = field(default_factory=list)
    timesteps: int = 0
    pruned: bool = False  # the pruner said stop
    failure: str | None = None  # a bad report, kept in case the function catches the error

    @property
    def checkpoint_dir(self) -> Path:
        """An empty folder (created on first use) to save state into when pausing."""
        if not self._staging.exists():
            self._staging.mkdir(parents=True)
        return self._staging

    def report(self, step: int, value: float) -> None:
        """Record the evaluation ``value`` at timestep ``step``; steps must increase."""
        step, value = int(step), float(value)
        last = self.evaluations[-1][0] if self.evaluations else None
        if not math.isfinite(value):
            self.failure = f"the function reported {value} at step {step}"
        elif last is not None and step <= last:
            self.failure = f"report steps must increase: step {step} came after step {last}"
        if self.failure:
            raise TrialFailed(self.failure)
        self.evaluations.append((step, value))
        self.progress(step)
        if self._log is not None:
            self._log.evaluation(step, value)
        # As with SB3: the final evaluation is never pruned, a trial at its budget is complete.
        if self._reporter.report(step, value) and step < self.budget:
            self.pruned = True

    def log(self, step: int, metrics: Mapping[str, float]) -> None:
        """Write training metrics to the trial's progress log (``train/loss`` and the like)."""
        if self._log is not None:
            self._log.write(dict(metrics), {}, int(step))

    def progress(self, timesteps: int) -> None:
        """Tell the worker how far training got; cheap enough to call every step."""
        self.timesteps = max(self.timesteps, int(timesteps))
        self._reporter.progress(self.timesteps)

    def should_stop(self) -> bool:
        """True when the trial was paused, pruned or killed: return soon."""
        return self.pruned or self._reporter.requested() in STOP_REQUESTS

    @property
    def paused(self) -> bool:
        """True when the stop is a pause: save state into :attr:`checkpoint_dir`."""
        return not self.pruned and self._reporter.requested() is ControlAction.PAUSE

    def stop_reason(self) -> StopCause | None:
        """How the trial is to end: 'pruned' (by the pruner), or the user's request."""
        if self.pruned:
            return StopCause.PRUNER
        return StopCause.asked(self._reporter.requested())


def load_function(study: StudyFile) -> UserFunction:
    """Import ``train.function``; the study file's folder comes first on ``sys.path``.

    That folder is the stored study file's, which whoever can write the storage could name:
    it goes on ``sys.path`` only when it, every folder above it, and the module files in it
    are this user's own and writable by nobody else (:class:`TrialFailed` otherwise). A folder
    this host does not have is left out, and the module is looked for on ``sys.path``.
    """
    ref = study.spec.train.function or ""
    module_name, _, attr = ref.partition(":")
    folder = _study_folder(study, ref, module_name)
    if folder is not None and folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a missing module, or the module's own code failing at import
        where = f" (looked beside the study file in {folder} and on sys.path)" if folder else ""
        raise TrialFailed(
            f"train.function '{ref}': cannot import '{module_name}'{where}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise TrialFailed(
            f"train.function '{ref}': module '{module_name}' has no function '{attr}'"
        )
    return fn


def _study_folder(study: StudyFile, ref: str, module_name: str) -> str | None:
    """The study file's folder, resolved, once trusted; None when this host has none."""
    if study.path is None:
        return None
    what = f"train.function '{ref}': the study folder"
    try:
        real = study.path.parent.resolve(strict=True)
        _trusted_module(real, module_name, what)
    except FileNotFoundError:
        return None
    except CheckpointRefused as exc:
        raise TrialFailed(
            f"{exc.reason}; or install '{module_name}' as a package, outside the study folder"
        ) from exc
    return str(real)


def _trusted_module(folder: Path, module: str, what: str) -> None:
    """Check ``folder``, the folders above it, and what importing ``module`` from it would
    run (its top-level ``.py`` file or package, and their compiled copies in
    ``__pycache__``): all this user's own and writable by nobody else. A group named in
    ``RLTUI_CHECKPOINT_GROUP`` is not trusted here: nothing signs a study folder."""
    policy = TrustPolicy(os.geteuid())
    judge_chain(folder, policy, what)
    top = module.split(".")[0]
    entries: list[Path] = []
    for candidate in (folder / f"{top}.py", folder / top, folder / "__pycache__"):
        if not os.path.lexists(candidate):
            continue
        entries.append(candidate)
        if candidate.name == "__pycache__":
            entries += candidate.glob(f"{top}.*")
        elif candidate.is_dir() and not candidate.is_symlink():
            entries += [entry for entry, _ in walk(candidate)]
    for entry in entries:
        info = os.lstat(entry)
        if stat.S_ISLNK(info.st_mode):  # what runs is the target: judge it and its folders
            judge_chain(entry.resolve(strict=True), policy, what)
        else:
            policy.judge(entry, info, what)


def train_function(
    study: StudyFile,
    params: dict[str, Any],
    reporter: Reporter,
    *,
    device: str,
    seed: int | None,
    checkpoint_dir: Path,
    resume: Path | None = None,
    log: ProgressLog | None = None,
    checkpoint_on_eval: bool = False,  # unused: the function saves its state only at a pause
) -> Outcome:
    """Run the user's function for one trial; same contract as
    :func:`rltui.train.trainer.train_sb3`. A returned float lands in ``extra["value"]``.
    ``resume`` is handed to the function only once trusted (see :mod:`rltui.train.trust`)."""
    fn = load_function(study)
    saved: dict[str, Any] = {"evaluations": [], "timesteps": 0, "state": False}
    if resume is not None:
        resume = trusted_checkpoint(resume, checkpoint_dir.parent, trial=checkpoint_dir.name)
        try:
            saved = json.loads((resume / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrialFailed(f"cannot resume from {resume}: {exc}") from exc
    if not saved["state"]:  # nothing of the function's own was saved: it starts over
        saved, resume = {"evaluations": [], "timesteps": 0}, None
    staging = checkpoint_dir / f".pending-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    budget = study.spec.train.timesteps
    ctx = TrialContext(dict(params), seed, device, budget, resume, reporter, log, staging)
    ctx.evaluations = [(int(s), float(v)) for s, v in saved["evaluations"]]
    ctx.timesteps = int(saved["timesteps"])
    if log is not None:  # rows a lost run wrote past the state it resumes from are gone
        log.truncate_after(ctx.timesteps)
    started = time.perf_counter()
    try:
        returned = fn(ctx.params, ctx)
    except Exception as exc:
        if ctx.failure and not isinstance(exc, TrialFailed):  # caught ours, then failed
            raise TrialFailed(ctx.failure) from exc
        raise
    if ctx.failure:  # the function caught the TrialFailed and went on
        raise TrialFailed(ctx.failure)
    out = Outcome(ctx.evaluations, ctx.timesteps, stopped=ctx.stop_reason())
    out.train_seconds = time.perf_counter() - started
    if out.stopped is StopCause.PAUSE and ctx.timesteps >= ctx.budget:
        out.stopped = None  # it finished its budget before it noticed the pause
    if out.stopped is StopCause.PAUSE:
        out.checkpoint = _save(ctx, checkpoint_dir)
    elif out.stopped is None and returned is not None:
        if not isinstance(returned, numbers.Real) or not math.isfinite(returned):
            raise TrialFailed(f"the function returned {returned!r}, not a finite number")
        out.extra["value"] = float(returned)
    if out.stopped is not StopCause.PAUSE:
        shutil.rmtree(ctx._staging, ignore_errors=True)
    return out


def _save(ctx: TrialContext, folder: Path) -> Path:
    """Seal the function's state with the evaluations into ``folder/step-N``, atomically."""
    staging = ctx.checkpoint_dir
    state = {
        "evaluations": ctx.evaluations,
        "timesteps": ctx.timesteps,
        "state": any(p.name != STATE_FILE for p in staging.iterdir()),
    }
    (staging / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    final = folder / f"step-{ctx.timesteps:012d}"
    publish(staging, final)  # also when paused again at the step it resumed from
    for old in folder.glob("step-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final
