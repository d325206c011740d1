"""The user's partial stack request, normalised into specifiers.

Why: users write versions many ways ("12.4", 12, ">=12.4,<13", "580.95.05"); the resolver
should see one form. A bare version means "this release or any update of it" (12.4 ->
==12.4.*), so "cuda: 12.4" accepts 12.4.1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from gpuhost.errors import ResolveError

POLICIES = ("lts", "production", "newest")
FLAVORS = ("open", "proprietary")
FRAMEWORK_NAMES = {"tensorflow": "tensorflow", "tf": "tensorflow", "torch": "torch", "pytorch": "torch"}


def to_spec(value, what: str) -> SpecifierSet | None:
    """A specifier from a version, an int or a specifier string; None when not requested."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if text[0].isdigit():
            Version(text)
            return SpecifierSet(f"=={text}.*")
        return SpecifierSet(text)
    except (InvalidSpecifier, InvalidVersion):
        raise ResolveError(f"{what} request {value!r} is neither a version nor a specifier like '>=12.4,<13'.") from None


@dataclass
class Request:
    """What the user pinned; raw keeps their words for error messages."""

    policy: str = "production"
    driver: SpecifierSet | None = None
    driver_version: str | None = None
    flavor: str | None = None
    cuda: SpecifierSet | None = None
    cuda_minors: frozenset | None = None
    cudnn: SpecifierSet | None = None
    tensorrt: SpecifierSet | None = None
    framework: tuple[str, SpecifierSet | None] | None = None
    raw: dict = field(default_factory=dict)

    def empty(self) -> bool:
        return not any((self.driver, self.flavor, self.cuda, self.cudnn, self.tensorrt, self.framework))


def parse_request(request: dict | None, policy: str) -> Request:
    request = {k: v for k, v in (request or {}).items() if v not in (None, "")}
    if policy not in POLICIES:
        raise ResolveError(f"Unknown policy {policy!r}: use one of {', '.join(POLICIES)}.")
    flavor = request.get("flavor")
    if flavor is not None and flavor not in FLAVORS:
        raise ResolveError(f"Unknown driver flavor {flavor!r}: use 'open' or 'proprietary'.")
    driver, driver_version = _driver(request.get("driver"))
    return Request(policy, driver, driver_version, flavor, to_spec(request.get("cuda"), "CUDA"), None,
                   to_spec(request.get("cudnn"), "cuDNN"), to_spec(request.get("tensorrt"), "TensorRT"),
                   _framework(request.get("framework")), {k: str(v) for k, v in request.items()})


def _driver(value) -> tuple[SpecifierSet | None, str | None]:
    """A branch (580), a branch specifier (>=570) or one full driver version (580.95.05)."""
    if value is None:
        return None, None
    text = str(value).strip()
    if text.count(".") >= 1 and text[0].isdigit():
        return SpecifierSet(f"=={Version(text).major}"), text
    return to_spec(text, "driver"), None


def _framework(value) -> tuple[str, SpecifierSet | None] | None:
    """'tensorflow', 'tensorflow 2.15', 'torch>=2.6' or {'name': 'torch', 'version': '2.7'}."""
    if value is None:
        return None
    if isinstance(value, dict):
        name, version = value.get("name", ""), value.get("version")
    else:
        text = str(value).strip()
        cut = next((i for i, c in enumerate(text) if c in " =<>!~"), len(text))
        name, version = text[:cut], text[cut:].strip() or None
    key = FRAMEWORK_NAMES.get(str(name).lower())
    if key is None:
        raise ResolveError(f"Unknown framework {name!r}: gpuhost knows tensorflow and torch.")
    return key, to_spec(version, key)
