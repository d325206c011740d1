"""apt: pinned repository keys, deb822 sources, preferences, and package transactions.

Every role's package wishes are merged into one transaction per converge (`Transaction.merge`),
so a whole NVIDIA stack costs one `apt-get install`. apt waits for another process's dpkg lock
(`DPkg::Lock::Timeout`) and says who held it when the wait runs out; a dpkg left half-done by an
interrupted run is repaired first; a transaction larger than the free disk is refused.
"""

import base64
import re
import shlex

from gpuhost import openpgp
from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.ops import users
from gpuhost.ops.files import File, checked_path, write_command
from gpuhost.progress import AptProgress
from gpuhost.steps import Phase, Step

PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
VERSION = re.compile(r"^[A-Za-z0-9.+~:-]+$")
URL = re.compile(r"^(https?|file)://[A-Za-z0-9._~:/?#@&+,=%-]+$")
APT_ENV = "DEBIAN_FRONTEND=noninteractive LC_ALL=C"
NEED = re.compile(r"Need to get ([\d.,]+) ([kMG]?B)(?:/([\d.,]+) ([kMG]?B))? of archives")
AFTER = re.compile(r"After this operation, ([\d.,]+) ([kMG]?B) of additional disk space will be used")
LOCK_FAILED = re.compile(r"^(E: Could not get lock|E: Unable to acquire the dpkg frontend lock|"
                         r"dpkg: error: dpkg frontend lock was locked)", re.M)
HOLDER = re.compile(r"held by process (\d+)(?: \(([^)]*)\))?|locked by another process with pid (\d+)")
DPKG_ERROR = re.compile(r"^dpkg: error processing (?:package|archive) (.+?) \(([^)]*)\):\n\s*(.+)$", re.M)
DKMS_ERROR = re.compile(r"^Error! (.+)$", re.M)
SUBPROCESS = re.compile(r"^E: Sub-process .* returned an error code|^E: Unable to fetch some archives")
UNITS = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
UNMET = "The following packages have unmet dependencies:"
VETTED = "--gpuhost-vet"  # marks where each vet's output starts in the preparation's output


def checked_package(name, version=None):
    if not PACKAGE.match(name) or (version is not None and not VERSION.match(str(version))):
        raise StepError(f"package {name!r} version {version!r} is not a valid Debian package name/version.")
    return name


def checked_url(url):
    if not URL.match(url):
        raise StepError(f"repository URL {url!r} is not an http(s) or file URL gpuhost passes to a shell.")
    return url


class RepositoryKey(Step):
    """A repository signing key, installed only after its fingerprint matches the pinned one.

    The key is fetched on the host (the host's own proxy and mirror settings apply), its
    fingerprint is checked here, and only then is the pinned certificate alone written as the
    keyring the source names: armored where the keyring's name ends in .asc, binary otherwise,
    as apt reads them. apt trusts every key in a keyring, so other keys the file carries (a
    publisher's old or next key, or one slipped in beside the pinned one) are left out rather
    than refused: the file keeps working and only the pinned key is trusted (gpuhost.openpgp).
    A keyring that holds anything but the pinned certificate is rewritten.
    The commands reported are the fetch and the write; the key's bytes are not repeated.
    """

    phase = Phase.REPOSITORIES

    def __init__(self, url, fingerprint, keyring, name=None):
        self.url, self.keyring = checked_url(url), checked_path(keyring)
        self.fingerprint = openpgp.normalize(fingerprint or "")
        if not re.fullmatch(r"[0-9A-F]{40}", self.fingerprint):
            raise StepError(f"{keyring}: a 40-digit key fingerprint must be pinned for {url} (got {fingerprint!r}).")
        self.name = name or f"key {keyring}"

    def request(self):
        return Request(files={self.keyring})

    def _fetch(self):
        return (f"t=$(mktemp) && /usr/lib/apt/apt-helper download-file {shlex.quote(self.url)} \"$t\" >/dev/null && "
                "base64 -w0 \"$t\"; rc=$?; rm -f \"$t\"; exit $rc")

    def commands(self, facts):
        if key_is_pinned(facts, self.keyring, self.fingerprint):
            return []
        return [self._fetch(), f"install the key {self.fingerprint} alone as {self.keyring}"]

    def execute(self, host, commands):
        try:
            fetched = host.run(self._fetch(), sudo=False, what=self.name).stdout.strip()
        except StepError as error:
            raise StepError(f"the repository key {self.url} could not be downloaded on {host.name}: "
                            f"{str(error).rpartition(': ')[2]}") from None
        key = base64.b64decode(fetched)
        pinned = openpgp.certificate(key, self.fingerprint)
        if pinned is None:
            found = openpgp.fingerprints(key)
            raise StepError(f"the key at {self.url} has fingerprint {', '.join(found) or 'none'}, not the pinned "
                            f"{self.fingerprint}; refusing to trust it.")
        data = openpgp.armor(pinned) if self.keyring.endswith(".asc") else pinned
        host.run(write_command(self.keyring, data, "0644", "root", "root"), sudo=True, what=self.name)

    def predict(self, facts):
        facts.setdefault("files", {})[self.keyring] = {"path": self.keyring, "kind": "regular file",
                                                       "pinned": self.fingerprint}


