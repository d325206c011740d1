"""How `gpuhost facts` shows facts: a short text per host, or JSON with the packages that matter."""

import re

INTERESTING = re.compile(r"^(nvidia|cuda|libcudnn|cudnn|libnvinfer|libnvonnxparsers|tensorrt|python3-libnvinfer|"
                         r"docker|containerd|runc$|podman-docker|libnvidia|linux-headers|linux-modules-nvidia|dkms$|"
                         r"linux-image|r-base|unattended-upgrades)")


def relevant(facts):
    """The facts with the package list cut to the packages gpuhost's roles care about."""
    shown = dict(facts)
    shown["packages"] = {n: p for n, p in sorted(facts.get("packages", {}).items()) if INTERESTING.match(n)}
    shown["gpus"] = [dict(gpu, model=_model(gpu)) for gpu in facts.get("pci", [])]
    return shown


def _model(gpu):
    from gpuhost import resolution

    return resolution.model_name(gpu["device"])


def as_dict(results):
    return {"hosts": {r.name: {"status": "ok" if not r.error else r.status, "error": r.error,
                               "remote_commands": r.remote_commands, "facts": relevant(r.facts)} for r in results}}


def text(results):
    lines = []
    for result in results:
        if result.error:
            lines.append(f"{result.name}: {result.status}: {result.error}")
            continue
        f = relevant(result.facts)
        os_info, nvidia = f.get("os", {}), f.get("modules", {}).get("nvidia")
        lines += [
            f"{result.name}: {os_info.get('pretty') or os_info.get('id')} ({f.get('arch')}), kernel {f.get('kernel')}, "
            f"virtualisation {f.get('virt', {}).get('type')}, cloud {f.get('virt', {}).get('cloud') or 'none'}",
            "  GPUs: " + (", ".join(f"{g['model']} [{g['device']}] at {g['bus_id']}" for g in f["gpus"]) or "none")
            + _nvswitches(f.get("nvswitches", [])),
            f"  nvidia module: {nvidia.get('version') if nvidia else 'not loaded'}; nouveau: "
            f"{'loaded' if 'nouveau' in f.get('modules', {}) else 'not loaded'}; "
            f"secure boot: {'on' if f.get('secure_boot', {}).get('enabled') else 'off'}",
            f"  dpkg lock: {_lock(f.get('dpkg_lock', {}))}; reboot required: "
            f"{'yes' if f.get('reboot_required', {}).get('required') else 'no'}; free: "
            + ", ".join(f"{p} {b / 1e9:.1f} GB" for p, b in f.get("disk", {}).items()),
        ]
        lines += [f"  {n} {p['version']}{' (held)' if p['held'] else ''}" for n, p in f["packages"].items()]
    return "\n".join(lines)


def _nvswitches(switches):
    return f"; NVSwitches: {len(switches)} (Fabric Manager)" if switches else ""


def _lock(lock):
    return f"held by {lock.get('process')} (pid {lock.get('pid')})" if lock.get("held") else "free"
