"""A compact DQN in plain PyTorch that rltui tunes as a user function.

``sample_studies/cartpole_torch_dqn.yaml`` runs it with ``train: {function:
"examples.torch_dqn:train"}``: rltui calls ``train(params, ctx)`` with the trial's
hyperparameters and a :class:`rltui.train.function.TrialContext`. The parts of DQN: a replay
buffer, a target network copied from the online network every ``sync_every`` env steps,
epsilon-greedy exploration on a linear schedule, the Huber (or squared) TD loss and Adam.

Beyond :data:`DEFAULTS`: ``warm_up_steps`` env steps of uniformly random actions fill the
buffer before learning and the epsilon schedule start (0: none, the schedule starts at once);
``eps_decay_steps`` sets the schedule's length in steps instead of ``eps_fraction`` of the
budget; ``max_grad_norm: null`` turns gradient clipping off; a ``seed`` parameter takes the
place of the study's ``train.seed`` (so a grid over ``seed`` runs one trial per seed); and
``log_episodes: true`` logs every training episode's return as ``rollout/ep_return``.
``sample_studies/cartpole_torch_dqn_lightning.yaml`` sets them as PyTorch Lightning's DQN
example does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from rltui.train.function import TrialContext

STATE_FILE = "dqn.pt"
DEFAULTS: dict[str, Any] = {
    "env_id": "CartPole-v1",
    "learning_rate": 1e-3,
    "batch_size": 64,
    "gamma": 0.99,
    "buffer_size": 50_000,
    "learning_starts": 1_000,
    "warm_up_steps": 0,
    "train_every": 1,
    "sync_every": 500,
    "eps_start": 1.0,
    "eps_end": 0.05,
    "eps_fraction": 0.2,
    "eps_decay_steps": None,
    "hidden": [64, 64],
    "loss": "huber",
    "max_grad_norm": 10.0,
    "eval_every": 5_000,
    "eval_episodes": 5,
    "log_episodes": False,
}
# Huber keeps one big TD error from exploding the gradient; the squared error is what many
# reference implementations (PyTorch Lightning's DQN example among them) use.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "huber": nn.functional.smooth_l1_loss,
    "mse": nn.functional.mse_loss,
}


class ReplayBuffer:
    """The last ``size`` transitions in preallocated numpy arrays, overwritten in a ring."""

    def __init__(self, size: int, obs_dim: int):
        self.obs = np.zeros((size, obs_dim), np.float32)
        self.next_obs = np.zeros((size, obs_dim), np.float32)
        self.actions = np.zeros(size, np.int64)
        self.rewards = np.zeros(size, np.float32)
        # 1 only where the episode truly ended: a time-limit cut-off still bootstraps.
        self.terminated = np.zeros(size, np.float32)
        self.size, self.pos, self.full = size, 0, False

    def add(
        self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool
    ) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.pos = (i + 1) % self.size
        self.full = self.full or self.pos == 0

    def sample(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        idx = rng.integers(0, self.size if self.full else self.pos, n)
        arrays = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated)
        return tuple(torch.as_tensor(a[idx]) for a in arrays)


def mlp(obs_dim: int, n_actions: int, hidden: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(obs_dim, width), nn.ReLU()]
        obs_dim = width
    return nn.Sequential(*layers, nn.Linear(obs_dim, n_actions))


def check_params(p: dict[str, Any]) -> None:
    """Raise ValueError, saying which parameter and what it may be, for a value this DQN
    cannot use (the trial then fails with that message instead of training something else)."""

    def whole(name: str, low: int) -> bool:
        v = p[name]
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    if not isinstance(p["loss"], str) or p["loss"] not in LOSSES:
        raise ValueError(f"loss: {p['loss']!r} is not one of {', '.join(map(repr, LOSSES))}")
    if not whole("warm_up_steps", 0):
        raise ValueError(f"warm_up_steps: {p['warm_up_steps']!r} is not a whole number >= 0")
    if p["eps_decay_steps"] is not None and not whole("eps_decay_steps", 1):
        raise ValueError(
            f"eps_decay_steps: {p['eps_decay_steps']!r} is not a whole number >= 1; "
            "leave it out (or null) to decay over eps_fraction of the budget"
        )
    clip = p["max_grad_norm"]
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, (int, float)) or clip <= 0
    ):
        raise ValueError(f"max_grad_norm: {clip!r} is not a number > 0; null turns clipping off")


def epsilon(step: int, budget: int, p: dict[str, Any]) -> float:
    """1 (uniformly random actions) during the warm-up; then linear from ``eps_start`` to
    ``eps_end`` over ``eps_decay_steps`` steps, or the first ``eps_fraction`` of the budget."""
    warm = p["warm_up_steps"]
    if step < warm:
        return 1.0
    span = p["eps_decay_steps"] if p["eps_decay_steps"] is not None else p["eps_fraction"] * budget
    done = min(1.0, (step - warm) / max(1.0, span))
    return float(p["eps_start"] + done * (p["eps_end"] - p["eps_start"]))


def evaluate(q: nn.Module, env: gym.Env, episodes: int, seed: int) -> float:
    """Mean return of the greedy policy over ``episodes`` episodes."""
    total = 0.0
    for i in range(episodes):
        # The same start states at every evaluation, so evaluations compare like with like and
        # need no RNG state of their own across a pause.
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            with torch.no_grad():
                action = int(q(torch.as_tensor(obs).unsqueeze(0)).argmax())
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
    return total / episodes


def train(params: dict[str, Any], ctx: TrialContext) -> float | None:
    """Train for ``ctx.budget`` environment steps; the trial's value comes from the reports."""
    p = {**DEFAULTS, **params}
    check_params(p)
    seed = p.get("seed", ctx.seed)
    seed = 0 if seed is None else int(seed)
    device = ctx.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    env, eval_env = gym.make(p["env_id"]), gym.make(p["env_id"])
    # DQN needs discrete actions; the MLP takes a flat observation vector.
    assert isinstance(env.action_space, gym.spaces.Discrete) and env.observation_space.shape
    obs_dim, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    torch.manual_seed(seed)
    q = mlp(obs_dim, n_actions, list(p["hidden"])).to(device)
    target = copy.deepcopy(q)
    optimizer = torch.optim.Adam(q.parameters(), lr=p["learning_rate"])
    td_loss_fn = LOSSES[p["loss"]]
    buffer = ReplayBuffer(int(p["buffer_size"]), obs_dim)
    rng = np.random.default_rng(seed)  # exploration and minibatches draw only from this
    obs, _ = env.reset(seed=seed)
    step, loss = 0, None  # loss: the last TD loss, for the progress log
    ep_return = 0.0  # of the training episode in progress
    if ctx.resume_dir is not None:
        # Everything that changes while training, so the resumed run equals an unpaused one.
        # The env itself is pickled: the episode in progress and the env's RNG carry on.
        state = torch.load(ctx.resume_dir / STATE_FILE, weights_only=False)
        q.load_state_dict(state["q"])
        target.load_state_dict(state["target"])
        optimizer.load_state_dict(state["optimizer"])
        env.close()
        buffer, env, obs, step = state["buffer"], state["env"], state["obs"], state["step"]
        ep_return = state.get("ep_return", 0.0)
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])

    while step < ctx.budget:
        if ctx.should_stop():  # checked between steps, where the state above is consistent
            if ctx.paused:
                torch.save(
                    {
                        "q": q.state_dict(),
                        "target": target.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "buffer": buffer,
                        "env": env,
                        "obs": obs,
                        "step": step,
                        "ep_return": ep_return,
                        "rng": rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state(),
                    },
                    ctx.checkpoint_dir / STATE_FILE,
                )
            break
        eps = epsilon(step, ctx.budget, p)
        if rng.random() < eps:
            action = int(rng.integers(n_actions))
        else:
            with torch.no_grad():
                action = int(q(torch.as_tensor(obs, device=device).unsqueeze(0)).argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, float(reward), next_obs, terminated)
        ep_return += float(reward)
        obs = next_obs
        step += 1
        ctx.progress(step)
        if terminated or truncated:
            obs = env.reset()[0]
            if p["log_episodes"]:
                ctx.log(step, {"rollout/ep_return": ep_return})
            ep_return = 0.0

        # Learning starts after the warm-up: one update per env step from then on (with
        # train_every 1), as in Lightning's example.
        learning = step > p["warm_up_steps"] and step >= p["learning_starts"]
        if learning and step % p["train_every"] == 0:
            batch = buffer.sample(p["batch_size"], rng)
            b_obs, b_act, b_rew, b_next, b_term = (t.to(device) for t in batch)
            with torch.no_grad():  # the target net gives stable targets between syncs
                best_next = target(b_next).max(dim=1).values
                y = b_rew + p["gamma"] * (1.0 - b_term) * best_next
            q_taken = q(b_obs).gather(1, b_act.unsqueeze(1)).squeeze(1)
            td_loss = td_loss_fn(q_taken, y)
            optimizer.zero_grad()
            td_loss.backward()
            if p["max_grad_norm"] is not None:
                nn.utils.clip_grad_norm_(q.parameters(), p["max_grad_norm"])
            optimizer.step()
            loss = td_loss.item()
        if step % p["sync_every"] == 0:
            target.load_state_dict(q.state_dict())
        if step % p["eval_every"] == 0 or step == ctx.budget:
            ctx.report(step, evaluate(q, eval_env, int(p["eval_episodes"]), seed + 10_000))
            metrics = {"rollout/exploration_rate": eps}
            if loss is not None:  # None until learning starts
                metrics["train/loss"] = loss
            ctx.log(step, metrics)
    env.close()
    eval_env.close()
    return None