def key_is_pinned(facts, keyring, fingerprint):
    """True when the keyring on the host holds the pinned key and nothing else, in the format its
    name tells apt to read (armored for .asc, binary otherwise), or when a plan says it will."""
    current = facts.get("files", {}).get(keyring) or {}
    if current.get("pinned") == openpgp.normalize(fingerprint):
        return True
    if not current.get("b64"):
        return False
    data = base64.b64decode(current["b64"])
    return openpgp.is_armored(data) == keyring.endswith(".asc") and openpgp.holds_only(data, fingerprint)


def source(name, uris, suites, signed_by, components=(), architectures=()):
    """A deb822 source file (`/etc/apt/sources.list.d/<name>.sources`) with Signed-By."""
    lines = ["Types: deb", f"URIs: {checked_url(uris)}", f"Suites: {suites}"]
    if components:
        lines.append(f"Components: {' '.join(components)}")
    if architectures:
        lines.append(f"Architectures: {' '.join(architectures)}")
    lines.append(f"Signed-By: {checked_path(signed_by)}")
    step = File(f"/etc/apt/sources.list.d/{name}.sources", "\n".join(lines) + "\n", name=f"apt source {name}")
    step.phase = Phase.REPOSITORIES
    return step


def preferences(name, packages, pin, priority):
    """An apt preferences file pinning packages (e.g. `version 550.*`) at a priority."""
    body = f"Package: {' '.join(packages)}\nPin: {pin}\nPin-Priority: {int(priority)}\n"
    step = File(f"/etc/apt/preferences.d/{name}", body, name=f"apt pin {name}")
    step.phase = Phase.REPOSITORIES
    return step


class Packages(Step):
    """Packages present (at an exact version when given), held, or absent.

    Roles yield these; the runner merges all of them into one `Transaction`.
    """

    phase = Phase.PACKAGES
    refresh = ("packages",)

    def __init__(self, install=None, hold=(), absent=(), name=None, starts=(), groups=(), vet=None):
        self.install = {checked_package(n, v): (str(v) if v is not None else None) for n, v in (install or {}).items()}
        self.starts = tuple(starts)  # units the packages enable and start when installed (Debian policy)
        self.groups = tuple(groups)  # system groups their maintainer scripts create (docker)
        # A judge of apt's fresh lists: its read-only `command` runs right after the transaction's
        # update, and `refusal(output)` may stop the transaction with a sentence before any install.
        self.vet = vet
        self.hold = [checked_package(n) for n in hold]
        self.absent = [checked_package(n) for n in absent]
        self.name = name or "packages " + " ".join(sorted(self.install) + [f"-{n}" for n in self.absent])

    def commands(self, facts):
        return Transaction([self]).commands(facts)

    def predict(self, facts):
        Transaction([self]).predict(facts)


