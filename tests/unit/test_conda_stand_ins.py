"""The mirror's conda stand-ins, checked without hosts: the installer and its digest, the channel's
repodata against its package files, the wheels and their index, and the fixture conda's own
MatchSpec, version order, .condarc reader, solver and command line (run in-process)."""
import base64
import csv
import hashlib
import importlib
import importlib.util
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.testbed import conda
from tests.testbed.conda import payloads

FIXTURE = Path(conda.__file__).parent / "files" / "conda"
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    return root, conda.build(root)


@pytest.fixture(scope="module")
def fixture_conda():
    """The fixture conda package, imported from its source under a name of its own."""
    spec = importlib.util.spec_from_file_location("fixture_conda", FIXTURE / "__init__.py",
                                                  submodule_search_locations=[str(FIXTURE)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["fixture_conda"] = module
    spec.loader.exec_module(module)
    return lambda name: importlib.import_module(f"fixture_conda.{name}")


def packages(root, manifest):
    channel = root / manifest["channel"]
    return [(subdir, fn, record) for subdir in ("linux-64", "noarch")
            for fn, record in json.loads((channel / subdir / "repodata.json").read_text())["packages"].items()]


def test_the_installer_sha256_file_is_what_sha256sum_checks(built):
    root, manifest = built
    installer = root / manifest["installer"]["path"]
    digest = hashlib.sha256(installer.read_bytes()).hexdigest()
    assert installer.name == "Miniforge3-24.11.3-0-Linux-x86_64.sh"
    assert manifest["installer"]["sha256"] == digest
    assert (installer.parent / f"{installer.name}.sha256").read_text() == f"{digest}  {installer.name}\n"
    check = subprocess.run(["sha256sum", "-c", f"{installer.name}.sha256"], cwd=installer.parent,
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == f"{installer.name}: OK"


def test_the_installer_is_a_shell_header_then_the_base_packages(built):
    root, manifest = built
    header, marker, payload = (root / manifest["installer"]["path"]).read_bytes().partition(b"\n@@END_HEADER@@\n")
    assert header.startswith(b"#!/bin/sh") and marker
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    lines = members["pkgs/env.txt"].decode().splitlines()
    explicit = lines[lines.index("@EXPLICIT") + 1:]
    assert {url.rsplit("/", 1)[1].split("-")[0] for url in explicit} == {"python", "python_abi", "pip", "conda"}
    for url in explicit:
        fn, md5 = url.rsplit("/", 1)[1].split("#")
        assert url.startswith("https://conda.anaconda.org/conda-forge/")
        assert hashlib.md5(members[f"pkgs/{fn}"]).hexdigest() == md5
    assert members[".condarc"] == b"channels:\n  - conda-forge\n"
    assert zipfile.ZipFile(io.BytesIO(members["_conda"])).read("__main__.py").startswith(b"import sys")


def test_repodata_lists_every_package_file_with_its_digests(built):
    root, manifest = built
    channel = root / manifest["channel"]
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((channel / subdir / "repodata.json").read_text())
        assert repodata["info"] == {"subdir": subdir} and repodata["repodata_version"] == 1
        assert set(repodata["packages"]) == {p.name for p in (channel / subdir).glob("*.tar.bz2")}
        current = (channel / subdir / "current_repodata.json").read_text()
        assert current == (channel / subdir / "repodata.json").read_text()
        for fn, record in repodata["packages"].items():
            data = (channel / subdir / fn).read_bytes()
            assert (record["md5"], record["sha256"], record["size"]) == (
                hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data)), fn
            assert fn == f"{record['name']}-{record['version']}-{record['build']}.tar.bz2"
    names = {(record["name"], record["version"]) for _, _, record in packages(root, manifest)}
    assert {("tabulate", "0.8.10"), ("tabulate", "0.9.0"), ("r-jsonlite", "1.8.8"), ("r-jsonlite", "1.8.9"),
            ("r-base", "4.2.2"), ("r-irkernel", "1.3.2"), ("ipykernel", "6.29.5"), ("cuda-version", "12.4"),
            ("cuda-version", "12.8"), ("python", "3.11.2"), ("conda", "24.11.3")} <= names


def test_each_package_holds_info_consistent_with_repodata_and_its_payload(built):
    root, manifest = built
    for subdir, fn, record in packages(root, manifest):
        with tarfile.open(root / manifest["channel"] / subdir / fn, "r:bz2") as tar:
            members = {m.name: m for m in tar.getmembers()}
            index = json.load(tar.extractfile("info/index.json"))
            paths = json.load(tar.extractfile("info/paths.json"))["paths"]
            listed = tar.extractfile("info/files").read().decode().split()
            for key in ("name", "version", "build", "build_number", "depends", "subdir", "timestamp", "license"):
                assert index[key] == record[key], (fn, key)
            assert index.get("noarch") == record.get("noarch")
            payload = {name for name in members if not name.startswith("info/")}
            assert [p["_path"] for p in paths] == listed and set(listed) == payload, fn
            for path in paths:
                if path["path_type"] == "hardlink":
                    data = tar.extractfile(path["_path"]).read()
                    assert path["sha256"] == hashlib.sha256(data).hexdigest(), (fn, path["_path"])
                    assert (PLACEHOLDER.encode() in data) == (path.get("prefix_placeholder") == PLACEHOLDER)
                else:
                    assert members[path["_path"]].issym()


def test_the_python_package_is_a_venv_over_the_hosts_python(built):
    root, manifest = built
    (_, fn, _), = [(s, f, r) for s, f, r in packages(root, manifest) if r["name"] == "python"]
    with tarfile.open(root / manifest["channel"] / "linux-64" / fn, "r:bz2") as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
        config = tar.extractfile("pyvenv.cfg").read().decode()
    assert links == {"bin/python3.11": "/usr/bin/python3.11", "bin/python3": "python3.11", "bin/python": "python3.11"}
    assert config == "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n"


def test_the_conda_package_carries_the_program_and_its_shell_functions(built):
    root, manifest = built
    (_, fn, record), = [(s, f, r) for s, f, r in packages(root, manifest) if r["name"] == "conda"]
    with tarfile.open(root / manifest["channel"] / "linux-64" / fn, "r:bz2") as tar:
        entry = tar.extractfile("bin/conda").read().decode()
        names = tar.getnames()
        shell = tar.extractfile("etc/profile.d/conda.sh").read().decode()
    assert entry.startswith(f"#!{PLACEHOLDER}/bin/python\n") and "from conda.cli import main" in entry
    assert "condabin/conda" in names and "lib/python3.11/site-packages/conda/cli.py" in names
    assert f"export CONDA_EXE='{PLACEHOLDER}/bin/conda'" in shell and "conda() {" in shell
    assert "python_abi 3.11.* *_cp311" in record["depends"]


def test_the_wheels_record_every_file_with_its_hash(built):
    root, manifest = built
    wheels = sorted((root / "pypi" / "packages").glob("*.whl"))
    assert [w.name for w in wheels] == ["humanize-4.10.0-py3-none-any.whl", "humanize-4.9.0-py3-none-any.whl"]
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            version = wheel.name.split("-")[1]
            record = f"humanize-{version}.dist-info/RECORD"
            rows = list(csv.reader(io.StringIO(archive.read(record).decode())))
            assert {row[0] for row in rows} == set(archive.namelist())
            for path, digest, size in rows:
                if path == record:
                    assert (digest, size) == ("", "")
                else:
                    data = archive.read(path)
                    expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    assert (digest, size) == (f"sha256={expected}", str(len(data))), path
            assert f'__version__ = "{version}"' in archive.read("humanize/__init__.py").decode()
            assert "Tag: py3-none-any" in archive.read(f"humanize-{version}.dist-info/WHEEL").decode()


def test_the_simple_index_links_each_wheel_with_its_sha256(built):
    root, _ = built
    assert '<a href="humanize/">humanize</a>' in (root / "pypi/simple/index.html").read_text()
    page = (root / "pypi/simple/humanize/index.html").read_text()
    links = re.findall(r'<a href="\.\./\.\./packages/([^#"]+)#sha256=([0-9a-f]{64})" data-requires-python="&gt;=3.8">'
                       r'\1</a>', page)
    assert {name for name, _ in links} == {"humanize-4.9.0-py3-none-any.whl", "humanize-4.10.0-py3-none-any.whl"}
    for name, digest in links:
        assert hashlib.sha256((root / "pypi/packages" / name).read_bytes()).hexdigest() == digest


def test_a_second_build_reuses_the_first_and_a_removed_tree_is_rebuilt(tmp_path):
    first = conda.build(tmp_path)
    installer = tmp_path / first["installer"]["path"]
    stamp = installer.stat().st_mtime_ns
    assert conda.build(tmp_path) == first and installer.stat().st_mtime_ns == stamp
    (tmp_path / "conda").rename(tmp_path / "gone")  # what the apt mirror's rebuild does to the served folder
    assert conda.build(tmp_path) == first
    old = tmp_path / "gone" / Path(first["installer"]["path"]).relative_to("conda")
    assert installer.read_bytes() == old.read_bytes()


@pytest.mark.parametrize("spec, version, build, expected", [
    ("python=3.11", "3.11.2", "h_cpython", True),
    ("python=3.1", "3.11.2", "h_cpython", False),
    ("tabulate=0.8", "0.8.10", "pyhd8ed1ab_0", True),
    ("tabulate=0.8", "0.9.0", "pyhd8ed1ab_1", False),
    ("tabulate==0.9", "0.9.0", "pyhd8ed1ab_1", True),
    ("tabulate==0.9.0", "0.9.1", "pyhd8ed1ab_1", False),
    ("r-base >=4.2,<4.3.0a0", "4.2.2", "h0", True),
    ("r-base >=4.2,<4.3.0a0", "4.3.0", "h0", False),
    ("r-base>=4.2,<4.3.0a0", "4.3.0rc1", "h0", False),
    ("python_abi 3.11.* *_cp311", "3.11", "5_cp311", True),
    ("python_abi 3.11.* *_cp311", "3.11", "5_cp312", False),
    ("r-jsonlite=1.8.8=r42*", "1.8.8", "r42h57805ef_0", True),
    ("r-jsonlite=1.8.8=r43*", "1.8.8", "r43h57805ef_0", True),
    ("r-jsonlite=1.8.8=r42*", "1.8.8", "r43h57805ef_0", False),
    ("python=3.11=*_cpython", "3.11.2", "h_cpython", False),  # with a build, `=3.11` is exactly 3.11
    ("name 1.2.*", "1.2.9", "0", True),
    ("name 1.2.*", "1.22", "0", False),
    ("cuda-version 12.4|12.4.*", "12.4", "h3060b56_3", True),
    ("cuda-version 12.4|12.4.*", "12.8", "h3060b56_3", False),
])
def test_matchspec_matches_as_conda_does(fixture_conda, spec, version, build, expected):
    spec = fixture_conda("matchspec").MatchSpec(spec)
    assert spec.match({"name": spec.name, "version": version, "build": build}) is expected


def test_a_channel_in_a_spec_must_be_the_records_channel(fixture_conda):
    spec = fixture_conda("matchspec").MatchSpec("conda-forge::tabulate")
    record = {"name": "tabulate", "version": "0.9.0", "build": "0"}
    assert spec.match(record, "conda-forge") and not spec.match(record, "http://10.77.0.1:8080/conda/conda-forge")


@pytest.mark.parametrize("older, newer", [
    ("0.8.9", "0.8.10"), ("4.2.2", "4.3.0a0"), ("4.3.0a0", "4.3.0"), ("1.1dev1", "1.1a1"), ("1.1a1", "1.1"),
    ("1.1", "1.1.post1"), ("1.8.9", "1!0.1"),
])
def test_versions_order_as_conda_orders_them(fixture_conda, older, newer):
    order = fixture_conda("version").VersionOrder
    assert order(older) < order(newer) and not order(newer) < order(older)


def test_missing_components_count_as_zero(fixture_conda):
    order = fixture_conda("version").VersionOrder
    assert order("1.2") == order("1.2.0") and order("3.11") != order("3.11.2")


def test_condarc_reader_reads_scalars_block_and_flow_lists_and_one_level_mappings(fixture_conda):
    text = ("# shared installation\nchannels:\n  - http://10.77.0.1:8080/conda/conda-forge  # the mirror\n"
            "  - 'conda-forge'\nchannel_priority: strict\nenvs_dirs: [/opt/conda/envs, ~/envs]\n"
            "pkgs_dirs:\n  - /opt/conda/pkgs\nauto_activate_base: false\ncustom_channels:\n  mine: http://x\n")
    assert fixture_conda("condarc").loads(text) == {
        "channels": ["http://10.77.0.1:8080/conda/conda-forge", "conda-forge"], "channel_priority": "strict",
        "envs_dirs": ["/opt/conda/envs", "~/envs"], "pkgs_dirs": ["/opt/conda/pkgs"], "auto_activate_base": False,
        "custom_channels": {"mine": "http://x"}}


@pytest.mark.parametrize("text", ["channels:\n  - a\n  b c\n", "  - orphan\n", "envs_dirs: [a, b\n",
                                  "channels:\n  - a\n  key: value\n"])
def test_condarc_reader_refuses_what_it_cannot_read(fixture_conda, text):
    with pytest.raises(fixture_conda("exceptions").ParseError, match="Load Error: in .condarc on line"):
        fixture_conda("condarc").loads(text, ".condarc")


def test_later_condarc_files_win_and_list_their_channels_first(fixture_conda, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CONDARC", raising=False)
    monkeypatch.delenv("CONDA_PKGS_DIRS", raising=False)
    (tmp_path / "home").mkdir()
    (tmp_path / ".condarc").write_text("channels:\n  - conda-forge\nchannel_priority: flexible\n")
    (tmp_path / "home" / ".condarc").write_text("channels: [bioconda, conda-forge]\nchannel_priority: strict\n")
    context = fixture_conda("context").Context(tmp_path)
    assert context.channels == ["bioconda", "conda-forge"] and context.channel_priority == "strict"
    assert context.envs_dirs == [f"{tmp_path}/envs", f"{tmp_path}/home/.conda/envs"]
    assert context.pkgs_dirs == [f"{tmp_path}/pkgs", f"{tmp_path}/home/.conda/pkgs"]


def _record(name, version, build="0", channel="http://mirror/a", depends=(), constrains=(), number=0):
    return {"name": name, "version": version, "build": build, "build_number": number, "channel": f"{channel}/noarch",
            "subdir": "noarch", "depends": list(depends), "constrains": list(constrains)}


CHANNEL_A = [_record("python", "3.11.2", "h_cpython", constrains=["python_abi 3.11.* *_cp311"]),
             _record("pip", "23.2.1", depends=["python >=3.7"]),
             _record("python_abi", "3.12", "5_cp312"),
             _record("tabulate", "0.8.10", depends=["python >=3.6"]),
             _record("tabulate", "0.9.0", depends=["python >=3.7"], number=1)]
CHANNEL_B = [_record("tabulate", "0.9.1", channel="http://mirror/b")]


def solve(fixture_conda, specs, installed=None, strict=False, channels=("http://mirror/a", "http://mirror/b")):
    solver, channel, matchspec = fixture_conda("solve"), fixture_conda("channel"), fixture_conda("matchspec")
    records = {"http://mirror/a": CHANNEL_A, "http://mirror/b": CHANNEL_B}
    found = solver.index([channel.Channel(c) for c in channels], records, strict)
    chosen = solver.solve(found, [matchspec.MatchSpec(s) for s in specs], installed or {}, ["urls"])
    return {name: (r["version"], r["channel"].split("/")[-2]) for name, r in chosen.items()}


def test_solve_takes_the_best_channel_then_the_newest_version_and_adds_pip_to_python(fixture_conda):
    assert solve(fixture_conda, ["python=3.11", "tabulate"]) == {
        "python": ("3.11.2", "a"), "pip": ("23.2.1", "a"), "tabulate": ("0.9.0", "a")}
    assert solve(fixture_conda, ["tabulate>=0.9.1"])["tabulate"] == ("0.9.1", "b")


def test_strict_priority_takes_a_name_only_from_the_first_channel_that_has_it(fixture_conda):
    with pytest.raises(fixture_conda("exceptions").PackagesNotFoundError, match="  - tabulate>=0.9.1"):
        solve(fixture_conda, ["tabulate>=0.9.1"], strict=True)


def test_install_changes_only_what_the_specs_require(fixture_conda):
    solver, matchspec = fixture_conda("solve"), fixture_conda("matchspec")
    installed = {r["name"]: r for r in (CHANNEL_A[0], CHANNEL_A[1], CHANNEL_A[3])}
    found = solver.index([fixture_conda("channel").Channel("http://mirror/a")], {"http://mirror/a": CHANNEL_A}, False)
    chosen = solver.solve(found, [matchspec.MatchSpec("tabulate=0.9")], installed, [])
    assert {n for n in chosen if chosen[n] is not installed.get(n)} == {"tabulate"}
    assert chosen["tabulate"]["version"] == "0.9.0"
    assert solver.solve(found, [matchspec.MatchSpec("tabulate")], installed, []) == installed


def test_a_constraint_the_choice_breaks_is_unsatisfiable(fixture_conda):
    with pytest.raises(fixture_conda("exceptions").UnsatisfiableError, match="python=3.11.2 -> python_abi 3.11"):
        solve(fixture_conda, ["python", "python_abi=3.12"])


def test_the_command_line_creates_then_installs_only_the_difference(fixture_conda, built, tmp_path, monkeypatch,
                                                                    capsys):
    """The fixture conda in-process against the built channel (file://): create, install, list."""
    root, manifest = built
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CONDA_PKGS_DIRS", str(tmp_path / "pkgs"))
    monkeypatch.delenv("CONDARC", raising=False)
    main = fixture_conda("cli").main
    env, channel = tmp_path / "envs" / "t", f"file://{root / manifest['channel']}"
    common = ["-y", "-p", str(env), "--override-channels", "-c", channel]
    assert main(["create", *common, "python=3.11", "tabulate=0.8", "r-jsonlite=1.8.8"]) == 0
    before = set(p.name for p in (env / "conda-meta").iterdir())
    pip = payloads.wheel_version(payloads.pip_wheel())  # the pip bundled with the Python that built the channel
    assert {"python-3.11.2-h9e318b2_1_cpython.json", f"pip-{pip}-pyhd8ed1ab_0.json",
            "tabulate-0.8.10-pyhd8ed1ab_0.json", "r-base-4.2.2-h6b4767f_2.json"} <= before
    assert (env / "lib/python3.11/site-packages/tabulate/__init__.py").is_file()
    capsys.readouterr()
    assert main(["install", *common, "--json", "tabulate=0.9"]) == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    assert [(a["name"], a["version"]) for a in actions["UNLINK"]] == [("tabulate", "0.8.10")]
    assert [(a["name"], a["version"]) for a in actions["LINK"]] == [("tabulate", "0.9.0")]
    after = set(p.name for p in (env / "conda-meta").iterdir())
    assert before ^ after == {"tabulate-0.8.10-pyhd8ed1ab_0.json", "tabulate-0.9.0-pyhd8ed1ab_1.json"}
    record = json.loads((env / "conda-meta/tabulate-0.9.0-pyhd8ed1ab_1.json").read_text())
    assert record["files"] == ["lib/python3.11/site-packages/tabulate-0.9.0.dist-info/INSTALLER",
                               "lib/python3.11/site-packages/tabulate-0.9.0.dist-info/METADATA",
                               "lib/python3.11/site-packages/tabulate-0.9.0.dist-info/RECORD",
                               "lib/python3.11/site-packages/tabulate/__init__.py"]
    assert record["channel"] == f"{channel}/noarch" and record["requested_spec"] == "tabulate=0.9"
    assert record["paths_data"]["paths_version"] == 1 and record["link"]["type"] == 1
    history = (env / "conda-meta/history").read_text()
    assert (f"-{channel}/noarch::tabulate-0.8.10-pyhd8ed1ab_0\n"
            f"+{channel}/noarch::tabulate-0.9.0-pyhd8ed1ab_1\n") in history
    assert main(["list", "-p", str(env), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"base_url": channel, "build_number": 1, "build_string": "pyhd8ed1ab_1", "channel": channel[8:],
            "dist_name": "tabulate-0.9.0-pyhd8ed1ab_1", "name": "tabulate", "platform": "noarch",
            "version": "0.9.0"} in listed
    assert main(["install", *common, "tabulate=0.9"]) == 0
    assert "# All requested packages already installed." in capsys.readouterr().out
    assert main(["install", *common, "nosuch"]) == 1
    assert "PackagesNotFoundError: The following packages are not available from current channels:\n\n  - nosuch\n" \
        in capsys.readouterr().err
