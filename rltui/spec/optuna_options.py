"""Samplers and pruners a study may name, and the options each takes (kept in sync by a test)."""

from __future__ import annotations

from rltui.spec import pbt

SAMPLER_OPTIONS: dict[str, frozenset[str]] = {
    "tpe": frozenset(
        [
            "consider_prior",
            "prior_weight",
            "consider_magic_clip",
            "consider_endpoints",
            "n_startup_trials",
            "n_ei_candidates",
            "seed",
            "multivariate",
            "group",
            "warn_independent_sampling",
            "constant_liar",
        ]
    ),
    "random": frozenset({"seed"}),
    "cmaes": frozenset(
        [
            "sigma0",
            "n_startup_trials",
            "warn_independent_sampling",
            "seed",
            "consider_pruned_trials",
            "restart_strategy",
            "popsize",
            "inc_popsize",
            "use_separable_cma",
            "with_margin",
            "lr_adapt",
        ]
    ),
    "qmc": frozenset(
        ["qmc_type", "scramble", "seed", "warn_asynchronous_seeding", "warn_independent_sampling"]
    ),
    "gp": frozenset(
        ["seed", "n_startup_trials", "deterministic_objective", "warn_independent_sampling"]
    ),
    "nsgaii": frozenset(
        ["population_size", "mutation_prob", "crossover_prob", "swapping_prob", "seed"]
    ),
    "grid": frozenset({"seed"}),
    pbt.PBT: pbt.OPTIONS,
    "policy_gradient": frozenset(
        [
            "batch_size",
            "learning_rate",
            "baseline_decay",
            "init_std",
            "min_std",
            "min_prob",
            "seed",
            "n_startup_trials",
        ]
    ),
}

PRUNER_OPTIONS: dict[str, frozenset[str]] = {
    "median": frozenset(["n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"]),
    "percentile": frozenset(
        ["percentile", "n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"]
    ),
    "successive_halving": frozenset(
        ["min_resource", "reduction_factor", "min_early_stopping_rate", "bootstrap_count"]
    ),
    "hyperband": frozenset(["min_resource", "max_resource", "reduction_factor", "bootstrap_count"]),
    "threshold": frozenset(["lower", "upper", "n_warmup_steps", "interval_steps"]),
    "wilcoxon": frozenset(["p_threshold", "n_startup_steps"]),
    "none": frozenset(),
}