class Transaction(Step):
    """One apt transaction for every role's packages: unhold, install/remove, hold."""

    phase = Phase.PACKAGES
    refresh = ("packages",)

    def __init__(self, parts, lock_timeout=300):
        self.parts = list(parts)
        self.lock_timeout = int(lock_timeout)
        self.install, self.hold, self.absent = {}, set(), set()
        for part in self.parts:
            for name, version in part.install.items():
                if self.install.get(name) not in (None, version) and version is not None:
                    raise StepError(f"two roles want {name} at different versions: {self.install[name]} and {version}.")
                self.install[name] = version or self.install.get(name)
            self.hold |= set(part.hold)
            self.absent |= set(part.absent)
        self.name = "apt transaction"
        self.role = ",".join(dict.fromkeys(p.role for p in self.parts if p.role))
        self.vets = [p.vet for p in self.parts if p.vet]

    def _plan(self, facts):
        installed = facts.get("packages", {})
        install = [n for n, v in sorted(self.install.items())
                   if n not in installed or installed[n].get("state", "installed") != "installed"
                   or (v is not None and installed[n]["version"] != v)]
        remove = sorted(n for n in self.absent if n in installed)
        unhold = sorted(n for n in install + remove if installed.get(n, {}).get("held"))
        hold = sorted(n for n in self.hold if n in install or not installed.get(n, {}).get("held"))
        return install, remove, unhold, hold

    def _apt(self, args):
        """apt-get that waits for the dpkg lock and reports progress, so a long download is never silent."""
        return f"{APT_ENV} apt-get -y -q -o DPkg::Lock::Timeout={self.lock_timeout} -o APT::Status-Fd=1 {args}"

    def _install_args(self, install, remove):
        items = [f"{n}={self.install[n]}" if self.install[n] else n for n in install] + [f"{n}-" for n in remove]
        return ("-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "
                "--no-install-recommends install " + " ".join(shlex.quote(i) for i in items))

    def commands(self, facts):
        install, remove, unhold, hold = self._plan(facts)
        commands = []
        if (install or remove) and facts.get("dpkg_audit", {}).get("broken"):
            commands.append(f"{APT_ENV} dpkg --configure -a")
        if install:
            commands.append(self._apt("-o APT::Update::Error-Mode=any update"))
        if unhold:
            commands.append(self._mark("unhold", unhold))
        if install or remove:
            commands.append(self._apt(self._install_args(install, remove)))
        if hold:
            commands.append(self._mark("hold", hold))
        return commands

    def _mark(self, action, names):
        """apt-mark, retried while another process holds the dpkg lock (dpkg --set-selections does not wait).

        A subshell, so that its failure is the failure of the `&&` chain it stands in.
        """
        return (f"(n=0; until out=$(apt-mark {action} {' '.join(names)} 2>&1); do case $out in *lock*) ;; "
                f"*) echo \"$out\"; exit 1;; esac; n=$((n+1)); "
                f"[ $n -lt {self.lock_timeout} ] || {{ echo \"$out\"; exit 1; }}; sleep 1; done)")

    def execute(self, host, commands):
        """Repair and update, check the transaction with apt's own simulation, then run it.

        The simulation (`--assume-no`) tells the download and disk sizes and apt's refusals before
        anything is installed; it always exits non-zero, so only the commands before it decide
        whether the preparation failed. The parts' vets read the fresh lists in the same command.
        """
        install, remove, unhold, _ = self._plan(host.facts)
        install_cmd = self._apt(self._install_args(install, remove)) if install or remove else None
        marks = [c for c in commands if "apt-mark" in c]
        before = [c for c in commands if c != install_cmd and c not in marks]
        after = [c for c in commands if c == install_cmd or c in marks]
        if install:
            simulate = self._apt(self._install_args(install, remove)).replace(" -y ", " --assume-no ")
            if unhold:  # as it will run: after the unhold that precedes it
                simulate = simulate.replace(" install ", " --allow-change-held-packages install ")
            prepare = f"{chain(before)} || exit $?; " if before else ""
            vetting = "".join(f"; echo {VETTED}; {vet.command}" for vet in self.vets)
            result = host.run(f"{prepare}{simulate} 2>&1{vetting}; true", sudo=True, what=self.name, warn=True,
                              watch=self.watcher(host))
            output, *vetted = result.stdout.split(f"{VETTED}\n")
            self._check_lock(output, host)
            if result.exited:
                raise StepError(f"apt on {host.name} could not prepare the transaction (exit {result.exited}): "
                                f"{first_error(output)}")
            refusal = next(filter(None, (vet.refusal(text) for vet, text in zip(self.vets, vetted))), None)
            if refusal:
                raise StepError(refusal)
            self._check_space(output, host)
            if "E: " in output:
                raise StepError(f"apt on {host.name} refused the transaction: {first_error(output)}")
            before = []
        result = host.run(chain(before + after), sudo=True, what=self.name, warn=True, watch=self.watcher(host))
        if result.exited:
            self._check_lock(result.stdout, host)
            raise StepError(f"apt on {host.name} failed (exit {result.exited}): {first_error(result.stdout)}")

    def watcher(self, host):
        return AptProgress(host.progress) if host.progress else None

    def _check_space(self, output, host):
        free = host.facts.get("disk", {})
        need = NEED.search(output)
        after = AFTER.search(output)
        download = _bytes(need.group(1), need.group(2)) if need else 0
        install = _bytes(after.group(1), after.group(2)) if after else 0
        for path, size, what in (("/var/cache/apt/archives", download, "to download"), ("/", install, "to install")):
            if path in free and size > free[path]:
                raise StepError(f"{host.name} has {_human(free[path])} free on {path} but the transaction needs "
                                f"{_human(size)} {what}; free some space first.")

    def _check_lock(self, output, host):
        if not LOCK_FAILED.search(output):
            return
        holders = HOLDER.findall(output)
        pid, process, dpkg_pid = holders[-1] if holders else ("?", "", "")
        raise StepError(f"the dpkg lock on {host.name} is held by process {pid or dpkg_pid} ({process or 'unknown'}) "
                        f"and was not released within {self.lock_timeout} s (apt.lock_timeout); wait for it to "
                        "finish or raise the timeout.")

    def predict(self, facts):
        install, remove, _, hold = self._plan(facts)
        packages = facts.setdefault("packages", {})
        for name in install:
            packages[name] = {"version": self.install[name] or "(newest)", "held": False, "state": "installed"}
        for name in remove:
            packages.pop(name, None)
        for name in hold:  # a held name the transaction does not install by name comes as a dependency
            packages.setdefault(name, {"version": "(dependency)", "state": "installed"})["held"] = True
        for part in self.parts:
            if any(name in install for name in part.install):
                for unit in part.starts:
                    facts.setdefault("units", {})[unit] = {"enabled": "enabled", "active": "active"}
                if part.groups:
                    users.predict_groups(facts, part.groups)
        facts.setdefault("dpkg_audit", {})["broken"] = False


