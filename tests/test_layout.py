"""The layout by stage holds: other packages use a package through its face, and imports run down the stages."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT

# lowest first: a module may import from its own floor and the floors below it, never above
FLOORS = ("errors", "progress", "versions", "display", "data", "config", "model", "decide", "pipeline", "report",
          "serve", "charts", "options", "commands")
PACKAGES = ("data", "model", "decide", "serve", "report", "charts")


def _floor(module: str) -> str | None:
    """'core.model.risk' -> 'model'; None for what is not a floor of core."""
    parts = module.split(".")
    return parts[1] if parts[0] == "core" and len(parts) > 1 and parts[1] in FLOORS else None


def _imports(path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every 'from core… import …' and 'import core…' in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("core")]
    return found


SOURCES = sorted(p for folder in ("core", "ui", "app_pages") for p in (ROOT / folder).rglob("*.py"))
SOURCES += [ROOT / "streamlit_app.py"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_other_packages_are_used_through_their_face(path):
    relative = path.relative_to(ROOT).parts
    own = relative[1] if relative[0] == "core" and len(relative) > 2 else None
    deep = [f"line {line}: {module}" for line, module, _ in _imports(path)
            if len(module.split(".")) > 2 and module.split(".")[1] in PACKAGES and module.split(".")[1] != own]
    # serve and charts are faces of modules used by name (``from core.serve import bundle``)
    assert not deep, f"{'/'.join(relative)} reaches past a package's face: {deep}"


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parts[-2] != "app_pages" and "core" in p.parts],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_run_down_the_stages(path):
    relative = path.relative_to(ROOT).parts
    here = _floor(".".join(relative[:2]).removesuffix(".py")) if relative[0] == "core" else None
    if here is None:  # core/__init__.py and core/__main__.py stand above every floor
        return
    up = [f"line {line}: {module}" for line, module, names in _imports(path)
          if (there := _floor(module) or next((n for n in names if n in FLOORS and module == "core"), None))
          and FLOORS.index(there) > FLOORS.index(here)]
    assert not up, f"{'/'.join(relative)} ({here}) imports from a floor above it: {up}"
