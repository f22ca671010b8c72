"""What the window uses to reach the study, the machine and the user's files: the session (the
open study and every storage write), the workers it started, the GPUs, the garbage
collector, the user's settings and themes.

No widgets and no screens: the screens call these, mostly from thread workers.
"""
