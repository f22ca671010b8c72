"""Screens: the main window, and the modal ones pushed over it (help, detail, forms)."""
