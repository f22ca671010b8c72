"""Names of the attributes rltui keeps on Optuna studies and trials.

Everything rltui adds on top of Optuna (spec versions, PAUSED, control requests, heartbeats,
progress) is stored as system attributes under the ``rltui:`` prefix, so the storage stays a
plain Optuna storage that optuna-dashboard and the optuna CLI can open. A few facts are also
copied into user attributes (``rltui_...``), which optuna-dashboard shows and
``study.trials_dataframe()`` lists (:mod:`rltui.search.mirror` writes them).
"""

from __future__ import annotations

PREFIX = "rltui:"

# Study attributes.
SPEC_VERSION = PREFIX + "spec_version"
DRAIN = PREFIX + "drain"
GRID_ENQUEUED = PREFIX + "grid_enqueued"
ENQUEUED_VERSIONS = PREFIX + "enqueued_versions"


def spec_key(version: int) -> str:
    return f"{PREFIX}spec:{version}"


def worker_key(worker_id: str) -> str:
    return f"{PREFIX}worker:{worker_id}"


WORKER_PREFIX = PREFIX + "worker:"

# Trial attributes.
TRIAL_SPEC_VERSION = PREFIX + "spec_version"
TRIAL_WORKER = PREFIX + "worker"
CONTROL = PREFIX + "control"
PAUSED = PREFIX + "paused"
RESUME = PREFIX + "resume"
CHECKPOINT = PREFIX + "checkpoint"
PROGRESS = PREFIX + "progress"
ERROR = PREFIX + "error"
REASON = PREFIX + "reason"
RETRY_OF = PREFIX + "retry_of"
RETRIES = PREFIX + "retries"
SEED_VALUES = PREFIX + "seed_values"
TARGET = PREFIX + "target"  # the step at which the trial reached train.target
BUDGET = PREFIX + "budget"
# Seconds a paused-and-resumed trial trained before its current stint (Optuna restarts
# datetime_start when a worker claims the trial again).
ELAPSED = PREFIX + "elapsed"

# Trial user attributes: copies for other tools (rltui.search.mirror), never read by rltui.
USER_PREFIX = "rltui_"
USER_STATE = USER_PREFIX + "state"  # WAITING, RUNNING, PAUSED, COMPLETE, PRUNED or FAIL
USER_REASON = USER_PREFIX + "reason"
USER_WORKER = USER_PREFIX + "worker"
USER_TIMESTEPS = USER_PREFIX + "timesteps"
USER_TARGET = USER_PREFIX + "target_step"
