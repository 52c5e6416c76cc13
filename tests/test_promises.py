"""docs/PROMISES.md maps every promise to tests that exist, and every mutation of
``make mutate`` to a promise and tests that exist."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROMISES = ROOT / "docs" / "PROMISES.md"
POLICY = ROOT / "webhook_app" / "policy.toml"
MUTATIONS = ROOT / "scripts" / "mutations.toml"
ROW = re.compile(
    r"^\| `(?P<id>[^`]+)` \| (?P<promise>[^|]+) \| (?P<tests>[^|]*) \| (?P<code>[^|]*) \|$"
)
TICKED = re.compile(r"`([^`]+)`")


def promises() -> dict[str, dict[str, list[str]]]:
    """The lines of PROMISES.md's tables: id → named tests and code paths."""
    found: dict[str, dict[str, list[str]]] = {}
    for line in PROMISES.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        assert match["id"] not in found, f"promise {match['id']} has two lines"
        found[match["id"]] = {
            "tests": [name for name in TICKED.findall(match["tests"]) if "::" in name],
            "code": [name for name in TICKED.findall(match["code"]) if "/" in name],
        }
    return found


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """``test_x`` and ``Class::test_x`` for every test function defined in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {f"{node.name}::{item.name}" for item in node.body
                      if isinstance(item, ast.FunctionDef) and item.name.startswith("test")}
    return frozenset(names)


def missing_test(node_id: str) -> str | None:
    """Why ``node_id`` names no test (its file or its function is missing), or None.

    A parameter suffix (``[sqlite]``) is not checked: pytest makes it, the file does not
    spell it.
    """
    file, _, name = node_id.partition("::")
    path = ROOT / file
    if not (file.startswith("tests/") and file.endswith(".py") and path.is_file()):
        return f"no test file {file}"
    if re.sub(r"\[.*\]$", "", name) not in defined_tests(path):
        return f"no test {name} in {file}"
    return None


def test_every_category_of_the_policy_file_has_a_promise_line():
    with open(POLICY, "rb") as handle:
        categories = tomllib.load(handle)["categories"]
    lines = promises()
    assert [key for key in categories if key not in lines] == []


def test_every_promise_line_names_a_test_and_the_code_that_keeps_it():
    lines = promises()
    assert len(lines) >= 30, "the tables of PROMISES.md were not read"
    assert [key for key, line in lines.items() if not line["tests"]] == []
    assert [key for key, line in lines.items() if not line["code"]] == []


def test_every_named_test_exists():
    problems = [
        f"{key}: {problem}"
        for key, line in promises().items()
        for node_id in line["tests"]
        if (problem := missing_test(node_id))
    ]
    assert problems == []


def test_every_named_file_exists():
    problems = [
        f"{key}: {path}"
        for key, line in promises().items()
        for path in line["code"]
        if not (ROOT / path).is_file()
    ]
    assert problems == []


def test_every_mutation_breaks_a_promise_and_names_tests_that_exist():
    with open(MUTATIONS, "rb") as handle:
        mutations = tomllib.load(handle)["mutation"]
    lines = promises()
    assert [m["name"] for m in mutations if m["promise"] not in lines] == []
    problems = [
        f"{m['name']}: {problem}"
        for m in mutations
        for node_id in m["tests"]
        if (problem := missing_test(node_id))
    ]
    assert problems == []


def test_every_mutation_snippet_is_found_once_in_the_code(monkeypatch):
    """A refactor that moves a snippet fails here, not silently in ``make mutate``."""
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    mutate = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mutate", mutate)  # for its dataclass
    spec.loader.exec_module(mutate)
    assert mutate.load(MUTATIONS)


@pytest.mark.parametrize("node_id, problem", [
    ("tests/test_retention.py::test_no_such_test", "no test test_no_such_test"),
    ("tests/no_such_file.py::test_x", "no test file"),
    ("webhook_app/policy.py::load", "no test file"),
])
def test_a_wrong_name_is_reported(node_id, problem):
    assert problem in (missing_test(node_id) or "")


def test_a_real_name_with_parameters_is_accepted():
    assert missing_test(
        "tests/test_storage.py::test_an_erased_row_leaves_the_sqlite_files_at_the_next_purge[sqlite]"
    ) is None
    assert missing_test(
        "tests/stats/test_derive.py::TestForgetting::test_visit_has_no_field_for_ip_or_user_agent"
    ) is None
