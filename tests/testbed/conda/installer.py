"""The fixture Miniforge installer, built as constructor builds the real one: a shell header, the
`@@END_HEADER@@` line, then the payload (a gzipped tar of the base packages, an explicit
pkgs/env.txt naming them, Miniforge's .condarc, and `_conda`), plus the `<name>.sha256` file the
release publishes beside it.

Like the preconda tarball constructor builds (its shar.py adds an empty `conda-meta/history`), the
payload holds an empty `conda-meta/history`: it is
unpacked before `_conda install` links anything (conda installs only into a prefix that is an
environment), so an installer killed half-way leaves a prefix that has a history file."""
import gzip
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

from .payloads import FILES, render

MARKER = b"@@END_HEADER@@\n"
ZIP_TIME = (2025, 1, 7, 0, 0, 0)
CONDA_MAIN = "import sys\n\nfrom conda.cli import main\n\nsys.exit(main())\n"


def build(dest: Path, channel: Path, records: list, catalog: dict) -> dict:
    """Write the installer and its .sha256 into `dest`; return {name, sha256, arch}."""
    meta = catalog["installer"]
    name = f"{meta['name']}-{meta['version']}-Linux-{meta['arch']}.sh"
    header = render("installer.sh", {"name": meta["name"], "version": meta["version"], "plat": meta["subdir"],
                                     "default_dir": meta["default_dir"]})
    data = header.encode() + MARKER + _payload(channel, [r for r in records if r["base"]], catalog)
    digest = hashlib.sha256(data).hexdigest()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / name).write_bytes(data)
    (dest / f"{name}.sha256").write_text(f"{digest}  {name}\n")
    return {"name": name, "sha256": digest, "arch": meta["arch"]}


def _payload(channel: Path, base: list, catalog: dict) -> bytes:
    urls = [f"https://conda.anaconda.org/{catalog['channel']}/{r['subdir']}/{r['fn']}#{r['md5']}" for r in base]
    env_txt = ("# This file may be used to create an environment using:\n"
               "# $ conda create --name <env> --file <this file>\n"
               f"# platform: {catalog['installer']['subdir']}\n@EXPLICIT\n" + "".join(u + "\n" for u in urls))
    members = {"_conda": (_standalone(), 0o775), "pkgs/env.txt": (env_txt.encode(), 0o664),
               ".condarc": ((FILES / "condarc").read_bytes(), 0o664), "conda-meta/history": (b"", 0o664)}
    members.update({f"pkgs/{r['fn']}": ((channel / r["subdir"] / r["fn"]).read_bytes(), 0o664) for r in base})
    mtime = max(r["timestamp"] for r in base) // 1000
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=mtime) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path, (data, mode) in members.items():
            member = tarfile.TarInfo(path)
            member.size, member.mode, member.mtime, member.uname, member.gname = len(data), mode, mtime, "root", "root"
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def _standalone() -> bytes:
    """`_conda`: the fixture conda as a zip application (python runs the zip's __main__.py)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((FILES / "conda").glob("*.py")):
            archive.writestr(zipfile.ZipInfo(f"conda/{path.name}", ZIP_TIME), path.read_bytes())
        archive.writestr(zipfile.ZipInfo("__main__.py", ZIP_TIME), CONDA_MAIN)
    return buffer.getvalue()
