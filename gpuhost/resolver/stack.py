"""The resolver's answer: one consistent driver/CUDA/cuDNN/TensorRT stack and why.

Why a frozen value: roles read it, the CLI prints it, reports store it; none may change it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gpuhost.resolver.compat import CudaRelease, Gpu, LibRelease


@dataclass(frozen=True)
class Driver:
    branch: int
    flavor: str
    min_version: str | None  # None: no release of the branch is known, apt takes the repository's newest
    fabric_manager: bool = False


@dataclass(frozen=True)
class Stack:
    gpus: tuple[Gpu, ...]
    os_id: str
    os_version: str
    repo: str
    repo_arch: str
    driver: Driver | None
    cuda: CudaRelease | None
    cudnn: LibRelease | None
    tensorrt: LibRelease | None
    framework: dict | None
    packages: dict
    reasons: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain data for JSON output and reports."""
        return {
            "gpus": [{"model": g.model, "arch": g.arch, "compute_capability": g.compute_capability,
                      "pci_ids": list(g.pci_ids)} for g in self.gpus],
            "os": {"id": self.os_id, "version": self.os_version},
            "repo": {"distro": self.repo, "arch": self.repo_arch, "path": f"{self.repo}/{self.repo_arch}"},
            "driver": None if self.driver is None else {
                "branch": self.driver.branch, "flavor": self.driver.flavor,
                "min_version": self.driver.min_version, "fabric_manager": self.driver.fabric_manager},
            "cuda": None if self.cuda is None else f"{self.cuda.minor}",
            "cuda_release": None if self.cuda is None else str(self.cuda.version),
            "cudnn": None if self.cudnn is None else str(self.cudnn.version),
            "tensorrt": None if self.tensorrt is None else str(self.tensorrt.version),
            "framework": self.framework,
            "packages": self.packages,
            "reasons": [text for _, text in self.reasons],
        }

    def explain(self) -> str:
        """One line per choice, with the reasons that decided it."""
        values = self._values()
        lines = []
        for topic in ("gpus", "driver", "cuda", "cudnn", "tensorrt", "framework", "repo"):
            why = " ".join(text for t, text in self.reasons if t == topic)
            if topic in values or why:
                lines.append(f"{topic:<10} {values.get(topic, '-')}" + (f"  -- {why}" if why else ""))
        return "\n".join(lines)

    def _values(self) -> dict:
        d = self.to_dict()
        counts = {}
        for g in d["gpus"]:
            label = f"{g['model']} ({g['arch']}, sm {g['compute_capability']})"
            counts[label] = counts.get(label, 0) + 1
        values = {"gpus": ", ".join(f"{n} x {label}" if n > 1 else label for label, n in counts.items()) or "none",
                  "repo": d["repo"]["path"]}
        if d["driver"]:
            least = d["driver"]["min_version"]
            values["driver"] = f"{d['driver']['branch']} {d['driver']['flavor']} " + (f">= {least}" if least else "(the repository's newest)")
        if d["cuda"]:
            values["cuda"] = f"{d['cuda']} ({self.packages['cuda'][0]}={self.packages['cuda_version']})"
        for lib in ("cudnn", "tensorrt"):
            if d[lib]:
                values[lib] = d[lib]
        if self.framework:
            values["framework"] = f"{self.framework['name']} {self.framework['version']}"
        return values
