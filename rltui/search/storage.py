"""Where a study lives: storage URLs, the study's home folder, and opening storages safely."""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from optuna.storages import BaseStorage, RDBStorage

from rltui.search.errors import StorageError
from rltui.search.journal import JournalWriteError, open_journal

RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
JOURNAL_PREFIX = "journal:"
STUDY_HOME_SUFFIX = ".rltui"


@dataclass(frozen=True)
class StudyHome:
    """The folder beside a study file that holds its journal, worker logs and checkpoints."""

    root: Path

    @classmethod
    def beside(cls, study_file: Path) -> StudyHome:
        return cls(study_file.resolve().parent / f"{study_file.stem}{STUDY_HOME_SUFFIX}")

    @property
    def journal(self) -> Path:
        return self.root / "study.journal"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def trials(self) -> Path:
        return self.root / "trials"

    def make(self) -> StudyHome:
        for folder in (self.root, self.logs, self.trials):
            folder.mkdir(parents=True, exist_ok=True)
        # Checkpoints are loaded only from folders nobody else may write (rltui.train.trust):
        # under a lax umask the folder is made so, not left to be refused at the first resume.
        self.checkpoints.mkdir(mode=0o700, exist_ok=True)
        return self


def default_storage_url(study_file: Path) -> str:
    return JOURNAL_PREFIX + str(StudyHome.beside(study_file).journal)


def resolve_storage_url(url: str | None, study_file: Path | None) -> str:
    """A full storage URL: ``None`` means the journal beside the study; relative paths are
    relative to the study file's folder."""
    if url is None:
        if study_file is None:
            raise StorageError("no storage given: pass --storage URL or a study file")
        return default_storage_url(study_file)
    _refuse_mistyped_scheme(url)
    _refuse_sqlite_folder(url)
    base = study_file.resolve().parent if study_file else Path.cwd()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        _require_sqlite_folder(url, base / relative.split("?", 1)[0], written=relative)
        return "sqlite:///" + str(base / relative)
    if _is_journal(url):
        path = Path(url.removeprefix(JOURNAL_PREFIX)).expanduser()
        return JOURNAL_PREFIX + str(path if path.is_absolute() else base / path)
    return url


def _is_journal(url: str) -> bool:
    return url.startswith(JOURNAL_PREFIX) or "://" not in url


# A database URL whose '://' was mistyped reads as a relative file path: 'postgresql//h/db'
# would quietly become a journal in a folder named 'postgresql'.
_MISTYPED_SCHEME = re.compile(rf"^(?:{'|'.join(RDB_SCHEMES)})(?:\+\w+)?(?::/?(?!/)|//)", re.I)
_SECRET_QUERY = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)


_EXAMPLE_URLS = {
    "sqlite": "sqlite:///FILE.db",
    "postgresql": "postgresql://USER@HOST/DB",
    "postgres": "postgresql://USER@HOST/DB",
    "mysql": "mysql+pymysql://USER@HOST/DB",
}


def _refuse_mistyped_scheme(url: str) -> None:
    mistyped = _MISTYPED_SCHEME.match(url)
    if mistyped:
        scheme = re.split(r"[:/+]", mistyped.group(0), maxsplit=1)[0].lower()
        raise StorageError(
            f"'{mask_url(url)}' looks like a database URL with its '://' mistyped",
            f"write {_EXAMPLE_URLS[scheme]}; a journal file whose path starts like this "
            "needs 'journal:' in front",
        )


def _sqlite_path(url: str) -> str | None:
    """The file part of a ``sqlite:///`` URL as written (no query), or None for any other."""
    if not url.lower().startswith("sqlite:///"):
        return None
    return url[len("sqlite:///") :].split("?", 1)[0]


def _refuse_sqlite_folder(url: str) -> None:
    """A SQLite URL ending in '/' names a folder: SQLite would make a database file of it (or
    of the folder above), where the user meant a file inside."""
    path = _sqlite_path(url)
    if path is not None and (path == "" or path.endswith("/")):
        raise StorageError(
            f"'{mask_url(url)}' names a folder, not a SQLite database file",
            "add the file's name, e.g. sqlite:///studies.db",
        )


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for showing and logging: in the user
    part (even with an unescaped '@' in it) and in a ``password=`` query parameter."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    authority, sep, tail = _split_authority(rest)
    if "@" in authority:
        user, host = authority.rsplit("@", 1)  # the last '@' ends the user part
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        authority = f"{user}@{host}"
    if "?" in tail:
        path, query = tail.split("?", 1)
        tail = path + "?" + _SECRET_QUERY.sub(r"\1***", query)
    return f"{scheme}://{authority}{sep}{tail}"


