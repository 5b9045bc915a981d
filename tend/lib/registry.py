"""A named, ordered registry of plug-ins: health measures, Today signals, customer-page panels,
condition fields, (later) playbook triggers and actions, churn-model features.

An app registers its entries in ``AppConfig.ready()``; the engine that reads a registry never
imports the app (docs/architecture.md, "Seams between apps").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class RegistryError(KeyError):
    """An entry registered twice, or asked for by a name nobody registered."""


class Registry(Generic[T]):
    """Entries by name, in registration order. Names are unique: registering a second entry
    under a taken name is an error (two apps would silently shadow each other otherwise)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        if entry.name in self._entries:
            raise RegistryError(f"{self.what} “{entry.name}” is registered twice")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (tests that register a throw-away plug-in clean up with this)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(f"no {self.what} named “{name}”") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)
