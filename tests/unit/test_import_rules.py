"""The "never import" rules of docs/architecture.md, checked with `ast` over app/, risk/ and
connectors/.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:``
(a type import still couples the two packages). A violation is reported as
``path:line: importer imports target (rule)``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "risk", "connectors")

IO_LIBRARIES = ("sqlalchemy", "requests", "binance", "dash", "flask", "websockets")


@dataclass(frozen=True)
class Rule:
    """Modules under ``source`` must not import any module under one of ``forbidden``."""

    source: str
    forbidden: tuple[str, ...]
    why: str


RULES: tuple[Rule, ...] = (
    Rule("risk", ("app", "connectors", *IO_LIBRARIES), "risk/ is pure: no project edge, no I/O"),
    Rule("app.web", ("connectors",), "the web reads the store, never the exchange"),
    Rule(
        "connectors.simulator",
        ("connectors.binance",),
        "the simulator must not check the client against itself",
    ),
    Rule(
        "connectors.binance", ("app.store", "sqlalchemy"), "the connector does not write the store"
    ),
    Rule(
        "app.collector",
        ("binance", "sqlalchemy"),
        "the collector sees typed errors, not library types",
    ),
)

# Temporary allowances: (importer module, imported module or package) -> reason. Each must still
# occur (a stale allowance fails the test) and is to be removed by the work named in its reason;
# any other import breaking a rule fails at once. None today.
ALLOWED: dict[tuple[str, str], str] = {}


def _allowed(module: str, target: str) -> bool:
    return any(m == module and _under(target, a) for m, a in ALLOWED)


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every (line, absolute module) imported anywhere in ``tree``, relative imports resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from pkg import sub` may import a submodule: check pkg.sub as well
            found.extend(
                (node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"
            )
    return found


def violations_in(source: str, module: str, where: str, is_package: bool = False) -> list[str]:
    tree = ast.parse(source)
    out: list[str] = []
    seen: set[tuple[int, str]] = set()
    for line, target in imported_modules(tree, module, is_package):
        for rule in RULES:
            if not _under(module, rule.source):
                continue
            for bad in rule.forbidden:
                if _under(target, bad) and not _allowed(module, target):
                    # report `from a import b` once, under its module name
                    key = (line, bad)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(f"{where}:{line}: {module} imports {target} ({rule.why})")
    return out


def _project_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_no_forbidden_imports() -> None:
    problems: list[str] = []
    for path in _project_files():
        problems += violations_in(
            path.read_text(encoding="utf-8"),
            module_name(path),
            str(path.relative_to(ROOT)),
            is_package=path.name == "__init__.py",
        )
    assert not problems, "forbidden imports (see docs/architecture.md):\n" + "\n".join(problems)


def test_every_allowance_is_still_needed() -> None:
    used: set[tuple[str, str]] = set()
    for path in _project_files():
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for _, target in imported_modules(tree, module, path.name == "__init__.py"):
            used.update((m, a) for m, a in ALLOWED if m == module and _under(target, a))
    assert set(ALLOWED) <= used, f"stale allowances, remove them: {sorted(set(ALLOWED) - used)}"


PLANTED = """
from __future__ import annotations
from typing import TYPE_CHECKING
import numpy as np
from . import model
if TYPE_CHECKING:
    from app.store.store import Store

def late():
    import sqlalchemy
    from connectors.binance import limits
"""


def test_checker_catches_planted_violations() -> None:
    found = violations_in(PLANTED, "risk.planted", "risk/planted.py")
    assert any(
        f.startswith("risk/planted.py:7: risk.planted imports app.store.store ") for f in found
    ), found
    assert any(
        f.startswith("risk/planted.py:10: risk.planted imports sqlalchemy ") for f in found
    ), found
    assert any(
        f.startswith("risk/planted.py:11: risk.planted imports connectors.binance ") for f in found
    ), found
    assert len(found) == 3, found  # numpy and the relative `.model` are fine


@pytest.mark.parametrize(
    ("module", "source", "bad"),
    [
        ("app.web.pages.x", "from connectors.binance.limits import LIMITS_PER_MINUTE", True),
        ("app.web.x", "import connectors", True),
        ("connectors.simulator.x", "from ..binance import limits", True),
        ("connectors.simulator.x", "from . import book", False),
        ("connectors.binance.x", "from app.store import Store", True),
        ("app.collector.x", "from binance.exceptions import BinanceAPIException", True),
        ("app.collector.x", "from sqlalchemy.exc import OperationalError", True),
        ("app.collector.x", "from connectors.binance.client import Client", False),
        ("app.collector.gate", "from binance.client import Client", True),
        ("app.collector.feed", "from binance.exceptions import BinanceAPIException", True),
        ("app.collector.collector", "from sqlalchemy.exc import SQLAlchemyError", True),
        ("app.server", "from connectors.binance import client", False),
    ],
)
def test_rule_table(module: str, source: str, bad: bool) -> None:
    assert bool(violations_in(source, module, "x.py")) == bad
