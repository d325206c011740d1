"""JSON configuration files that several parties edit (Docker's daemon.json): merged, never replaced.

Only the keys gpuhost is asked for are set; every other key stays as the user left it. A file
that is not valid JSON is refused before anything changes (dockerd would refuse it too), the
new content can be validated on the host before it replaces the old, and the old is kept as
`<path>.gpuhost-backup`.
"""

import base64
import difflib
import json
import shlex

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.ops.files import checked_path, write_command
from gpuhost.settings import merge  # nested objects merged key by key, anything else replaced
from gpuhost.steps import Check, Step


def parse(facts, path):
    """(content as a dict or None when absent, error sentence or None)."""
    current = facts.get("files", {}).get(path)
    if current is None:
        return None, None
    if current.get("kind") != "regular file" or current.get("content") is None:
        return None, f"{path} is not a readable text file under 64 KiB"
    try:
        value = json.loads(current["content"] or "{}")
    except json.JSONDecodeError as error:
        return None, f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
    if not isinstance(value, dict):
        return None, f"{path} holds a JSON {type(value).__name__}, not an object"
    return value, None


def valid(path, consumer):
    """A refusal, before any change, when the file exists but cannot be merged into."""
    checked_path(path)

    def problem(facts):
        _, error = parse(facts, path)
        if error:
            return f"{error}; {consumer} refuses such a file too. gpuhost left it untouched: fix it or move it away."
        return None

    return Check(f"{path} is a JSON object", problem)


class JsonMerge(Step):
    """`keys` merged into the JSON object at `path`; written only when the merged object differs."""

    def __init__(self, path, keys, name=None, notify=(), validate=None):
        self.path = checked_path(path)
        self.keys = dict(keys)
        self.name = name or f"merge into {path}"
        self.notify = tuple(notify)
        self.validate = validate  # shell command run on the new file ({file}) before it replaces the old

    def request(self):
        return Request(files={self.path})

    def _merged(self, facts):
        current, error = parse(facts, self.path)
        if error:
            raise StepError(f"{error}; gpuhost left it untouched.")
        return current, merge(current or {}, self.keys)

    def commands(self, facts):
        current, merged = self._merged(facts)
        if current == merged and current is not None:
            return []
        content, path = _text(merged).encode(), shlex.quote(self.path)
        backup = f"{{ [ ! -e {path} ] || cp -p {path} {shlex.quote(self.path + '.gpuhost-backup')}; }}"
        return [f"{self._check(content)}{backup} && {write_command(self.path, content, '0644', 'root', 'root')}"]

    def _check(self, content):
        """The validator run on the new content in a private temporary file (mktemp: never a planted name)."""
        if not self.validate:
            return ""
        data = base64.b64encode(content).decode()
        check = self.validate.format(file='"$t"')
        return f't=$(mktemp) && printf %s {data} | base64 -d > "$t" && {check}; rc=$?; rm -f "$t"; [ $rc -eq 0 ] && '

    def predict(self, facts):
        _, merged = self._merged(facts)
        text = _text(merged)
        facts.setdefault("files", {})[self.path] = {"path": self.path, "kind": "regular file", "content": text,
                                                    "mode": "0644", "owner": "root", "group": "root"}

    def diff(self, facts):
        current = (facts.get("files", {}).get(self.path) or {}).get("content") or ""
        _, merged = self._merged(facts)
        lines = difflib.unified_diff(current.splitlines(), _text(merged).splitlines(), self.path, self.path,
                                     lineterm="")
        return "\n".join(lines)


def _text(value):
    return json.dumps(value, indent=4) + "\n"
