"""Screens: the main window (a router of the panes in :mod:`rltui.ui.widgets`), the objects
it owns to carry out study actions and to poll the storage, and the modal screens pushed over
it (help, details, forms, dialogs, the command palette)."""
