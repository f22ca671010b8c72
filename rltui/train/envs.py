"""Training and evaluation environments for one trial."""

from __future__ import annotations

from dataclasses import dataclass

from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rltui.spec import StudyFile


@dataclass
class TrialEnvs:
    """The vectorised training env and a one-env evaluation env (normalised alike)."""

    train: VecEnv
    eval: VecEnv

    def close(self) -> None:
        self.train.close()
        self.eval.close()


def make_envs(study: StudyFile, seed: int | None) -> TrialEnvs:
    spec = study.spec.train
    assert spec.env is not None
    train = make_vec_env(spec.env, n_envs=spec.n_envs, seed=seed, env_kwargs=spec.env_kwargs)
    eval_seed = None if seed is None else seed + 10_000
    evaluation = make_vec_env(spec.env, n_envs=1, seed=eval_seed, env_kwargs=spec.env_kwargs)
    if spec.normalize.obs or spec.normalize.reward:
        train = VecNormalize(train, norm_obs=spec.normalize.obs, norm_reward=spec.normalize.reward)
        evaluation = VecNormalize(
            evaluation, norm_obs=spec.normalize.obs, norm_reward=False, training=False
        )
    return TrialEnvs(train, evaluation)
