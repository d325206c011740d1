"""The fixture PyPI: pure-Python wheels built by hand (PEP 427) under packages/, and a PEP 503
simple index under simple/ whose links carry each wheel's #sha256= fragment."""
import hashlib
import html
import io
import re
import zipfile
from pathlib import Path

from .distinfo import escaped, folder
from .payloads import render

WHEEL = "Wheel-Version: 1.0\nGenerator: tests.testbed.conda\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
PAGE = ("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n"
        "    <title>{title}</title>\n  </head>\n  <body>\n{links}  </body>\n</html>\n")


def normalized(name: str) -> str:
    """A project name as PEP 503 puts it in URLs."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel(entry: dict) -> tuple:
    """(file name, bytes) of the wheel for a catalog entry: its files, then its dist-info, RECORD last."""
    files = {path: render(template, entry).encode() for path, template in entry["files"].items()}
    info = folder(entry["name"], entry["version"], entry["summary"], files, entry.get("requires_python"),
                  extra={"WHEEL": WHEEL.encode()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in {**files, **info}.items():
            archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return f"{escaped(entry['name'])}-{entry['version']}-py3-none-any.whl", buffer.getvalue()


def build(root: Path, catalog: dict) -> dict:
    """Write packages/ and simple/ under `root`; return {project: [versions]}."""
    projects = {}
    (root / "packages").mkdir(parents=True, exist_ok=True)
    for entry in catalog["pypi"]:
        name, data = wheel(entry)
        (root / "packages" / name).write_bytes(data)
        projects.setdefault(entry["name"], []).append((name, hashlib.sha256(data).hexdigest(), entry))
    for project, wheels in projects.items():
        links = "".join(
            f'    <a href="../../packages/{name}#sha256={digest}"'
            + (f' data-requires-python="{html.escape(e["requires_python"])}"' if e.get("requires_python") else "")
            + f">{name}</a><br/>\n" for name, digest, e in wheels)
        page = root / "simple" / normalized(project) / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(PAGE.format(title=f"Links for {project}", links=links))
    index = "".join(f'    <a href="{normalized(p)}/">{p}</a><br/>\n' for p in sorted(projects))
    (root / "simple" / "index.html").write_text(PAGE.format(title="Simple index", links=index))
    return {project: [e["version"] for _, _, e in wheels] for project, wheels in projects.items()}
