"""Optuna glue: storages, studies, samplers and pruners, trial states, control, reading.

Imports ``optuna`` but never torch or Stable-Baselines3: the UI builds on this layer.
"""
