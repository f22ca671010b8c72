"""rltui: tune deep reinforcement learning agents from the terminal."""

__version__ = "0.2.0"
