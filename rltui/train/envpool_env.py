"""``vec_env: envpool``: a trial's training envs stepped by EnvPool, in C++ threads.

EnvPool (``rltui[envpool]``) steps a batch of envs outside Python; rltui uses it for the
training envs only. Evaluation keeps the Gymnasium env of the same id, so a trial's values
are comparable with those of a study trained on ``dummy`` or ``subproc`` envs, and a policy
trained on EnvPool is judged where it will be used.

SB3 wants an env that has ended to be reset in the same step, with its last observation in
``infos[i]["terminal_observation"]`` and whether a time limit cut it in
``infos[i]["TimeLimit.truncated"]`` (on-policy algorithms then bootstrap its value): EnvPool
resets an ended env at its next step instead, so :class:`EnvPoolVecEnv` resets the ended envs
at once, and tells each ended episode's return and length in ``infos[i]["episode"]`` as
SB3's ``Monitor`` does under the other envs (not a ``VecMonitor`` on top: the training and
evaluation stacks must have the same VecEnv wrappers, for SB3 to copy normalisation statistics
from one to the other). EnvPool's envs cannot be pickled, so a paused trial resumes with fresh
envs (as SB3 itself does after ``load``).
"""

from __future__ import annotations

import os
import random
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn


class EnvPoolVecEnv(VecEnv):
    """An EnvPool env (``env_type="gymnasium"``) as an SB3 VecEnv."""

    def __init__(self, pool: Any, env_id: str) -> None:
        self.pool = pool
        self.env_id = env_id
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Gymnasium's notes on the spaces EnvPool builds
            spaces = pool.observation_space, pool.action_space
        super().__init__(pool.spec.config.num_envs, *spaces)
        self._actions: np.ndarray | None = None
        self._returns = np.zeros(self.num_envs, dtype=np.float64)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._started = time.time()

    def reset(self) -> VecEnvObs:
        observations, _ = self.pool.reset()
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminated, truncated, details = self.pool.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        self._returns += rewards
        self._lengths += 1
        # EnvPool's own details (env ids, step counts) are nothing SB3 reads: an info is
        # built only for an env that ended, where it says what SB3 needs.
        del details
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        ended = np.flatnonzero(dones)
        if ended.size:
            for i in ended:
                infos[i]["terminal_observation"] = observations[i].copy()
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                infos[i]["episode"] = {
                    "r": float(self._returns[i]),
                    "l": int(self._lengths[i]),
                    "t": round(time.time() - self._started, 6),
                }
            self._returns[ended] = 0.0
            self._lengths[ended] = 0
            fresh, _ = self.pool.reset(ended.astype(np.int32))
            observations[ended] = fresh
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        close = getattr(self.pool, "close", None)
        if close is not None:
            close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name != "render_mode":  # EnvPool's envs render nothing
            raise AttributeError(f"EnvPool's envs have no attribute {attr_name} to read")
        return [None] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"EnvPool's envs take no attribute ({attr_name})")

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        raise AttributeError(f"EnvPool's envs have no method {method_name} to call one by one")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)


def make_envpool(env_id: str, n_envs: int, seed: int | None, env_kwargs: dict[str, Any]) -> VecEnv:
    """``n_envs`` envs of ``env_id`` in one EnvPool, seeded from ``seed`` (EnvPool seeds its
    envs ``seed``, ``seed + 1``, ...), stepped by at most as many threads as this process has
    CPUs (EnvPool's default, a thread per env, only adds switches on a small machine)."""
    import envpool

    known = envpool.list_all_envs()
    if env_id not in known:
        near = sorted(e for e in known if env_id.split("-")[0] in e)[:5]
        hint = f" (it has {', '.join(near)})" if near else ""
        raise ValueError(
            f"EnvPool has no env '{env_id}'{hint}: use vec_env: dummy or subproc for it"
        )
    options = {"num_threads": min(n_envs, _cpus()), **env_kwargs}
    pool = envpool.make(
        env_id,
        env_type="gymnasium",
        num_envs=n_envs,
        seed=random.randrange(2**31) if seed is None else seed,
        **options,
    )
    return EnvPoolVecEnv(pool, env_id)


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)
