"""The knowledge base as one object: every data file benzokit reads, found, validated and cached once.

A :class:`Knowledge` is *passed in* to whatever needs clinical figures or rules; nothing below the CLI and
the service reaches for a global. The shipped files live in the ``data/`` folders of the packages that
define their schemas; a clinic may lay its own adjusted copies over them with an *overlay* folder::

    knowledge = Knowledge.with_overlay(Path("clinic-knowledge"))   # e.g. a stricter rules.toml

An overlay file replaces the shipped file of the same name, whole, and is validated exactly as the shipped
one is (the same schema, the same loader). A file name that replaces nothing is refused, so a misspelt file
cannot be silently ignored. :attr:`Knowledge.version` names the exact set of files in use (benzokit's version
and a digest of every file's bytes); plans, findings and audit rows carry it.

Each schema's package owns a small typed accessor, e.g. ``load_rules(knowledge)``, that calls
:meth:`Knowledge.load` with its file name and its validating builder; this module knows only files.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError

from benzokit._version import __version__
from benzokit.errors import DataError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: The package whose ``data/`` folder ships each kind of file. Drug files (``<drug>.toml``) and the
#: optional scale files (``scale_*.toml``) are found by listing their folder.
SHIPPED_PACKAGES = (
    "benzokit.drugs",
    "benzokit.plan",
    "benzokit.safety",
    "benzokit.monitor",
    "benzokit.interop",
)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a :class:`DataError` naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise DataError(str(path), "(file)", "does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError(str(path), "(syntax)", f"is not valid TOML: {exc}") from exc


def validation_to_data_error(path: Path, exc: ValidationError) -> DataError:
    """The first validation problem of a data file, as a :class:`DataError` with its field path."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    extra = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return DataError(str(path), field, f"{first['msg']}{extra}")


def read_document(path: Path, model: type[M]) -> M:
    """The TOML file at ``path`` validated as ``model``; any problem is a DataError naming the field."""
    raw = read_toml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_to_data_error(path, exc) from exc


def shipped_folder(package: str) -> Path:
    """The ``data/`` folder shipped inside ``package`` (e.g. ``benzokit.safety``)."""
    return Path(str(resources.files(package).joinpath("data")))


class Knowledge:
    """Every data file in use (shipped, or overlaid by a clinic's folder), each loaded once.

    Instances are cheap to create and safe to share between threads; what they load is immutable.
    """

    __slots__ = ("_cache", "_files", "_lock", "overlay", "version")

    def __init__(self, overlay: Path | None = None) -> None:
        self.overlay = overlay
        self._files = _effective_files(overlay)
        self._cache: dict[tuple[str, object], object] = {}
        self._lock = threading.RLock()
        self.version = _version(self._files, overlay)

    @staticmethod
    def shipped() -> Knowledge:
        """The files shipped with benzokit (one shared instance)."""
        return _shipped()

    @classmethod
    def with_overlay(cls, overlay: Path | None) -> Knowledge:
        """The shipped files with ``overlay``'s files laid over them (``None``: the shipped files)."""
        return _shipped() if overlay is None else cls(overlay)

    def path(self, name: str) -> Path:
        """The file in use for ``name`` (e.g. ``"rules.toml"``): the overlay's copy if it has one."""
        if name not in self._files:
            raise DataError(name, "(file)", "is not a knowledge-base file benzokit knows")
        return self._files[name]

    def names(self, folder: str | None = None, pattern: str = "*.toml") -> tuple[str, ...]:
        """File names in use, sorted; ``folder`` (a package, e.g. ``benzokit.drugs``) keeps its own."""
        return tuple(
            sorted(
                name
                for name in self._files
                if (folder is None or _folder_of(name) == folder)
                and fnmatch.fnmatchcase(name, pattern)
            )
        )

    def overlaid(self) -> tuple[str, ...]:
        """The names of the files the overlay replaced or added, sorted (none for the shipped set)."""
        return tuple(sorted(n for n, p in self._files.items() if p.parent == self.overlay))

    def load(self, name: str, build: Callable[[Path], T]) -> T:
        """``build(path)`` for the file in use for ``name``, computed once per knowledge base."""
        key = (name, build)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build(self.path(name))
            return cast(T, self._cache[key])

    def document(self, name: str, model: type[M]) -> M:
        """The file in use for ``name`` validated as ``model`` (e.g. ``rules.toml`` as a RuleSet), once."""
        key = (name, model)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = read_document(self.path(name), model)
            return cast(M, self._cache[key])

    def cached(self, build: Callable[[Knowledge], T]) -> T:
        """``build(self)`` computed once per knowledge base (for values made of several files)."""
        key = ("", build)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build(self)
            return cast(T, self._cache[key])

    def __reduce__(self) -> tuple[Callable[[Path | None], Knowledge], tuple[Path | None]]:
        """Pickled as its overlay folder (e.g. to a Dask worker, which loads the files itself)."""
        return (Knowledge.with_overlay, (self.overlay,))

    def __repr__(self) -> str:
        where = f"overlay={str(self.overlay)!r}" if self.overlay else "shipped"
        return f"Knowledge({where}, version={self.version!r})"


SCALE_FILES = "scale_*.toml"


@cache
def _shipped_files() -> dict[str, tuple[str, Path]]:
    """Every shipped file by name, with the package that ships it."""
    return {
        path.name: (package, path)
        for package in SHIPPED_PACKAGES
        for path in sorted(shipped_folder(package).glob("*.toml"))
    }


def _folder_of(name: str) -> str | None:
    shipped = _shipped_files().get(name)
    if shipped is not None:
        return shipped[0]
    return "benzokit.monitor" if fnmatch.fnmatchcase(name, SCALE_FILES) else None


def _effective_files(overlay: Path | None) -> dict[str, Path]:
    files = {name: path for name, (_, path) in _shipped_files().items()}
    if overlay is None:
        return files
    if not overlay.is_dir():
        raise DataError(str(overlay), "(folder)", "is not a folder of knowledge-base files")
    for path in sorted(overlay.glob("*.toml")):
        if _folder_of(path.name) is None:
            raise DataError(
                str(path),
                "(file name)",
                "replaces no shipped file; an overlay file takes the name of the file it adjusts "
                f"(one of: {', '.join(sorted(files))}), or is a scale file named {SCALE_FILES}",
            )
        files[path.name] = path
    return files


def _version(files: dict[str, Path], overlay: Path | None) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(files[name].read_bytes())
    kind = "clinic" if overlay is not None else "shipped"
    return f"{__version__}+{kind}.{digest.hexdigest()[:12]}"


@cache
def _shipped() -> Knowledge:
    return Knowledge()
