"""One widget per module: table, editor, charts, panels and bars of the main screen."""
