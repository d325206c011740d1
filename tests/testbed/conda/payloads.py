"""What each fixture conda package holds, from its catalog entry: rendered templates, symlinks,
source trees copied as they are, the contents of pip's wheel, and a dist-info folder."""
import ensurepip
import re
import zipfile
from pathlib import Path

from .distinfo import folder

FILES = Path(__file__).parent / "files"
EXECUTABLE = ("bin/", "condabin/")
WHEEL_DIRS = (Path(ensurepip.__file__).parent / "_bundled", Path("/usr/share/python-wheels"))


def pip_wheel() -> Path:
    """The pip wheel that comes with the Python building the mirror (ensurepip's bundle, or the
    copy Debian's python3-pip-whl installs)."""
    for directory in WHEEL_DIRS:
        wheels = sorted(directory.glob("pip-*-py3-none-any.whl"))
        if wheels:
            return wheels[-1]
    raise RuntimeError("the fixture channel needs pip's wheel: this Python's ensurepip has none and "
                       "/usr/share/python-wheels has none (apt-get install python3-pip-whl)")


def wheel_version(path: Path) -> str:
    return path.name.split("-")[1]


def render(template: str, values: dict) -> str:
    """A template from files/ with its @@key@@ fields filled in."""
    return re.sub(r"@@([a-z_]+)@@", lambda m: str(values[m[1]]), (FILES / template).read_text())


def contents(entry: dict, placeholder: str):
    """({path: (bytes, mode)}, {path: link target}) of the package `entry` describes."""
    files = {}
    for dest, source in (entry.get("files") or {}).items():
        spec = source if isinstance(source, dict) else {"from": source}
        files[dest] = render(spec["from"], {**entry, "prefix": placeholder, **spec}).encode()
    for dest, source in (entry.get("tree") or {}).items():
        for path in sorted((FILES / source).rglob("*.py")):
            files[f"{dest}/{path.relative_to(FILES / source).as_posix()}"] = path.read_bytes()
    if entry.get("wheel"):
        with zipfile.ZipFile(pip_wheel()) as wheel:
            files.update({f"site-packages/{i.filename}": wheel.read(i) for i in wheel.infolist() if not i.is_dir()})
    if entry.get("dist_info"):
        location = entry["dist_info"].get("location", "site-packages")
        inside = {path[len(location) + 1:]: data for path, data in files.items() if path.startswith(location + "/")}
        info = folder(entry["name"], entry["version"], entry["dist_info"]["summary"], inside,
                      extra={"INSTALLER": b"conda\n"})
        files.update({f"{location}/{path}": data for path, data in info.items()})
    modes = {path: (data, 0o775 if path.startswith(EXECUTABLE) else 0o664) for path, data in files.items()}
    return modes, dict(entry.get("links") or {})

