"""Facts about a host, gathered in one remote command and parsed once.

The remote side is a POSIX shell script that prints raw outputs in named sections; nothing on
the host needs Python. Each section has a small parser here, tested with real outputs from
Ubuntu and Debian machines. Roles ask for the files, units and read-only probes they need up
front, so one round trip tells every role whether it has anything to do.
"""

import base64
import hashlib
import re
import shlex
from dataclasses import dataclass, field

from gpuhost.errors import StepError

MARK = "--gpuhost-section "
SECURE_BOOT_VAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
MODULES = ("nvidia", "nouveau", "nvidia_drm", "nvidia_uvm", "nvidia_modeset")
TOOLS = ("nvidia-smi", "nvcc", "docker", "mokutil", "update-initramfs", "dkms", "nvidia-ctk", "systemctl")
MAX_CONTENT = 65536
SAFE_PATTERN = re.compile(r"^/[A-Za-z0-9_./*?@:+-]*$")
UNIT = re.compile(r"^[A-Za-z0-9_.:-]+(?:@[A-Za-z0-9_:-][A-Za-z0-9_.:-]*)?$")  # a template needs its instance
PROBE_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")

SYSTEM = {
    "os": "cat /etc/os-release 2>/dev/null",
    "arch": "uname -m",
    "kernel": "cat /proc/sys/kernel/osrelease",
    "boot_id": "cat /proc/sys/kernel/random/boot_id",
    "user": "id -un; id -u",
    "virt": "systemd-detect-virt 2>/dev/null; for f in sys_vendor product_name bios_vendor; do "
            "v=; { read -r v < /sys/class/dmi/id/$f; } 2>/dev/null; echo \"$f=$v\"; done",
    # `read` is the shell's own: a real server shows a hundred PCI functions, and a `cat` for each
    # of their files would be hundreds of processes.
    "pci": "for d in /sys/bus/pci/devices/*; do v=; { read -r v < $d/vendor; } 2>/dev/null; [ \"$v\" = 0x10de ] || continue; "
           "i=; c=; sv=; sd=; { read -r i < $d/device; read -r c < $d/class; read -r sv < $d/subsystem_vendor; "
           "read -r sd < $d/subsystem_device; } 2>/dev/null; echo \"${d##*/} $i $c $sv $sd\"; done",
    "modules": "for m in %s; do [ -d /sys/module/$m ] || continue; v=; { read -r v < /sys/module/$m/version; } 2>/dev/null; "
               "echo \"$m $v\"; done" % " ".join(MODULES),
    "driver_proc": "cat /proc/driver/nvidia/version 2>/dev/null",
    "secure_boot": f"[ -d /sys/firmware/efi ] && echo efi; od -An -t u1 {SECURE_BOOT_VAR} 2>/dev/null",
    "tools": "for t in %s; do command -v $t; done" % " ".join(TOOLS),
    "reboot_required": "[ -f /var/run/reboot-required ] && echo yes && cat /var/run/reboot-required.pkgs 2>/dev/null",
    "disk": "df -Pk / /var /var/cache/apt/archives 2>/dev/null",
    # One `stat` and one `awk` for both lock files: /proc/locks names a lock by pid and
    # major:minor:inode (a waiter's line, "->", has its fields one later and is not a holder).
    "dpkg_lock": "stat -c '%i %n' /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock 2>/dev/null | awk "
                 "'NR == FNR {file[$1] = $2; order[++n] = $1; next} "
                 "{k = split($6, id, \":\"); if (k == 3 && id[3] in file) held[id[3]] = held[id[3]] \" \" $5} "
                 "END {for (i = 1; i <= n; i++) {m = split(held[order[i]], pid, \" \"); "
                 "for (j = 1; j <= m; j++) print file[order[i]], pid[j]}}' - /proc/locks | "
                 "while read -r f p; do c=; { read -r c < /proc/$p/comm; } 2>/dev/null; echo \"$f $p $c\"; done",
    "dpkg_audit": "dpkg --audit 2>/dev/null",
}
PACKAGES = "dpkg-query -W -f='${Package}\\t${Version}\\t${Status}\\n' 2>/dev/null"


