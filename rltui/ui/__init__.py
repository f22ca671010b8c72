"""The terminal UI: a Textual client of the study's storage.

Nothing here imports torch, Stable-Baselines3 or the training layer; trials run in worker
processes and the UI only reads and writes the storage (``tests/ui/test_import_hygiene.py``).

Grouped by kind: :mod:`.app` opens studies and themes; :mod:`.screens` holds the main window
(a router of panes) and the screens pushed over it; :mod:`.widgets` the panes and what they
are made of; :mod:`.models` what the window shows, as plain Python; :mod:`.display` how it
reads on screen; :mod:`.services` what reaches the study, the machine and the user's files;
:mod:`.textual` what rltui adds to Textual, with the one module that reaches its private parts.
"""
