"""requirements.lock agrees with pyproject.toml: every dependency and extra pinned, inside its range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*$")
LOCKED_EXTRAS = ("test", "ops")  # scripts/lock.sh locks these beside the main dependencies


def read_lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, line in enumerate((ROOT / "requirements.lock").read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements.lock:{number}: not an exact `name==version` pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"requirements.lock:{number}: {name} pinned twice"
        pins[name] = match.group(2)
    return pins


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    missing = [extra for extra in LOCKED_EXTRAS if extra not in extras]
    assert not missing, f"pyproject.toml defines no extra {missing} that scripts/lock.sh locks"
    declared = list(project["dependencies"]) + [r for extra in LOCKED_EXTRAS for r in extras[extra]]
    return [Requirement(text) for text in declared]


def test_every_pyproject_requirement_is_locked_within_its_range() -> None:
    pins = read_lock()
    problems = []
    for requirement in project_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not in requirements.lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement}: the lock pins {version}, outside the range")
    assert not problems, "run `bash scripts/lock.sh`:\n" + "\n".join(problems)


def test_lock_keeps_the_local_torch_build() -> None:
    pins = read_lock()
    assert (pins["torch"], pins["torchvision"]) == ("2.14.1", "0.29.1")


def test_setup_installs_exactly_the_lock() -> None:
    setup = (ROOT / "scripts/setup.sh").read_text()
    assert "--no-deps -r requirements.lock" in setup
    assert "requirements.lock" in (ROOT / "Makefile").read_text()  # a new lock re-runs setup


def test_make_test_runs_ruff_and_mypy_before_pytest() -> None:
    script = (ROOT / "scripts/test.sh").read_text()
    assert script.index("scripts/lint.sh") < script.index("-m pytest")
    lint = (ROOT / "scripts/lint.sh").read_text()
    assert all(step in lint for step in ('ruff" check', 'ruff" format --check', 'mypy"'))
