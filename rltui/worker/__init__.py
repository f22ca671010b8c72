"""Worker processes: the trial loop (``loop``) and the local pool that starts them (``pool``).

This package's ``__init__`` imports nothing so that the UI can use ``rltui.worker.pool``
without loading the training code.
"""