def _bytes(number, unit):
    return int(float(number.replace(",", "")) * UNITS[unit])


def _human(size):
    return f"{size / 1000**3:.1f} GB" if size >= 1000**3 else f"{size / 1000**2:.0f} MB"


def chain(commands):
    """Commands that run one after another while each succeeds, their errors in the output."""
    return "{ " + " && ".join(commands) + "; } 2>&1"


def first_error(output):
    """The line that names the cause: dpkg's error (with DKMS's), else apt's first `E:` line."""
    output = output.replace("\r\n", "\n")  # dpkg runs on a pseudo-terminal of apt's
    dpkg = DPKG_ERROR.search(output)
    if dpkg:
        dkms = DKMS_ERROR.search(output)
        cause = f" (DKMS: {dkms.group(1).strip()})" if dkms else ""
        return f"dpkg: error processing package {dpkg.group(1)} ({dpkg.group(2)}): {dpkg.group(3).strip()}{cause}."
    lines = output.splitlines()
    errors = [line[3:].strip() for line in lines if line.startswith("E: ") and not SUBPROCESS.match(line)]
    errors = errors or [line[3:].strip() for line in lines if line.startswith("E: ")]
    cause = (errors[0] if errors else output.strip().splitlines()[-1] if output.strip() else "no output").rstrip(".")
    unmet = _unmet(lines)
    return (f"{unmet} ({cause})" if unmet else cause) + "."


def _unmet(lines):
    """apt's first unmet dependency, its `or` alternatives joined: why apt finds no solution."""
    stripped = [line.strip() for line in lines]
    if UNMET not in stripped:
        return None
    at = stripped.index(UNMET) + 1
    text = stripped[at] if at < len(stripped) else ""
    while text.endswith(" or") and at + 1 < len(stripped):
        at += 1
        text += " " + stripped[at]
    return " ".join(text.split()) or None
