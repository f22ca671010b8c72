#!/usr/bin/env bash
# The package as users get it: a wheel built from this tree, installed with its dependencies
# into a fresh venv (no editable install, no extras), opens its window in every shipped theme.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel -q --no-deps -w "$work/dist" .
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check torch==2.13.0
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$work"/dist/rltui-*.whl
# Run from the temporary folder: the checkout's rltui/ must not be importable.
(cd "$work" && "$work/venv/bin/python" "$OLDPWD/.ci/wheel_check.py")