def _split_authority(rest: str) -> tuple[str, str, str]:
    """``user:pw@host:port`` and what follows it (from the first '/' or '?' after the last
    '@', so that a password holding '/' or '?' stays in the user part)."""
    at = rest.rfind("@")
    match = re.search(r"[/?]", rest[at + 1 :])
    if match is None:
        return rest, "", ""
    cut = at + 1 + match.start()
    return rest[:cut], "", rest[cut:]


def journal_path(url: str) -> Path | None:
    """The journal file behind a URL, or None for a database."""
    return Path(url.removeprefix(JOURNAL_PREFIX)) if _is_journal(url) else None


def check_storage_url(url: str) -> None:
    """Raise :class:`StorageError` for a URL that rltui cannot open whatever the network
    says: an unknown scheme, a malformed URL, or a database driver that is not installed.
    Connects to nothing and creates nothing, so ``rltui validate`` can use it."""
    if journal_path(url) is not None:
        _refuse_mistyped_scheme(url)
        return
    _refuse_sqlite_folder(url)
    scheme = url.split("://", 1)[0]
    if scheme.split("+", 1)[0] not in RDB_SCHEMES:
        raise StorageError(
            f"'{mask_url(url)}' is not a storage URL rltui knows",
            "use a journal file path, sqlite:///FILE, or postgresql://USER@HOST/DB",
        )
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        dialect = make_url(with_driver(url)).get_dialect()
    except NoSuchModuleError:
        hint = "write postgresql://" if scheme == "postgres" else "check the part before '://'"
        raise StorageError(f"SQLAlchemy has no database dialect '{scheme}'", hint) from None
    except (ArgumentError, ValueError) as exc:
        raise StorageError(
            f"'{mask_url(url)}' is not a valid database URL: {_first_line(exc)}"
        ) from None
    # Both only import the driver: ``import_dbapi`` since SQLAlchemy 2.0, ``dbapi`` before.
    loader = "import_dbapi" if hasattr(dialect, "import_dbapi") else "dbapi"
    try:
        getattr(dialect, loader)()
    except ImportError as exc:
        raise StorageError(
            f"the database driver for '{scheme}' (module {exc.name or dialect.driver}) "
            "is not installed",
            DRIVER_HINTS.get(scheme.split("+", 1)[0], f"install the '{dialect.driver}' driver"),
        ) from None


DRIVER_HINTS = {
    "postgresql": "pip install 'rltui[postgres]'",
    "postgres": "pip install 'rltui[postgres]'",
    "mysql": "pip install PyMySQL and write mysql+pymysql://, or pip install mysqlclient",
}


def require_existing(url: str) -> None:
    """Raise :class:`StorageError` unless the file behind ``url`` (a journal or a SQLite
    database) already exists: joining a study by name must not create an empty storage at a
    mistyped path. A database server is checked when it is opened."""
    path = journal_path(url)
    if path is not None:
        if not path.is_file():
            raise StorageError(
                f"no such journal file: {path}",
                "check the path; `rltui run STUDY_FILE` creates a study's journal, "
                "STUDY.rltui/study.journal beside the file",
            )
        return
    if url.startswith("sqlite:///"):
        sqlite = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if not sqlite.is_file():
            raise StorageError(
                f"no such SQLite file: {sqlite}",
                "check the path; `rltui run STUDY_FILE` with this storage creates it",
            )


def write_refusal(journal: Path) -> int | None:
    """Why this process cannot write ``journal`` and the files beside it (its lock, its
    snapshot): EROFS on a read-only file system, EACCES without permission; None if it can."""
    folder = journal.parent
    while not folder.exists() and folder != folder.parent:  # a study's folder is made later
        folder = folder.parent
    for target in (journal, folder) if journal.exists() else (folder,):
        if not os.access(target, os.W_OK):
            return errno.EROFS if os.statvfs(target).f_flag & os.ST_RDONLY else errno.EACCES
    return None


