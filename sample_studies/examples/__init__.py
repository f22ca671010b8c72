"""Example training functions for studies with ``train: {function: ...}``."""
