"""Worker processes: the trial loop (``loop``), one trial (``trial``), the running trial and
its heartbeat (``heartbeat``). Launchers (:mod:`rltui.launch`) start them; so may a user, by
hand."""