def open_storage(url: str, *, create: bool = True, read_only: bool = False) -> BaseStorage:
    """Open the storage at ``url``; raises :class:`StorageError`.

    A journal or SQLite file that is not there is created only when ``create`` (a study
    file's storage); joining a study by name passes False, so that a mistyped path is an
    error and leaves no empty storage behind. Either way a file is made only in a folder
    that exists (a study's own folder beside its file excepted).

    A journal is opened read-only (no lock taken, no file made; a write raises
    :class:`~rltui.search.journal.JournalWriteError`, which says why) when ``read_only``, or
    when this process cannot write it or its folder. Databases ignore ``read_only``."""
    check_storage_url(url)
    if not create or read_only:
        require_existing(url)
    sqlite = _sqlite_path(url)
    if sqlite is not None:
        _require_sqlite_folder(url, Path(sqlite).expanduser())
    path = journal_path(url)
    if path is not None:
        if not path.parent.is_dir() and not path.parent.name.endswith(STUDY_HOME_SUFFIX):
            # Only a study's own folder is made on demand: a mistyped folder in a path
            # given by hand would otherwise start a new, empty study there.
            raise StorageError(
                f"the folder of the journal file {path} does not exist",
                "check the path, or create the folder first",
            )
        refusal = write_refusal(path) or (errno.EBADF if read_only else None)
        if refusal is not None and not path.is_file():
            raise StorageError(str(JournalWriteError(str(path), refusal)))
        try:
            if refusal is None:
                path.parent.mkdir(parents=True, exist_ok=True)
            return open_journal(path, read_only=refusal)
        except OSError as exc:
            raise StorageError(
                f"cannot use the journal file {path}: {exc.strerror or exc}",
                "check that its folder can be created and written",
            ) from None
    try:
        return RDBStorage(
            with_driver(url), engine_kwargs=_engine_kwargs(url), skip_table_creation=False
        )
    except ImportError as exc:  # a driver imported only on connecting
        raise StorageError(
            f"the database driver for '{url.split('://', 1)[0]}' is not installed ({exc})"
        ) from None
    except Exception as exc:  # SQLAlchemy raises many types; all mean "cannot open"
        reason, hint = _explain(_first_line(exc))
        raise StorageError(f"cannot open the storage {mask_url(url)}: {reason}", hint) from None


def _require_sqlite_folder(url: str, path: Path, written: str | None = None) -> None:
    """SQLite makes its file but not the file's folder, and a path typed by hand that names a
    missing folder is most often a typo: say which folder is missing, and for a relative path
    (``written``: ``sqlite:///tmp/x.db`` means ``tmp/x.db``) how an absolute one is written."""
    if path.parent.is_dir():
        return
    hint = "check the path, or create the folder first"
    if written is not None:
        hint = (
            "sqlite:/// is followed by a path relative to the study file's folder (or the "
            f"current one); for the absolute path /{written} write sqlite:////{written}"
        )
    raise StorageError(
        f"cannot open the storage {mask_url(url)}: the folder {path.parent} of its SQLite file "
        "does not exist",
        hint,
    )


CONNECT_TIMEOUT = 10  # seconds; a firewalled host would otherwise hang for minutes


def _engine_kwargs(url: str) -> dict[str, object]:
    kwargs: dict[str, object] = {"pool_pre_ping": True}
    if url.split("://", 1)[0].startswith(("postgresql", "mysql")):
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    return kwargs


def with_driver(url: str) -> str:
    """``postgresql://`` with the driver that ``rltui[postgres]`` installs, psycopg 3, when
    psycopg2 is not there: SQLAlchemy before 2.1 would look for psycopg2 only."""
    if not url.startswith("postgresql://"):
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


# Driver messages that users meet most, in words that say what to check. Matched on the
# driver's text (case-insensitive) because each driver has its own exception types; the
# reason None keeps the driver's own words, which name the missing database or role.
_EXPLAINED: tuple[tuple[str, str | None, str], ...] = (
    (
        r"connection refused",
        "connection refused",
        "is the server running, and listening on that host and port?",
    ),
    (
        r"resolve host|translate host name|name or service not known|nodename nor servname",
        "unknown host",
        "check the host name in the URL",
    ),
    (
        r"timeout expired|timed out",
        "the connection timed out",
        "is the host reachable, and its port open to this machine?",
    ),
    (
        r"authentication failed|access denied",
        "authentication failed",
        "check the user and password (also ~/.pgpass and PGPASSWORD)",
    ),
    (r'database "[^"]*" does not exist', None, "create it first, e.g. createdb NAME"),
    (r'role "[^"]*" does not exist', None, "check the user name in the URL"),
    (
        r"unable to open database file",
        "unable to open the database file",
        "check that its folder exists and can be written",
    ),
)


def _explain(text: str) -> tuple[str, str | None]:
    """A driver's message as (reason, hint); the message itself when nothing matches."""
    for pattern, reason, hint in _EXPLAINED:
        if re.search(pattern, text, re.IGNORECASE):
            return reason or text, hint
    return text, None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text)
    return text.splitlines()[0] if text else type(exc).__name__


def study_names(storage: BaseStorage) -> list[str]:
    # get_all_studies reads no trials; get_all_study_summaries deep-copies every trial of
    # every study to count them (1.5 s for 10,000 trials in a journal).
    return [s.study_name for s in storage.get_all_studies()]
