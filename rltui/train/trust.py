"""What a worker may load: checkpoints and study folders that only trusted users could write.

Loading a checkpoint unpickles it, and unpickling runs whatever code the file names; a study
folder on ``sys.path`` runs its modules at import. So a worker loads a checkpoint only when:

- it lies under the study's checkpoint root, after every symbolic link is resolved, and has the
  shape rltui writes (``<root>/trial-N/step-S`` or ``<root>/trial-N/seed-K/step-S``);
- every folder from ``/`` down to it, and every file and folder in it, is owned by this
  worker's user (or root) and writable by nobody else. A folder with the sticky bit (``/tmp``)
  may be writable by others: they cannot rename or remove what is not theirs. Group-write is
  harmless when the group is the user's private group (named after the user, no other member);
- its files match the manifest written when it was saved (a torn or changed file is refused
  before it is unpickled).

A team whose workers run as different users, or a shared NFS folder where ownership is not
what it seems, names a group in ``RLTUI_CHECKPOINT_GROUP``: entries of that group may belong
to its other members and be group-writable. Such a checkpoint is loaded only with a valid
signature: an HMAC over its manifest made with the key in ``RLTUI_CHECKPOINT_KEY`` (default
``~/.config/rltui/checkpoint.key``, a file of this user's with mode 0600). Members of the group
who do not hold the key can plant files, but not files a worker will load.
"""

from __future__ import annotations

import grp
import hashlib
import hmac
import io
import json
import os
import pwd
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

GROUP_ENV = "RLTUI_CHECKPOINT_GROUP"
KEY_ENV = "RLTUI_CHECKPOINT_KEY"
DEFAULT_KEY = "~/.config/rltui/checkpoint.key"
MANIFEST = "rltui-manifest.json"
_TRIAL = re.compile(r"^trial-\d+$")
_SEED = re.compile(r"^seed-\d+$")
_STEP = re.compile(r"^(?:step-(\d+)|\.step-(\d+)\.old-\d+)$")  # in place, or set aside
_CHUNK = 1 << 20
_WHY = "a file another user can write could run code in this worker when it is loaded"


