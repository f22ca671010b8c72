import os
import sys

# `python -m rltui` puts the current folder first on sys.path: a yaml.py or gymnasium.py
# there would be imported in place of the package. rltui imports only installed packages
# and the modules a study file names beside itself, never from wherever it was started.
if sys.path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.getcwd()):
    del sys.path[0]

from rltui.cli import main

raise SystemExit(main())
