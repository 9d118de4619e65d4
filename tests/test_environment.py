"""One pinned dependency set: pyproject.toml, requirements.lock and environment.yml agree."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return requirements


def test_every_direct_dependency_is_pinned_exactly_as_in_the_lock():
    lock = _lock()
    for requirement in _pyproject_requirements():
        name, _, version = requirement.partition("==")
        name = name.split("[")[0]  # extras, as in dask[dataframe]
        assert version, f"pyproject.toml: {requirement!r} is not pinned with =="
        assert lock.get(_normal(name)) == version, (
            f"{name}: pyproject.toml pins {version}, requirements.lock has {lock.get(_normal(name))}"
        )


def test_environment_yml_installs_the_same_lock_and_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.lock" in pip
    assert "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python.split("=")[-1].startswith(required.lstrip(">=").split(".")[0])


def test_installed_versions_match_the_lock():
    from importlib.metadata import PackageNotFoundError, version

    lock = _lock()
    for requirement in _pyproject_requirements():
        name = requirement.partition("==")[0].split("[")[0]
        try:
            installed = version(name)
        except PackageNotFoundError:  # pragma: no cover - the Makefile installs the whole lock
            raise AssertionError(f"{name} is locked but not installed; run make install") from None
        assert installed == lock[_normal(name)], f"{name} installed {installed}, locked {lock[_normal(name)]}"
