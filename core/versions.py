"""Installed versions of the libraries a result depends on, for reports and saved models."""

from __future__ import annotations

from importlib import metadata


def installed(names: tuple[str, ...]) -> dict[str, str]:
    """Each library's installed version ('not installed' when it is not)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
