"""gpuhost as a user installs it on a host: a wheel built from this checkout, and its
dependencies as wheels from PyPI for the hosts' Python (Debian 12: CPython 3.11, x86_64).

The hosts reach no index, so the wheels are copied in and installed with `--no-index`. The
dependencies are downloaded once per pyproject.toml; gpuhost's own wheel is built every time, so
a host always runs the code under test.
"""
import hashlib
import shutil
import sys
from pathlib import Path

from .system import REPO, cache_dir, run

PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64")
ALSO = ("pytest>=8", "setuptools>=68")  # the `test` extra, and the build backend an install from source needs


def wheelhouse() -> Path:
    """A folder with gpuhost's wheel and every wheel it needs on the hosts."""
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + repr(ALSO).encode()).hexdigest()[:16]
    house = cache_dir() / f"wheels-{digest}"
    own = house / "gpuhost"
    shutil.rmtree(own, ignore_errors=True)
    source = house / "source"  # a copy: setuptools leaves build/ and *.egg-info where it builds
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".testbed", ".venv", "build", "*.egg-info",
                                                                "__pycache__", ".pytest_cache"))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", own, source])
    shutil.rmtree(source)
    deps = house / "deps"
    if not (deps / ".complete").exists():
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        run([sys.executable, "-m", "pip", "download", "-q", "-d", deps, "--only-binary=:all:",
             "--python-version", "3.11", "--implementation", "cp", *platforms, *own.glob("*.whl"), *ALSO])
        (deps / ".complete").touch()
    return house


def copy(connection, house: Path, folder: str = "/tmp/wheels") -> None:
    """Put every wheel of the wheelhouse into `folder` on the host (which reaches no index)."""
    connection.run(f"rm -rf {folder} && mkdir -p {folder}", hide=True)
    for wheel in [*house.glob("gpuhost/*.whl"), *house.glob("deps/*.whl")]:
        connection.put(str(wheel), f"{folder}/{wheel.name}")


def install(connection, house: Path, prefix: str = "/opt/gpuhost") -> None:
    """Copy the wheels into the host and install gpuhost in a venv at `prefix`, as the README's pull mode does."""
    copy(connection, house)
    connection.run(f"python3 -m venv {prefix} && {prefix}/bin/pip install -q --no-index --find-links /tmp/wheels "
                   f"gpuhost && rm -rf /tmp/wheels", hide=True)
