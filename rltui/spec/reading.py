"""Reading a study file as any named file may be: bounded in size, and a file that cannot be
read said in words (light: the window reads its study file before its first frame)."""

from __future__ import annotations

from pathlib import Path

from rltui.spec import limits


def new_file_hint(path: str | Path) -> str:
    """How to start a study file that does not exist yet."""
    return f"`rltui {path}` opens a starter study to edit, and saves it there"


def read_study(path: str | Path) -> str:
    """The text of a study file, reading no more than one byte past the size limit.

    Raises what reading raises (``OSError``, ``UnicodeDecodeError``; :func:`why_unreadable`
    says either in words). A file over the limit comes back cut short, for
    :func:`rltui.spec.source.parse_yaml` to refuse by its size.
    """
    with open(path, "rb") as file:
        data = file.read(limits.MAX_FILE_BYTES + 1)
    if len(data) > limits.MAX_FILE_BYTES:
        return data.decode("utf-8", errors="replace")
    return data.decode("utf-8")


def why_unreadable(exc: OSError | UnicodeDecodeError) -> str:
    """Why :func:`read_study` failed: ``it is not UTF-8 text (byte 0x86 at offset 2)``,
    ``No such file or directory``."""
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    return exc.strerror or str(exc)
