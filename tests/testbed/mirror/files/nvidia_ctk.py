#!/usr/bin/python3
"""Fixture nvidia-ctk @@v@@: the subcommands the roles run, with the real tool's effects.

`runtime configure` merges the nvidia runtime into Docker's daemon.json as the real one does
(other keys kept, 4-space indent, sorted keys); `cdi generate` asks the driver's nvidia-smi for
the GPUs, as the real one asks NVML, and fails the same way without a driver.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

VERSION = "@@v@@"
RUNTIME = {"args": [], "path": "nvidia-container-runtime"}


def main(argv: list[str]) -> int:
    if argv[:1] in (["--version"], ["-v"]):
        print(f"NVIDIA Container Toolkit CLI version {VERSION}\ncommit: fixture")
        return 0
    parser = argparse.ArgumentParser(prog="nvidia-ctk")
    commands = parser.add_subparsers(dest="command", required=True)
    runtime = commands.add_parser("runtime").add_subparsers(dest="action", required=True)
    configure = runtime.add_parser("configure")
    configure.add_argument("--runtime", default="docker")
    configure.add_argument("--config", default=None)
    configure.add_argument("--set-as-default", action="store_true")
    configure.add_argument("--dry-run", action="store_true")
    cdi = commands.add_parser("cdi").add_subparsers(dest="action", required=True)
    cdi.add_parser("generate").add_argument("--output", default="")
    system = commands.add_parser("system").add_subparsers(dest="action", required=True)
    system.add_parser("create-dev-char-symlinks").add_argument("--create-all", action="store_true")
    args = parser.parse_args(argv)
    handler = {"runtime": configure_runtime, "cdi": generate_cdi, "system": create_symlinks}[args.command]
    return handler(args)


CONTAINERD_RUNTIME = """
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  privileged_without_host_devices = false
  runtime_engine = ""
  runtime_root = ""
  runtime_type = "io.containerd.runc.v2"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
    BinaryName = "/usr/bin/nvidia-container-runtime"
"""


def configure_runtime(args) -> int:
    if args.runtime == "containerd":
        return configure_containerd(args)
    if args.runtime != "docker":
        log("ERRO", f"unrecognized runtime '{args.runtime}' (the fixture configures docker and containerd)")
        return 1
    path = Path(args.config or "/etc/docker/daemon.json")
    if path.exists():
        log("INFO", f"Loading config from {path}")
        config = json.loads(path.read_text() or "{}")
    else:
        log("INFO", "Config file does not exist; using empty config")
        config = {}
    config.setdefault("runtimes", {})["nvidia"] = dict(RUNTIME)
    if args.set_as_default:
        config["default-runtime"] = "nvidia"
    return write_config(path, json.dumps(config, indent=4, sort_keys=True), args.dry_run, "docker")


def configure_containerd(args) -> int:
    """The runtime section the real tool adds to a version 2 containerd config (kept otherwise)."""
    path = Path(args.config or "/etc/containerd/config.toml")
    text = path.read_text() if path.exists() else "version = 2\n"
    if CONTAINERD_RUNTIME.strip() not in text:
        text += CONTAINERD_RUNTIME
    if args.set_as_default and 'default_runtime_name = "nvidia"' not in text:
        table = '[plugins."io.containerd.grpc.v1.cri".containerd]'
        line = '  default_runtime_name = "nvidia"'
        text = text.replace(table, f"{table}\n{line}", 1) if table in text else f"{text}\n{table}\n{line}\n"
    return write_config(path, text, args.dry_run, "containerd")


def write_config(path: Path, text: str, dry_run: bool, engine: str) -> int:
    if dry_run:
        print(text)
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    log("INFO", f"Wrote updated config to {path}")
    log("INFO", f"It is recommended that {engine} daemon be restarted.")
    return 0


def generate_cdi(args) -> int:
    query = ["nvidia-smi", "--query-gpu=index,uuid,driver_version", "--format=csv,noheader"]
    result = subprocess.run(query, capture_output=True, text=True)
    if result.returncode != 0:
        log("ERRO", "failed to generate CDI spec: failed to create device CDI specs: "
                    "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND")
        return 1
    rows = [line.split(", ") for line in result.stdout.splitlines() if line.strip()]
    spec = cdi_spec([row[:2] for row in rows], rows[0][2] if rows else "")
    if not args.output:
        print(spec, end="")
        return 0
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(spec)
    log("INFO", "Generated CDI spec with version 0.5.0")
    return 0


def cdi_spec(gpus: list[list[str]], driver: str) -> str:
    """The real spec's shape: shared device nodes, the driver's libraries mounted, one device per GPU."""
    library = f"/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{driver}"
    lines = ["---", "cdiVersion: 0.5.0", "containerEdits:", "  deviceNodes:",
             "  - path: /dev/nvidiactl", "  - path: /dev/nvidia-uvm", "  mounts:",
             f"  - containerPath: {library}", f"    hostPath: {library}", "    options:",
             "    - ro", "    - nosuid", "    - nodev", "    - bind", "devices:"]
    for index, gpu_uuid in gpus:
        for name in (index, gpu_uuid):
            lines += ["- containerEdits:", "    deviceNodes:", f"    - path: /dev/nvidia{index}", f"  name: \"{name}\""]
    lines += ["- containerEdits:", "    deviceNodes:"]
    lines += [f"    - path: /dev/nvidia{index}" for index, _ in gpus]
    lines += ["  name: all", "kind: nvidia.com/gpu", ""]
    return "\n".join(lines)


def create_symlinks(args) -> int:
    char = Path("/dev/char")
    for node in sorted(Path("/dev").glob("nvidia*")):
        if node.is_char_device():
            rdev = node.stat().st_rdev
            link = char / f"{os.major(rdev)}:{os.minor(rdev)}"
            if not link.exists():
                char.mkdir(exist_ok=True)
                link.symlink_to(f"../{node.name}")
    return 0


def log(level: str, message: str) -> None:
    print(f"{level}[0000] {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
