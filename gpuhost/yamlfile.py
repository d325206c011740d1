"""YAML loading that remembers where each value came from.

Inventory errors must name the file and line, so mappings keep the line of every key. Floats are
kept as the text the user wrote: in this domain `12.10` is a CUDA version, never the number 12.1.
"""

from pathlib import Path

import yaml

from gpuhost.errors import InventoryError


class Located(dict):
    """A mapping that knows the file and the line of each of its keys."""

    def __init__(self, *args, source="", lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.lines = dict(lines or {})

    def where(self, key=None):
        """`file:line` of a key (or of the mapping itself when the key is unknown)."""
        line = self.lines.get(key, self.lines.get(None))
        return f"{self.source}:{line}" if line else str(self.source)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it: 5× faster
    source = ""

    def construct_located(self, node):
        self.flatten_mapping(node)
        mapping = Located(source=self.source, lines={None: node.start_mark.line + 1})
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not self.key_allowed(key):
                raise InventoryError(
                    f"{self.source}:{key_node.start_mark.line + 1}: a key must be a name, not {key!r}."
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping

    def key_allowed(self, key):
        return isinstance(key, (str, int))

    def construct_float_as_text(self, node):
        return self.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_located)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_float_as_text)


def loads(text, source="<string>", loader=None):
    """Parse YAML text (with `loader`, a yaml Loader class, when given); a syntax error becomes an
    InventoryError naming the file and line."""
    loader_class = type("Loader", (loader or _Loader,), {"source": str(source)})
    try:
        return yaml.load(text, Loader=loader_class)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise InventoryError(f"{source}{line}: malformed YAML: {error.problem or error}.") from None
    except yaml.YAMLError as error:
        raise InventoryError(f"{source}: malformed YAML: {error}.") from None


def load(path):
    """Parse a YAML file (see `loads`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InventoryError(f"{path}: cannot be read: {error.strerror}.") from None
    return loads(text, source=path)