class CheckpointRefused(Exception):
    """A checkpoint (or study folder) that this worker will not load, and why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _name_of_user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _who(uid: int) -> str:
    name = _name_of_user(uid)
    return f"uid {uid}" if name == str(uid) else f"{name} (uid {uid})"


@dataclass(frozen=True)
class TrustPolicy:
    """Whom this worker trusts: its own user and root, and ``group`` with a signature."""

    uid: int
    group: int | None = None
    key_path: Path | None = None
    problem: str | None = None  # a setting that could not be used, told at load

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TrustPolicy:
        env = os.environ if environ is None else environ
        group, problem = None, None
        if name := env.get(GROUP_ENV, "").strip():
            try:
                group = int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
            except KeyError:
                problem = f"{GROUP_ENV}={name!r} names no group on this host"
        key = Path(env.get(KEY_ENV, "").strip() or DEFAULT_KEY).expanduser()
        chosen = bool(env.get(KEY_ENV, "").strip())
        return cls(os.geteuid(), group, key if chosen or key.exists() else None, problem)

    def key(self) -> bytes:
        """The signing key; raises :class:`CheckpointRefused` when there is none to trust."""
        if self.key_path is None:
            raise CheckpointRefused(
                f"no signing key: set {KEY_ENV} to a file of yours with mode 0600 holding a "
                f"random secret (or create {DEFAULT_KEY}), the same on every worker's host"
            )
        try:
            with open(self.key_path, "rb", opener=_no_follow) as src:
                info = os.fstat(src.fileno())
                secret = src.read()
        except OSError as exc:
            raise CheckpointRefused(f"cannot read the signing key {self.key_path}: {exc}") from exc
        if info.st_uid != self.uid or info.st_mode & 0o077:
            raise CheckpointRefused(
                f"the signing key {self.key_path} must be yours and readable by you alone: "
                f"run `chown {_name_of_user(self.uid)} {self.key_path}; chmod 600 {self.key_path}`"
            )
        if len(secret.strip()) < 16:
            raise CheckpointRefused(
                f"the signing key {self.key_path} is too short: write 32 random bytes into it "
                f"(`head -c 32 /dev/urandom > {self.key_path}`)"
            )
        return secret

    def _private_group(self, gid: int) -> bool:
        """A group only this user is in (Debian's user private groups, with umask 002)."""
        user = _name_of_user(self.uid)
        try:
            entry = grp.getgrgid(gid)
        except KeyError:
            return False
        return entry.gr_name == user and set(entry.gr_mem) <= {user}

    def judge(self, path: Path, info: os.stat_result, what: str) -> bool:
        """Whether ``path`` is trusted only through the group (True) or as this user's own
        (False); raises :class:`CheckpointRefused` when neither."""
        mode = info.st_mode
        sticky = stat.S_ISDIR(mode) and bool(mode & stat.S_ISVTX)
        mine = info.st_uid in (self.uid, 0)
        shared = self.group is not None and info.st_gid == self.group
        octal = f"mode {stat.S_IMODE(mode):04o}"
        if mode & stat.S_IWOTH and not sticky:
            raise CheckpointRefused(
                f"{what}: {path} is writable by every user ({octal}); {_WHY}. "
                f"Fix: `chmod o-w {path}`"
            )
        if not mine and not shared:
            raise CheckpointRefused(
                f"{what}: {path} is owned by {_who(info.st_uid)}, not by this worker's user "
                f"{_who(self.uid)}; {_WHY}. "
                f"Fix: if it is yours, `chown -R {_name_of_user(self.uid)} {path}`; to share "
                f"checkpoints within a group, set {GROUP_ENV} and a signing key ({KEY_ENV})"
            )
        if mode & stat.S_IWGRP and not sticky and not shared:
            if mine and self._private_group(info.st_gid):
                return False
            group = _group_name(info.st_gid)
            raise CheckpointRefused(
                f"{what}: {path} is writable by group {group} ({octal}); {_WHY}. Fix: "
                f"`chmod g-w {path}`, or, if every member of {group} may write checkpoints, "
                f"set {GROUP_ENV}={group} and a signing key ({KEY_ENV})"
            )
        return not mine or bool(mode & stat.S_IWGRP and not sticky)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def walk(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry under ``folder``, without following links."""
    for entry in os.scandir(folder):
        info = entry.stat(follow_symlinks=False)
        yield Path(entry.path), info
        if stat.S_ISDIR(info.st_mode):
            yield from walk(Path(entry.path))


def judge_chain(path: Path, policy: TrustPolicy, what: str) -> bool:
    """Judge ``path`` and every folder above it; True when any is trusted through the group."""
    shared = False
    for entry in [*reversed(path.parents), path]:
        shared |= policy.judge(entry, os.lstat(entry), what)
    return shared


def _identity(final: Path) -> str:
    """What a checkpoint claims to be, signed into its manifest: ``trial-N[/seed-K]/step-S``,
    so that a signed checkpoint moved to another trial or step no longer verifies."""
    parts = list(final.parts)
    match = _STEP.match(parts[-1])
    if match:
        parts[-1] = f"step-{int(match.group(1) or match.group(2)):012d}"
    trials = [i for i, part in enumerate(parts) if _TRIAL.match(part)]
    return "/".join(parts[trials[-1] :] if trials else parts[-1:])


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb", opener=_no_follow) as src:
        while chunk := src.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _signed_bytes(claim: str, files: dict[str, str]) -> bytes:
    return json.dumps({"checkpoint": claim, "files": files}, sort_keys=True).encode()


def _drop_write(path: Path, info: os.stat_result, policy: TrustPolicy) -> None:
    """Take write access to ``path`` away from others, and from its group unless that is the
    trusted one; a teammate's folder is left as it is."""
    keep_group = policy.group is not None and info.st_gid == policy.group
    drop = stat.S_IWOTH | (0 if keep_group else stat.S_IWGRP)
    if info.st_uid == policy.uid and stat.S_IMODE(info.st_mode) & drop:
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~drop)


def seal(folder: Path, final: Path, policy: TrustPolicy | None = None) -> None:
    """Prepare the fully written ``folder`` to be published as the checkpoint ``final``:
    take write access away from others (and from the group, unless it is the trusted one),
    and write the manifest: each file's SHA-256, signed when a usable key is set."""
    policy = policy or TrustPolicy.from_env()
    # The folders above it, up to the trial's, were made by the save with the umask's modes.
    parents = list(final.parents)
    trial = next((i for i, above in enumerate(parents) if _TRIAL.match(above.name)), -1)
    for above in parents[: trial + 1]:
        _drop_write(above, os.lstat(above), policy)
    files: dict[str, str] = {}
    for path, info in [(folder, os.lstat(folder)), *walk(folder)]:
        if stat.S_ISLNK(info.st_mode):
            continue  # never loaded: a checkpoint with a link in it is refused
        _drop_write(path, info, policy)
        if stat.S_ISREG(info.st_mode) and path.name != MANIFEST:
            files[path.relative_to(folder).as_posix()] = _digest(path)
    claim = _identity(final)
    try:
        mac: str | None = hmac.new(policy.key(), _signed_bytes(claim, files), "sha256").hexdigest()
    except CheckpointRefused:
        mac = None  # unsigned: loaded only where every entry is the user's own
    manifest = {"format": 1, "checkpoint": claim, "files": files, "hmac": mac}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.chmod(folder / MANIFEST, 0o644)


@dataclass
class TrustedCheckpoint:
    """A checkpoint that passed :func:`open_checkpoint`; its files are read through
    :meth:`open`, which checks each one against the manifest."""

    path: Path
    shared: bool  # some entry is trusted only through the group: files are read from memory
    files: dict[str, str] | None = None

    def has(self, name: str) -> bool:
        return name in self.files if self.files is not None else (self.path / name).is_file()

    def open(self, name: str) -> io.BufferedIOBase:
        """The file ``name``, as saved. A shared checkpoint's file is read into memory and
        checked there, so nobody can change it between the check and the load."""
        expected = None if self.files is None else self.files.get(name)
        if self.files is not None and expected is None:
            raise CheckpointRefused(f"checkpoint {self.path} has no {name} in its manifest")
        if not self.shared:
            return open(self.path / name, "rb", opener=_no_follow)
        with open(self.path / name, "rb", opener=_no_follow) as src:
            data = src.read()
        if hashlib.sha256(data).hexdigest() != expected:
            raise _changed(self.path, name)
        return io.BytesIO(data)

    def verify_files(self) -> None:
        """Check every file against the manifest, reading from disk (a shared checkpoint's
        files could still change afterwards: :meth:`open` reads from memory instead)."""
        for name, expected in (self.files or {}).items():
            if _digest(self.path / name) != expected:
                raise _changed(self.path, name)


def _changed(path: Path, name: str) -> CheckpointRefused:
    return CheckpointRefused(
        f"checkpoint {path}: {name} is not the file that was saved (a torn write, or changed "
        f"since); the trial cannot resume from it. Fix: resume from an earlier checkpoint, "
        f"or start the trial anew"
    )


def open_checkpoint(
    path: Path, root: Path, *, trial: str | None = None, policy: TrustPolicy | None = None
) -> TrustedCheckpoint:
    """The checkpoint ``path`` under the checkpoint root ``root``, once it passes every check
    (see the module's docstring); raises :class:`CheckpointRefused` with the reason.
    ``trial`` (``trial-N``) requires it to be that trial's."""
    policy = policy or TrustPolicy.from_env()
    if policy.problem:
        raise CheckpointRefused(f"cannot judge checkpoint {path}: {policy.problem}")
    try:
        real_root, real = root.resolve(strict=True), path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise CheckpointRefused(f"checkpoint {path} cannot be reached: {exc}") from exc
    if not real.is_relative_to(real_root):
        raise CheckpointRefused(
            f"checkpoint {path} resolves to {real}, outside the study's checkpoint folder "
            f"{real_root}: a worker loads checkpoints only from there"
        )
    parts = real.relative_to(real_root).parts
    shaped = len(parts) in (2, 3) and bool(_TRIAL.match(parts[0]) and _STEP.match(parts[-1]))
    if not shaped or (len(parts) == 3 and not _SEED.match(parts[1])):
        raise CheckpointRefused(
            f"{path} is not a checkpoint rltui writes (trial-N/step-S or trial-N/seed-K/step-S "
            f"under {real_root})"
        )
    if trial is not None and parts[0] != trial:
        raise CheckpointRefused(f"checkpoint {path} belongs to {parts[0]}, not to {trial}")
    what = f"checkpoint {path}"
    shared = judge_chain(real, policy, what)
    if not stat.S_ISDIR(os.lstat(real).st_mode):
        raise CheckpointRefused(f"checkpoint {path} is not a folder")
    names = set()
    for entry, info in walk(real):
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            raise CheckpointRefused(
                f"{what} holds {entry}, which is not a plain file or folder (a link?): "
                f"rltui saves only files and folders"
            )
        shared |= policy.judge(entry, info, what)
        if stat.S_ISREG(info.st_mode) and entry.name != MANIFEST:
            names.add(entry.relative_to(real).as_posix())
    files = _manifest(real, what, names, shared, policy)
    checkpoint = TrustedCheckpoint(real, shared, files)
    if not shared:
        checkpoint.verify_files()  # nobody else can change them: a check on disk holds
    return checkpoint


def _manifest(
    real: Path, what: str, names: set[str], shared: bool, policy: TrustPolicy
) -> dict[str, str] | None:
    """The manifest's file hashes, checked against the folder (and its signature, when the
    checkpoint is shared); None for an unshared checkpoint saved without one."""
    try:
        with open(real / MANIFEST, "rb", opener=_no_follow) as src:
            manifest = json.loads(src.read(1 << 24))
        files, claim, mac = manifest["files"], manifest["checkpoint"], manifest["hmac"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValueError("bad file list")
    except FileNotFoundError:
        if not shared:
            return None  # saved before manifests were written; only this user could write it
        raise CheckpointRefused(f"{what} is shared but has no manifest ({MANIFEST})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointRefused(f"{what}: its manifest {MANIFEST} is unreadable: {exc}") from exc
    if set(files) != names:
        added, gone = sorted(names - set(files)), sorted(set(files) - names)
        raise CheckpointRefused(
            f"{what} does not hold what was saved (added since: {', '.join(added) or 'none'}; "
            f"missing: {', '.join(gone) or 'none'}); the trial cannot resume from it"
        )
    if shared:
        if claim != _identity(real):
            raise CheckpointRefused(f"{what} was signed as {claim}, not as {_identity(real)}")
        try:
            key = policy.key()
        except CheckpointRefused as exc:
            raise CheckpointRefused(f"{what} is shared through a group; {exc.reason}") from exc
        good = hmac.new(key, _signed_bytes(claim, files), "sha256").hexdigest()
        if not isinstance(mac, str) or not hmac.compare_digest(mac, good):
            raise CheckpointRefused(
                f"{what} is shared through a group and its signature is "
                f"{'missing' if mac is None else 'wrong'}: it was not saved by a worker holding "
                f"this key ({policy.key_path}); {_WHY}"
            )
    return files


def trusted_checkpoint(path: Path, root: Path, *, trial: str | None = None) -> Path:
    """The resolved path of the checkpoint ``path`` under ``root`` once it passes every check
    and its files match the manifest; raises :class:`CheckpointRefused` with the reason."""
    checkpoint = open_checkpoint(path, root, trial=trial)
    if checkpoint.shared:
        checkpoint.verify_files()
    return checkpoint.path
