"""A Hydra project composed by Hydra itself, as plain data: the job's config and the sweeper's.

Composition goes through Hydra's compose API (``initialize_config_dir`` and ``compose``), so
defaults lists, config groups, ``pkg@target`` packages (``search_spaces@hydra.sweeper.params``)
and overrides mean what they mean to Hydra. Nothing else of a Hydra run happens: no change of
the working folder, no logging set up, no output folder, nothing instantiated. Hydra is
imported here only, when a project is composed (the ``hydra`` extra).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rltui.convert import ConversionError

HYDRA_INSTALL = "install the hydra extra: pip install 'rltui[hydra]'"


@dataclass(frozen=True)
class ComposedProject:
    """A composed Hydra config: the job's part (without ``hydra``), the sweeper's node, and the
    paths of values whose interpolations could not be resolved (kept as written)."""

    config_dir: Path
    config_name: str
    overrides: tuple[str, ...]
    job: dict[str, Any]
    sweeper: dict[str, Any]
    unresolved: tuple[str, ...] = ()


def compose_project(
    config_dir: Path, config_name: str | None, overrides: Sequence[str]
) -> ComposedProject:
    """Compose ``config_name`` (``config`` when None and the folder has a config.yaml) of the
    Hydra project in ``config_dir`` with ``overrides``; raises :class:`ConversionError` with
    Hydra's own message for a project that does not compose."""
    try:
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
        from hydra.initialize import get_gh_backup, restore_gh_from_backup
        from omegaconf import OmegaConf, open_dict
    except ImportError:
        raise ConversionError("Hydra is not installed here", HYDRA_INSTALL) from None
    folder = Path(config_dir).expanduser().resolve()
    if not folder.is_dir():
        raise ConversionError(
            f"{config_dir} is not a folder", "give the folder that holds the project's config.yaml"
        )
    name = config_name or _primary_config(folder)
    backup = get_gh_backup()  # a Hydra app calling this keeps its own state
    GlobalHydra.instance().clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Hydra's deprecation notes are not the user's
            with initialize_config_dir(config_dir=str(folder), version_base=None):
                cfg = compose(config_name=name, overrides=list(overrides), return_hydra_config=True)
    except Exception as exc:  # Hydra raises many kinds, each with a message for the user
        given = f" with {' '.join(overrides)}" if overrides else ""
        raise ConversionError(
            f"Hydra could not compose {folder / name}{given}: {_first_line(exc)}",
            "check the config names and the overrides (python your_app.py --cfg job shows "
            "what Hydra composes)",
        ) from None
    finally:
        restore_gh_from_backup(backup)
    sweeper_node = cfg.hydra.get("sweeper") if "hydra" in cfg else None
    sweeper, unresolved_sweeper = (
        _plain(OmegaConf, sweeper_node, "hydra.sweeper") if sweeper_node is not None else ({}, [])
    )
    with open_dict(cfg):
        del cfg["hydra"]
    job, unresolved = _plain(OmegaConf, cfg, "")
    return ComposedProject(
        folder,
        name,
        tuple(overrides),
        job if isinstance(job, dict) else {},
        sweeper if isinstance(sweeper, dict) else {},
        tuple(unresolved + unresolved_sweeper),
    )


def _primary_config(folder: Path) -> str:
    for candidate in ("config.yaml", "config.yml"):
        if (folder / candidate).is_file():
            return "config"
    configs = sorted(p.stem for p in folder.glob("*.yaml"))
    if len(configs) == 1:
        return configs[0]
    raise ConversionError(
        f"{folder} has no config.yaml",
        "name the primary config (--config-name NAME)"
        + (f": one of {', '.join(configs[:8])}" if configs else ""),
    )


def _plain(omegaconf: Any, node: Any, where: str) -> tuple[Any, list[str]]:
    """``node`` as plain dicts and lists, interpolations resolved; values that cannot be
    resolved (``${hydra:...}`` outside a Hydra run, a missing ``???``) are kept as written and
    their paths returned."""
    try:
        return omegaconf.to_container(node, resolve=True, throw_on_missing=False), []
    except Exception:  # one bad interpolation: resolve value by value below
        pass
    raw = omegaconf.to_container(node, resolve=False, throw_on_missing=False)
    unresolved: list[str] = []

    def resolve(value: Any, path: list[Any]) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v, [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, [*path, i]) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            try:
                target = node
                for key in path:  # indexing resolves the value where it stands
                    target = target[key]
                if omegaconf.is_config(target):
                    return omegaconf.to_container(target, resolve=True)
                return target
            except Exception:
                parts = [where, *path] if where else path
                unresolved.append(".".join(str(part) for part in parts))
        return value

    return resolve(raw, []), unresolved


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
