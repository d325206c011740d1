"""Expand catalog.yaml into concrete packages: the fixture set is data, this only instantiates it.

Templates are expanded per instance (or per combination of instance lists) so that one line of
YAML stands for the same package at every release, the way the real repositories repeat it.
Every template names the real source of its name, version, relations and files (`source:`, its
own or its group's); load() refuses a catalog with an entry that does not.
"""
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent
CATALOG = HERE / "catalog.yaml"
SOURCES = HERE / "files"
RELATIONS = ("pre_depends", "depends", "recommends", "conflicts", "breaks", "replaces", "provides")
UBUNTU_SUITES = {"5.15.": "jammy", "6.8.": "noble"}


@dataclass
class Package:
    """One binary package: control fields, files (path -> bytes, or the Path of a file to copy),
    links, scripts."""
    name: str
    version: str
    arch: str
    description: str
    relations: dict
    files: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    modes: dict = field(default_factory=dict)
    scripts: dict = field(default_factory=dict)
    triggers: str = ""


def load(path: Path = CATALOG) -> dict:
    data = yaml.safe_load(path.read_text())
    missing = unsourced(data)
    if missing:
        raise ValueError(f"{path.name}: no `source:` for {', '.join(missing)}; name the real package, "
                         "control file or page each fixture's name, version, relations and files come from")
    return data


def unsourced(data: dict) -> list[str]:
    """The entries (group/package templates, Debian debs) that name no real source."""
    missing = [f"{group['id']}/{template['name']}" for group in data["groups"] for template in group["packages"]
               if not _named(template.get("source", group.get("source")))]
    missing += [f"debian_debs/{name}" for name, spec in data.get("debian_debs", {}).items()
                if not _named(spec.get("source"))]
    return missing


def _named(source) -> bool:
    sources = [source] if isinstance(source, str) else source or []
    return bool(sources) and all(isinstance(s, str) and s.strip() for s in sources)


def expand(data: dict, kernel_release: str, ubuntu_kernels: list[str], extra_kernels=(),
           debian_roots: dict | None = None) -> dict[str, list[Package]]:
    """Every repository's packages: {repo name: [Package]}; raises on a (name, version) clash.

    `debian_roots`: {Debian package: the directory it is unpacked in}, for files taken from it."""
    lists = {**data["instances"], **_kernel_lists(kernel_release, ubuntu_kernels, extra_kernels)}
    left_out = set(data.get("left_out", ()))
    repos: dict[str, dict] = {name: {} for name in data["repos"]}
    for group in data["groups"]:
        for combo in itertools.product(*(lists[name] for name in group["each"])):
            values = _with({k: v for part in combo for k, v in part.items()}, group.get("with", {}))
            for template in group["packages"]:
                if _selected(template, values):
                    package = _package(template, values, left_out, debian_roots or {})
                    for repo in group["repos"]:
                        _add(repos[repo.format_map(values)], package)
    return {name: list(packages.values()) for name, packages in repos.items()}


def ubuntu_suite(kernel_release: str) -> str | None:
    return next((s for prefix, s in UBUNTU_SUITES.items() if kernel_release.startswith(prefix)), None)


def _kernel_lists(kernel_release: str, ubuntu_kernels: list[str], extra_kernels=()) -> dict:
    """The instance lists that depend on build()'s kernels (headers, Canonical's per-kernel modules).

    `extra_kernels` are the kernels a distribution update would bring: headers, and Ubuntu's in
    the security pocket (`ubuntu_updates_<suite>`)."""
    kernels = list(dict.fromkeys([kernel_release, *ubuntu_kernels, *extra_kernels]))
    lists = {"kernels": [{"kr": kr} for kr in kernels]}
    for suite in set(UBUNTU_SUITES.values()):
        lists[f"ubuntu_kernels_{suite}"] = [_ubuntu_kernel(kr) for kr in ubuntu_kernels if ubuntu_suite(kr) == suite]
        lists[f"ubuntu_updates_{suite}"] = [_ubuntu_kernel(kr) for kr in extra_kernels if ubuntu_suite(kr) == suite]
    return lists


def _ubuntu_kernel(kr: str) -> dict:
    match = re.fullmatch(r"(\d+\.\d+\.\d+)-(\d+)-([a-z0-9-]+)", kr)
    if not match:
        raise ValueError(f"{kr!r} is not an Ubuntu kernel release such as 5.15.0-1051-gcp")
    base, abi, flavour = match.groups()
    return {"kr": kr, "kabi": f"{base}-{abi}", "kflat": f"{base}.{abi}", "flavour": flavour}


def _with(values: dict, derived: dict) -> dict:
    values = dict(values)
    for key, template in derived.items():
        values[key] = template.format_map(values)
    return values


def _selected(template: dict, values: dict) -> bool:
    if "if" not in template:
        return True
    key, wanted = template["if"].split("=", 1)
    return values[key] == wanted


def _package(template: dict, values: dict, left_out: set, debian_roots: dict) -> Package:
    fmt = lambda text: text.format_map(values)
    name = fmt(template["name"])
    local = {**values, "flavor": template.get("flavor", ""), "package": name, "version": fmt(template["version"])}
    relations = {r: _kept([fmt(x) for x in template.get(r, [])], left_out) for r in RELATIONS}
    relations["conflicts"] = [c for c in relations["conflicts"] if c != name]
    package = Package(name=name, version=fmt(template["version"]), arch=template.get("arch", "amd64"),
                      description=fmt(template["description"]), relations=relations,
                      triggers="activate-noawait ldconfig\n" if template.get("triggers") else "")
    for path, spec in template.get("files", {}).items():
        _add_file(package, fmt(path), spec, fmt, local, debian_roots)
    for script, source in template.get("scripts", {}).items():
        package.scripts[script] = _source(source, local)
    return package


def _kept(clauses: list[str], left_out: set) -> list[str]:
    """The relation clauses that name no left-out Debian package (a clause goes with any of its alternatives)."""
    return [c for c in clauses if not {alt.split()[0] for alt in c.split("|")} & left_out]


def _add_file(package: Package, path: str, spec, fmt, local: dict, debian_roots: dict) -> None:
    if isinstance(spec, str):
        package.files[path] = fmt(spec).encode()
    elif "link" in spec:
        package.links[path] = fmt(spec["link"])
    elif "deb" in spec:
        if spec["deb"] not in debian_roots:
            raise ValueError(f"{package.name}: {path} comes from Debian's {spec['deb']}, which is not unpacked")
        origin = debian_roots[spec["deb"]] / spec["path"].lstrip("/")
        package.files[path] = origin
        package.modes[path] = origin.stat().st_mode & 0o7777
    else:
        package.files[path] = _source(spec["source"], local).encode()
        package.modes[path] = int(spec.get("mode", "0644"), 8)


def _source(name: str, values: dict) -> str:
    """A file from files/ with its @@field@@ markers filled in (a missing field is an error)."""
    text = (SOURCES / name).read_text()
    return re.sub(r"@@(\w+)@@", lambda m: str(values[m.group(1)]), text)


def _add(packages: dict, package: Package) -> None:
    key = (package.name, package.version)
    if key in packages and packages[key] != package:
        raise ValueError(f"two different fixtures named {package.name} {package.version} in one repository")
    packages[key] = package
