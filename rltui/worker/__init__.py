"""Worker processes: the trial loop (``loop``), one trial (``trial``), the heartbeat
(``session``). Launchers (:mod:`rltui.launch`) start them; so may a user, by hand."""
