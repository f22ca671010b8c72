"""Launchers: starting worker processes, and nothing else.

A launcher starts ``rltui worker ...`` processes and can signal the ones it started; the
storage stays the only channel to them. It imports the ``spec`` and ``search`` layers only,
never the worker loop or the training code, so the UI and ``rltui run`` start workers through
it without loading torch. ``local`` starts detached workers on this machine.

This package's ``__init__`` imports nothing, so that importing a launcher loads only its own
module.
"""
