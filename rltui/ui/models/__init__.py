"""What the window shows, as plain Python: the trial filter, the charts' data, the preview of
an edit, the study file as the editor holds it, the editor's fallback highlighting.

Nothing here imports Textual, nor a UI package that does (an import-linter contract in
``pyproject.toml`` and ``tests/ui/test_import_hygiene.py`` check it): these are computed on
threads and tested without a screen. Formatting for the screen lives in
:mod:`rltui.ui.display`; anything that starts processes or keeps state for the window lives
in :mod:`rltui.ui.services`.
"""
