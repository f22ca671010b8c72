"""Training: Stable-Baselines3 agents on Gymnasium envs (or the user's own function).

The only layer that imports torch and Stable-Baselines3. Workers use it; the UI never does.
"""
