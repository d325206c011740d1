"""The Python API of the harness: bring hosts up, look at them, take everything down.

    bed = Testbed()
    bed.up([HostSpec("tb1"), HostSpec("tb2", gpus=("H100x2",), os="ubuntu-22.04")])
    with bed.connect("tb1") as c: c.run("lspci -nn")
    bed.reboot("tb1"); bed.down()

`up` is additive and idempotent: hosts already running with the same spec are reused, a
running host with a different spec is refused (it must be taken down first), and one this
checkout has no record of, which another checkout of the project left, is replaced.
"""
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from . import access, cgroups, conditions, hosts, inventory, mirror_http, network, provision, proxy, rootfs
from .specs import HostSpec
from .system import STATE, TestbedError, allow_inotify_for, ensure_packages, is_root


class Testbed:
    inventory_path = inventory.PATH
    key_path = access.KEY
    known_hosts_path = access.KNOWN_HOSTS
    become_password_path = access.BECOME_PASSWORD

    def up(self, specs: list) -> dict:
        """Start the hosts in `specs` (in parallel), install what their options ask for (provision.py)
        and return {name: spec} of all running hosts."""
        if not is_root():
            raise TestbedError("the testbed needs root (network namespaces, mounts, nspawn)")
        ensure_packages({"systemd-nspawn": "systemd-container", "ssh-keygen": "openssh-client"})
        started = time.monotonic()
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise TestbedError(f"host names repeat in {names}")
        new = [s for s in specs if not self._reusable(s)]
        allow_inotify_for(len(set(self.hosts()) | set(names)))
        base = rootfs.ensure()
        network.ensure_bridge()
        proxy.start(rootfs.SOURCES)
        manifest = mirror_http.publish()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda s: hosts.create(s, base), new))
            for spec in new:
                if manifest and spec.os.startswith("ubuntu-"):
                    hosts.add_archive_source(spec.name, mirror_http.archive_key(manifest),
                                             spec.profile.codename)
                hosts.start(spec.name)
            list(pool.map(hosts.wait_ready, new))
        running = self.hosts()
        self._write_access(running, mirror_http.repo_settings(manifest) if manifest else {})
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(provision.apply, specs))  # over SSH, so once the host keys are pinned
        print(f"testbed: {len(new)} started, {len(specs) - len(new)} reused "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        return running

    def _write_access(self, running: dict, settings: dict) -> None:
        access.write_known_hosts({(s.name, s.address): hosts.host_key(s.name) for s in running.values()})
        inventory.write(list(running.values()), settings)

    def _reusable(self, spec: HostSpec) -> bool:
        """True for a live host with this spec; clears the remains of a dead one, and a host of this
        name that this checkout has no record of (another checkout of the project left it)."""
        current = hosts.spec_of(spec.name)
        if hosts.is_running(spec.name) and current not in (spec, None):
            raise TestbedError(f"{spec.name} is running as {current}, not {spec}: "
                               "run `invoke testbed.down` first")
        if hosts.is_alive(spec.name):
            return True
        if hosts.directory(spec.name).exists() or hosts.is_running(spec.name):
            hosts.destroy(spec.name)
        return False

    def hosts(self) -> dict:
        """{name: spec} of the hosts that are running now."""
        return {n: hosts.spec_of(n) for n in hosts.existing() if hosts.is_running(n)}

    def remove(self, name: str) -> None:
        """Take one host down and drop it from the inventory; the rest keep running."""
        hosts.destroy(name)
        self._write_access(self.hosts(), inventory.repo_settings() if inventory.PATH.exists() else {})

    def down(self) -> None:
        """Stop every host and the services on the bridge, those another checkout left included;
        keep the caches and the client key."""
        # Another checkout's hosts are found by their namespaces: made before a host starts, removed after.
        names = {p.name for p in hosts.HOSTS.glob("tb*")} | network.host_names()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(hosts.destroy, sorted(names)))
        mirror_http.stop()
        proxy.stop()
        for group in cgroups.names():  # the daemons another checkout started
            cgroups.kill_and_remove(group)
        network.remove_bridge()
        cgroups.remove_group()
        shutil.rmtree(hosts.HOSTS, ignore_errors=True)
        for path in (inventory.PATH, access.KNOWN_HOSTS):
            path.unlink(missing_ok=True)

    def status(self) -> list:
        return [{"name": n, "address": s.address, "os": s.os, "gpus": list(s.gpus),
                 "sudo": s.sudo, "options": list(s.options),
                 "running": hosts.is_running(n)} for n, s in
                ((n, hosts.spec_of(n)) for n in hosts.existing())]

    @property
    def names(self) -> list:
        return sorted(self.hosts(), key=lambda n: int(n[2:]))

    def address(self, name: str) -> str:
        spec = hosts.spec_of(name)
        if spec is None:
            raise TestbedError(f"no host {name} in {STATE}")
        return spec.address

    def connect(self, name: str, user: str = "root"):
        return access.connect(self.address(name), user)

    def boot_id(self, name: str) -> str:
        return conditions.boot_id(self.address(name))

    def reboot(self, name: str, timeout: float = 60) -> str:
        return conditions.reboot(self.address(name), timeout)

    def wait_for_new_boot(self, name: str, before: str, timeout: float = 60) -> str:
        return conditions.wait_for_new_boot(self.address(name), before, timeout)

    def hold_lock(self, name: str, seconds: float) -> None:
        conditions.hold_lock(self.address(name), seconds)

    def release_lock(self, name: str) -> None:
        conditions.release_lock(self.address(name))

    def set_rtt(self, rtt_ms: int, *, names: list) -> None:
        """Give the named hosts this round-trip time to the outer side (0 removes it).

        Only the named ones: other tests and benchmarks share the testbed, and a delay line on
        their hosts would slow or cut their transfers."""
        if not 0 <= int(rtt_ms) <= 1000:
            raise TestbedError(f"rtt_ms must be in 0..1000, not {rtt_ms}")
        running = self.hosts()
        for name in names:
            if name not in running:
                raise TestbedError(f"{name} is not a running test host")
            hosts.set_rtt(name, int(rtt_ms))

    def kernel_update(self, name: str) -> str:
        return conditions.kernel_update(self.address(name))