@dataclass
class Request:
    """What roles need to know beyond the system facts: files, systemd units, probes.

    `present` names files whose existence is all a role reads: they get a `stat` and nothing else.
    A real nvidia.ko is tens of MB, a hash of it on every run costs more than the rest of the facts.
    """

    files: set = field(default_factory=set)
    units: set = field(default_factory=set)
    probes: dict = field(default_factory=dict)  # name -> read-only shell command
    present: set = field(default_factory=set)

    def add(self, other):
        self.files |= other.files
        self.units |= other.units
        self.probes.update(other.probes)
        self.present |= other.present


def script(request, system=True, packages=True):
    """The shell script that prints every section asked for."""
    parts = []
    if system:
        parts += [_section(name, command) for name, command in SYSTEM.items()]
    if packages:
        parts.append(_section("packages", PACKAGES))
    unsafe = [p for p in sorted(request.files | request.present) if not SAFE_PATTERN.match(p)]
    if unsafe:
        raise StepError(f"file pattern {unsafe[0]!r} has characters gpuhost does not pass to a shell.")
    if request.files:
        parts.append(_section("files", _files(sorted(request.files))))
    if request.present:
        parts.append(_section("files", _existing(sorted(request.present)) + f"if [ $# -gt 0 ]; then {STAT}; fi"))
    units = sorted(request.units)
    if units:
        if not all(UNIT.match(u) for u in units):
            raise StepError(f"unit names {units!r} must be plain systemd unit names (a template with its instance).")
        named = " ".join(units)
        parts.append(_section("units", f"echo units {named}; "
                              f"systemctl show --property=Names,UnitFileState,ActiveState -- {named} 2>/dev/null"))
    for name, command in sorted(request.probes.items()):
        if not PROBE_NAME.match(name):
            raise StepError(f"probe name {name!r} must be lowercase letters, digits, '.', '_' or '-'.")
        parts.append(_section(f"probe {name}", f"( {command} ) 2>&1; echo \"rc=$?\""))
    return "\n".join(parts) + "\n"


def _section(name, command):
    return f"echo {shlex.quote(MARK + name)}; {command}"


STAT = "stat --printf 'path %n\\nstat %a %U %G %s %F\\n' -- \"$@\""


def _existing(patterns):
    """Shell that sets "$@" to every path of `patterns` that exists, a dangling link too."""
    return (f"set --; for f in {' '.join(patterns)}; do "
            "if [ -e \"$f\" ] || [ -L \"$f\" ]; then set -- \"$@\" \"$f\"; fi; done; ")


def _files(patterns):
    """Every file that exists, in a few processes however many there are: one `stat` for all, the
    content of a small readable file (the controller computes its sha256), the sha256 of a bigger
    one, and where a link points."""
    return (
        _existing(patterns)
        + f"if [ $# -gt 0 ]; then {STAT}; "
        "for f; do [ -L \"$f\" ] && printf 'path %s\\nlink %s\\n' \"$f\" \"$(readlink \"$f\")\"; done; "
        "stat -L --printf '%s %n\\n' -- \"$@\" 2>/dev/null | while read -r size f; do "
        "[ -f \"$f\" ] && [ -r \"$f\" ] || continue; echo \"path $f\"; "
        f"if [ \"$size\" -le {MAX_CONTENT} ]; then printf 'content '; base64 -w0 < \"$f\"; echo; "
        "else printf 'sha256 '; sha256sum < \"$f\" | cut -c1-64; fi; done; fi"
    )


def split(output):
    """Raw output → {section: text}; repeated sections (files) are joined."""
    sections = {}
    name, lines = None, []
    for line in output.splitlines():
        if line.startswith(MARK):
            if name is not None:
                sections[name] = sections.get(name, "") + "\n".join(lines) + "\n"
            name, lines = line[len(MARK):], []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = sections.get(name, "") + "\n".join(lines) + "\n"
    return sections


