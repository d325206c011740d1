"""conda's version order and version specs (conda.models.version) for the forms channels use.

Versions compare component by component (`.` and `_` separate them, each a run of numbers and
letters), missing components count as 0, letters sort before numbers (`4.3.0a0 < 4.3.0`), `dev`
before other letters and `post` after everything. Specs: `1.2`, `==1.2`, `1.2.*`, `1.2*`,
`>=1.2,<2`, `!=1.3`, `~=1.2.3` and alternatives with `|`.
"""
import operator
import re
from functools import total_ordering

_PAD = (1, 0)
_RELATION = re.compile(r"^(==|!=|<=|>=|<|>|~=|=)?\s*(\S+)$")
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


def _atom(run):
    if run.isdigit():
        return (1, int(run))
    return {"dev": (-1, ""), "post": (2, 0)}.get(run, (0, run))


@total_ordering
class VersionOrder:
    def __init__(self, text):
        epoch, _, rest = str(text).strip().lower().rpartition("!")
        self.epoch = int(epoch) if epoch else 0
        self.parts = []
        for component in re.split(r"[._]", rest.split("+", 1)[0]):
            runs = re.findall(r"\d+|[^\d]+", component)
            if not runs or not runs[0].isdigit():
                runs.insert(0, "0")
            self.parts.append([_atom(run) for run in runs])

    def _pairs(self, other, count=None):
        count = max(len(self.parts), len(other.parts)) if count is None else count
        for i in range(count):
            a = self.parts[i] if i < len(self.parts) else [_PAD]
            b = other.parts[i] if i < len(other.parts) else [_PAD]
            width = max(len(a), len(b))
            yield a + [_PAD] * (width - len(a)), b + [_PAD] * (width - len(b))

    def _cmp(self, other):
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        for a, b in self._pairs(other):
            if a != b:
                return -1 if a < b else 1
        return 0

    def __eq__(self, other):
        return self._cmp(other) == 0

    def __lt__(self, other):
        return self._cmp(other) < 0

    def startswith(self, other):
        """`1.2.5` starts with `1.2`; `1.22` does not (components are compared whole, the last one's
        final letters by prefix)."""
        if self.epoch != other.epoch:
            return False
        pairs = list(self._pairs(other, len(other.parts)))
        for a, b in pairs[:-1]:
            if a != b:
                return False
        mine, theirs = pairs[-1]
        n = len(other.parts[-1])
        if mine[:n - 1] != theirs[:n - 1]:
            return False
        x, y = mine[n - 1], theirs[n - 1]
        return x == y or (x[0] == 0 and y[0] == 0 and x[1].startswith(y[1]))


class VersionSpec:
    """A version constraint: `,` binds tighter than `|`, as in conda."""

    def __init__(self, text):
        self._alternatives = [[self._term(t) for t in alt.split(",")] for alt in str(text).strip().split("|")]

    def match(self, version):
        order = VersionOrder(version)
        return any(all(term(order) for term in terms) for terms in self._alternatives)

    def _term(self, term):
        term = term.strip()
        if term in ("", "*"):
            return lambda v: True
        match = _RELATION.match(term)
        if not match:
            raise ValueError(f"invalid version spec {term!r}")
        op, text = match.groups()
        if op == "~=":
            floor = VersionOrder(text)
            stem = VersionOrder(text.rsplit(".", 1)[0])
            return lambda v: v >= floor and v.startswith(stem)
        if text.endswith("*"):
            stem = VersionOrder(text.rstrip("*").rstrip("."))
            if op in (None, "=", "=="):
                return lambda v: v.startswith(stem)
            if op == "!=":
                return lambda v: not v.startswith(stem)
            return lambda v: _COMPARE[op](v, stem)
        bound = VersionOrder(text)
        if op == "=":
            return lambda v: v.startswith(bound)
        return lambda v: _COMPARE[op or "=="](v, bound)
