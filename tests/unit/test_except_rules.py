"""No catch-all without a reason: every ``except Exception``, ``except BaseException`` or bare
``except:`` in app/, connectors/ and risk/ carries a ``#`` comment on its line or the line above
saying why (docs/architecture.md). Checked with ``ast`` (the handlers) and ``tokenize`` (the
comments), so a ``#`` inside a string does not count. Reports every offender as ``path:line``."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "risk", "connectors")
BROAD = frozenset({"Exception", "BaseException"})


def _broad(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True  # bare except:
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        (isinstance(n, ast.Name) and n.id in BROAD)
        or (isinstance(n, ast.Attribute) and n.attr in BROAD)
        for n in names
    )


def _comment_lines(source: str) -> set[int]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0] for t in tokens if t.type == tokenize.COMMENT}


def offenders_in(source: str, where: str) -> list[str]:
    comments = _comment_lines(source)
    lines = sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ExceptHandler)
        and _broad(node)
        and not {node.lineno, node.lineno - 1} & comments
    )
    return [f"{where}:{line}" for line in lines]


def test_every_catch_all_says_why() -> None:
    found: list[str] = []
    for path in sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")):
        found += offenders_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, (
        "catch-all except without a comment saying why (on its line or the line above):\n"
        + "\n".join(found)
    )


PLANTED = """
def a():
    try:
        pass
    except Exception:
        pass
    try:
        pass
    except Exception:  # the scheduler thread must not die
        pass
    try:
        pass
    # logged and retried at the next run
    except BaseException:
        pass
    try:
        pass
    except:
        x = "# not a comment"
    try:
        pass
    except (ValueError, Exception) as exc:
        raise
    try:
        pass
    except builtins.BaseException:
        pass
    try:
        pass
    except ValueError:
        pass
"""


def test_checker_catches_planted_catch_alls() -> None:
    # line 5: bare Exception; 18: bare except (the "#" is in a string); 22: in a tuple;
    # 26: an attribute. 9 and 14 carry their reason; ValueError is not a catch-all.
    assert offenders_in(PLANTED, "x.py") == ["x.py:5", "x.py:18", "x.py:22", "x.py:26"]