def parse(output):
    """Raw output of `script()` → the facts mapping (JSON-ready)."""
    sections = split(output)
    facts = {}
    for name, text in sections.items():
        if name.startswith("probe "):
            facts.setdefault("probes", {})[name[6:]] = parse_probe(text)
        elif name in PARSERS:
            facts[name] = PARSERS[name](text)
    for name, (section, parser) in ALSO_FROM.items():
        value = parser(sections[section]) if section in sections else None
        if value:
            facts[name] = value
    if "os" in facts:
        facts["deb_arch"] = DEB_ARCH.get(facts.get("arch", ""), facts.get("arch", ""))
    return facts


def parse_os(text):
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"').strip("'")
    return {
        "id": fields.get("ID", ""),
        "version": fields.get("VERSION_ID", ""),
        "codename": fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME", ""),
        "like": fields.get("ID_LIKE", "").split(),
        "pretty": fields.get("PRETTY_NAME", ""),
    }


def parse_first_line(text):
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def parse_user(text):
    lines = text.split()
    return {"name": lines[0] if lines else "", "root": len(lines) > 1 and lines[1] == "0"}


CLOUDS = (("Google", "gce"), ("Amazon", "aws"), ("Microsoft", "azure"), ("OracleCloud", "oci"))


def parse_virt(text):
    lines = text.strip().splitlines()
    virt = lines[0] if lines and "=" not in lines[0] else "none"
    dmi = dict(line.split("=", 1) for line in lines if "=" in line)
    joined = " ".join(dmi.values())
    cloud = next((name for marker, name in CLOUDS if marker in joined), None)
    return {"type": virt or "none", "cloud": cloud, "vendor": dmi.get("sys_vendor", ""),
            "product": dmi.get("product_name", "")}


# PCI classes of NVIDIA functions. Only display controllers are GPUs: a GeForce or RTX card also
# shows its HDMI/DP audio (0x0403), an HGX baseboard its NVSwitches (0x0680: 10de:1af1 on HGX A100,
# 10de:22a3 on HGX H100), which Fabric Manager is for.
GPU_CLASSES = ("0300", "0302")       # VGA compatible controller, 3D controller
NVSWITCH_CLASS = "0680"              # other bridge


def pci_functions(text):
    """Every NVIDIA PCI function of the `pci` section, GPU or not."""
    functions = []
    for line in text.strip().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        bus, device, klass = parts[:3]
        sub = f"{_hex(parts[3])}:{_hex(parts[4])}" if len(parts) >= 5 else ""
        functions.append({"bus_id": bus, "vendor": "10de", "device": _hex(device), "class": _hex(klass)[:4],
                          "subsystem": sub})
    return functions


def is_gpu(function):
    """A display controller (facts recorded before the class was read count as GPUs)."""
    return function.get("class", GPU_CLASSES[1]) in GPU_CLASSES


def parse_pci(text):
    """The GPUs: NVIDIA's display functions."""
    return [f for f in pci_functions(text) if is_gpu(f)]


def parse_nvswitches(text):
    """The NVSwitches; the fact is present only on hosts that show one."""
    return [f for f in pci_functions(text) if f["class"] == NVSWITCH_CLASS]


def _hex(text):
    return text.lower().removeprefix("0x")


def parse_modules(text):
    modules = {}
    for line in text.strip().splitlines():
        name, _, version = line.partition(" ")
        modules[name] = {"version": version.strip() or None}
    return modules


DRIVER_VERSION = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)")


def parse_driver_proc(text):
    match = DRIVER_VERSION.search(text)
    return {"version": match.group(1) if match else None, "open": "Open Kernel Module" in text} if text.strip() else None


