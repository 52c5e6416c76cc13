"""Break each promise of docs/PROMISES.md on purpose and check that its tests notice.

``make mutate`` runs this. Each mutation of ``scripts/mutations.toml`` is a textual patch
(an ``old`` snippet found exactly once in ``file``, replaced by ``new``): it is applied
alone, the tests it names run (``pytest -x``), and the file is restored whatever happens
(an exception, Ctrl-C, SIGTERM). A snippet that is missing or found twice stops the run
before anything is changed, so a refactor makes the list fail loudly instead of quietly
testing nothing. The report is a table, one line per mutation: caught (with the test
that failed) or survived. The exit status is non-zero when any survived or could not run.

    python scripts/mutate.py [--only NAME ...] [--python-only] [--no-baseline] [--list]

First, unless ``--no-baseline``, the named tests run once on the untouched code: a test
that fails there would make every mutation look caught.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = ROOT / "scripts" / "mutations.toml"
PYTHON = ROOT / ".venv" / "bin" / "python"
FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class Mutation:
    """One change that breaks one promise, and the tests that must notice it."""

    name: str
    promise: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]

    @property
    def path(self) -> Path:
        return ROOT / self.file

    @property
    def wordpress(self) -> bool:
        """Whether its tests need the real WordPress (minutes, not seconds)."""
        return any(test.startswith("tests/wordpress/") for test in self.tests)


def load(path: Path = MUTATIONS) -> list[Mutation]:
    """The mutation list, each checked: its file exists and holds ``old`` exactly once."""
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    mutations = [
        Mutation(
            name=entry["name"], promise=entry["promise"], file=entry["file"],
            old=entry["old"], new=entry["new"], tests=tuple(entry["tests"]),
        )
        for entry in raw["mutation"]
    ]
    problems = []
    names = [mutation.name for mutation in mutations]
    twice = sorted({name for name in names if names.count(name) > 1})
    problems += [f"{name}: named twice" for name in twice]
    for mutation in mutations:
        if not mutation.path.is_file():
            problems.append(f"{mutation.name}: no file {mutation.file}")
            continue
        found = mutation.path.read_text(encoding="utf-8").count(mutation.old)
        if found != 1:
            problems.append(
                f"{mutation.name}: the snippet is in {mutation.file} {found} times, not once"
            )
        if mutation.old == mutation.new:
            problems.append(f"{mutation.name}: old and new are the same")
        if not mutation.tests:
            problems.append(f"{mutation.name}: names no test")
    if problems:
        raise SystemExit("scripts/mutations.toml is out of step with the code:\n  "
                         + "\n  ".join(problems))
    return mutations


def dirty(files: set[str]) -> list[str]:
    """Those of ``files`` that git sees changed (a run killed with SIGKILL leaves one so)."""
    result = subprocess.run(
        ["git", "status", "--porcelain", "--", *sorted(files)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return [line[3:] for line in result.stdout.splitlines()]


def run_tests(tests: tuple[str, ...], cache: str) -> tuple[int, str, float]:
    """pytest on ``tests``, stopping at the first failure: (exit code, output, seconds).

    Byte-code goes to a throwaway folder and is never written: a mutant of the same size
    written within the same second as the original would otherwise be read back stale.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": cache}
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider",
               *tests]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def mutated(mutation: Mutation, cache: str) -> tuple[str, str, float]:
    """Apply ``mutation``, run its tests, restore the file: (outcome, catching test, seconds)."""
    path = mutation.path
    original = path.read_bytes()
    stat = path.stat()
    text = original.decode("utf-8")
    try:
        path.write_text(text.replace(mutation.old, mutation.new, 1), encoding="utf-8")
        code, output, seconds = run_tests(mutation.tests, tempfile.mkdtemp(dir=cache))
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if code == 0:
        return "survived", "", seconds
    failed = FAILED.findall(output)
    if code == 1 and failed:
        return "caught", failed[0], seconds
    # 2 interrupted (a collection error: the mutant does not import), 4 usage, 5 no tests.
    tail = output.strip().splitlines()[-1:] or [""]
    return "error", f"pytest exit {code}: {tail[0][:120]}", seconds


def _terminate(signum, frame):
    raise KeyboardInterrupt  # unwinds through the ``finally`` that restores the file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these mutations only")
    parser.add_argument("--python-only", action="store_true",
                        help="leave out the mutations whose tests need WordPress")
    parser.add_argument("--no-baseline", action="store_true",
                        help="do not run the tests once on the untouched code first")
    parser.add_argument("--list", action="store_true", help="check and list, run nothing")
    args = parser.parse_args(argv)
    mutations = load()
    if args.only:
        unknown = set(args.only) - {mutation.name for mutation in mutations}
        if unknown:
            parser.error(f"no mutation named {', '.join(sorted(unknown))}")
        mutations = [mutation for mutation in mutations if mutation.name in args.only]
    if args.python_only:
        mutations = [mutation for mutation in mutations if not mutation.wordpress]
    if args.list:
        for mutation in mutations:
            print(f"{mutation.name:32} {mutation.file}")
        return 0
    changed = dirty({mutation.file for mutation in mutations})
    if changed:
        print("uncommitted changes in " + ", ".join(changed)
              + ": commit or restore them first (a killed run may have left a mutant)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    try:
        return _run(mutations, baseline=not args.no_baseline)
    except KeyboardInterrupt:
        left = dirty({mutation.file for mutation in mutations})
        print("\ninterrupted; " + (f"NOT RESTORED: {', '.join(left)}" if left
                                    else "every file is restored"), file=sys.stderr)
        return 130


def _run(mutations: list[Mutation], *, baseline: bool) -> int:
    """Run the baseline, then each mutation; print the table; the exit status."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gardien-mutate-") as cache:
        if baseline:
            # One run per folder: the WordPress and dashboard suites' conftests clash in one.
            tests = dict.fromkeys(test for mutation in mutations for test in mutation.tests)
            folders: dict[str, list[str]] = {}
            for test in tests:
                folders.setdefault(str(Path(test.partition("::")[0]).parent), []).append(test)
            print(f"baseline: {len(tests)} tests on the untouched code…", flush=True)
            for folder, named in folders.items():
                code, output, seconds = run_tests(tuple(named), tempfile.mkdtemp(dir=cache))
                if code != 0:
                    print(output[-4000:], file=sys.stderr)
                    print(f"the named tests of {folder}/ fail on the untouched code: "
                          "fix that first", file=sys.stderr)
                    return 2
                print(f"baseline: {folder}/ passed in {seconds:.0f} s", flush=True)
        rows = []
        for mutation in mutations:
            print(f"{mutation.name}…", end=" ", flush=True)
            outcome, catcher, seconds = mutated(mutation, cache)
            print(f"{outcome} ({seconds:.0f} s)", flush=True)
            rows.append((mutation, outcome, catcher, seconds))
    left = dirty({mutation.file for mutation in mutations})
    print()
    print("| mutation | promise | file | outcome | caught by | s |")
    print("|---|---|---|---|---|---|")
    for mutation, outcome, catcher, seconds in rows:
        print(f"| `{mutation.name}` | {mutation.promise} | `{mutation.file}` | {outcome} "
              f"| {f'`{catcher}`' if catcher else '—'} | {seconds:.0f} |")
    caught = sum(outcome == "caught" for _, outcome, _, _ in rows)
    print(f"\n{caught} of {len(rows)} mutations caught in {time.monotonic() - started:.0f} s.")
    if left:
        print("NOT RESTORED: " + ", ".join(left), file=sys.stderr)
        return 2
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
