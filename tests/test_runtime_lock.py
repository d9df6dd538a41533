"""requirements/runtime.txt, the lock the image installs, agrees with pyproject.toml:
every runtime dependency pinned to a version its range allows, each pin hashed, and
nothing in it that pyproject.toml no longer asks for (`make lock` refreshes it)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "runtime.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*\\?$")
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?$")
# pip-compile's annotation of a requirement that pyproject.toml itself names.
DIRECT = "ecr-cleaner (pyproject.toml)"


@dataclass
class Pin:
    version: str
    hashes: int = 0
    direct: bool = False


def lock() -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if match := PIN.match(line):
            current = pins[canonicalize_name(match["name"])] = Pin(match["version"])
        elif current is not None and HASH.match(line):
            current.hashes += 1
        elif current is not None and line.lstrip().startswith("#"):
            current.direct = current.direct or DIRECT in line
        else:  # an index URL, a path, an unpinned or editable requirement
            raise AssertionError(f"{LOCK.name}:{number}: not a hashed pin: {line!r}")
    return pins


def image_extras() -> list[str]:
    """The extras `make lock` adds to the image's lock (Makefile LOCK_EXTRAS)."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^LOCK_EXTRAS\s*:=(.*)$", makefile, re.M)
    assert match, "Makefile has no LOCK_EXTRAS"
    return match.group(1).split()


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in image_extras():
        texts += project["optional-dependencies"][extra]
    return [Requirement(text) for text in texts]


def test_every_pin_is_exact_and_hashed() -> None:
    pins = lock()
    assert pins
    assert [name for name, pin in pins.items() if pin.hashes == 0] == []


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = lock()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run `make lock`"
        version = pins[name].version
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside {requirement}: run `make lock`"
        )


def test_the_lock_has_nothing_pyproject_no_longer_asks_for() -> None:
    wanted = {canonicalize_name(r.name) for r in runtime_requirements()}
    direct = {name for name, pin in lock().items() if pin.direct}
    assert direct == wanted


def test_the_image_extras_leave_out_the_test_tools() -> None:
    assert not {"dev", "sandbox"} & set(image_extras())
    assert not {"moto", "pytest", "mypy", "ruff", "pip-tools"} & set(lock())


def test_the_dockerfile_installs_exactly_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements/runtime.txt" in dockerfile
    install = next(
        command
        for command in re.split(r"\n(?=RUN |COPY |FROM |ENV |USER |ARG )", dockerfile)
        if "-r requirements/runtime.txt" in command
    )
    assert "--require-hashes" in install and "--no-deps" in install
    assert "requirements/runtime.txt" in (ROOT / ".dockerignore").read_text()


def test_the_dockerfile_installs_the_project_with_the_image_extras() -> None:
    """The lock has the extras' dependencies; the project is installed naming them, so
    the image's metadata says what it carries (the kubernetes source's client)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    extras = ",".join(image_extras())
    assert extras
    assert f'--no-deps ".[{extras}]"' in dockerfile