def parse_secure_boot(text):
    if "efi" not in text.split():
        return {"efi": False, "enabled": False}
    numbers = [int(n) for n in text.split() if n.isdigit()]
    return {"efi": True, "enabled": bool(numbers) and numbers[-1] == 1}


def parse_tools(text):
    return sorted({line.rsplit("/", 1)[-1] for line in text.split() if line})


def parse_reboot_required(text):
    lines = text.split()
    return {"required": bool(lines) and lines[0] == "yes", "packages": lines[1:]}


def parse_disk(text):
    """Free bytes on /, /var and apt's download folder, in the order `df` prints them."""
    free = {}
    for path, line in zip(DISK_PATHS, text.strip().splitlines()[1:]):
        parts = line.split()
        if len(parts) >= 6 and parts[3].isdigit():
            free[path] = int(parts[3]) * 1024
    return free


def parse_dpkg_lock(text):
    for line in text.strip().splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) >= 2 and parts[1].isdigit():
            return {"held": True, "pid": int(parts[1]), "process": parts[2] if len(parts) > 2 else "", "file": parts[0]}
    return {"held": False}


def parse_dpkg_audit(text):
    return {"broken": bool(text.strip()), "detail": text.strip()[:2000]}


def parse_packages(text):
    """dpkg-query lines → {name: {"version", "held"}} for installed packages only."""
    packages = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        name, version, status = parts[0], parts[1], parts[2].split()
        if len(status) == 3 and status[2] in ("installed", "half-configured", "unpacked", "half-installed",
                                                "triggers-awaited", "triggers-pending"):
            packages[name.split(":")[0]] = {"version": version, "held": status[0] == "hold", "state": status[2]}
    return packages


def parse_files(text):
    files, current = {}, None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "path":
            current = files.setdefault(value, {"path": value})
        elif current is None:
            continue
        elif key == "stat":
            mode, owner, group, size, kind = value.split(" ", 4)
            current.update(mode=mode.zfill(4), owner=owner, group=group, size=int(size), kind=kind)
        elif key == "link":
            current["link"] = value
        elif key == "sha256":
            current["sha256"] = value
        elif key == "content":
            raw = base64.b64decode(value)
            current["b64"] = value
            current["sha256"] = hashlib.sha256(raw).hexdigest()
            try:
                current["content"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                current["content"] = None
    return files


def parse_units(text):
    """`systemctl show` blocks after the line naming the units asked for. A block is found by any of
    its names (an alias shows its unit's); a unit without one (no systemd running) is unknown."""
    head, _, rest = text.strip().partition("\n")
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line) for block in rest.split("\n\n")]
    by_name = {name: block for block in blocks for name in block.get("Names", "").split()}
    units = {}
    for name in head.split()[1:]:
        block = by_name.get(name, {})
        units[name] = {"enabled": block.get("UnitFileState") or "not-found", "active": block.get("ActiveState") or "unknown"}
    return units


def parse_probe(text):
    lines = text.rstrip("\n").splitlines()
    rc = int(lines[-1][3:]) if lines and lines[-1].startswith("rc=") else None
    return {"rc": rc, "output": "\n".join(lines[:-1] if rc is not None else lines)}


PARSERS = {
    "os": parse_os, "arch": parse_first_line, "kernel": parse_first_line, "boot_id": parse_first_line,
    "user": parse_user, "virt": parse_virt, "pci": parse_pci, "modules": parse_modules,
    "driver_proc": parse_driver_proc, "secure_boot": parse_secure_boot, "tools": parse_tools,
    "reboot_required": parse_reboot_required, "disk": parse_disk, "dpkg_lock": parse_dpkg_lock,
    "dpkg_audit": parse_dpkg_audit, "packages": parse_packages, "files": parse_files, "units": parse_units,
}
ALSO_FROM = {"nvswitches": ("pci", parse_nvswitches)}   # facts read from another fact's section
DISK_PATHS = ("/", "/var", "/var/cache/apt/archives")
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64el"}
