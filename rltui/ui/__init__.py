"""The terminal UI: a Textual client of the study's storage.

Nothing here imports torch, Stable-Baselines3 or the training layer; trials run in worker
processes and the UI only reads and writes the storage (``tests/ui/test_import_hygiene.py``).
"""
