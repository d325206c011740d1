"""The *.dist-info folder pip reads: METADATA, the installer's own files, and a RECORD listing
every file with its urlsafe-base64 sha256 (PEP 376, PEP 427)."""
import base64
import hashlib
import re


def escaped(name):
    """A distribution name as wheel and dist-info file names spell it."""
    return re.sub(r"[^\w\d.]+", "_", name)


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def folder(name, version, summary, files, requires_python=None, extra=None):
    """{path: bytes} of the dist-info folder of a distribution whose other files are `files`
    ({path relative to site-packages: bytes}); RECORD comes last and lists itself without a hash."""
    base = f"{escaped(name)}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}"]
    metadata += [f"Requires-Python: {requires_python}"] if requires_python else []
    out = {f"{base}/METADATA": ("\n".join(metadata) + "\n").encode()}
    out.update({f"{base}/{key}": value for key, value in (extra or {}).items()})
    lines = [f"{path},{record_hash(data)},{len(data)}" for path, data in {**files, **out}.items()]
    out[f"{base}/RECORD"] = ("\n".join(lines + [f"{base}/RECORD,,"]) + "\n").encode()
    return out
