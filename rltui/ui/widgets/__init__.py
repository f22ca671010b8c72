"""One widget per module: the panes of the main window (trials, study file, charts, compare,
the bottom panel's views, the sidebar's explorer and workers) and the table, editor, charts
and bars they are made of. Each owns its state, keys and CSS, and posts messages up."""
