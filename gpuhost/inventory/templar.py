"""Jinja between variables, as inventories use it: `ansible_host: "{{ internal_ip }}"`.

gpuhost renders the variables it uses, lazily and each once, as Ansible does when a task runs:
names and the magic variables (`inventory_hostname`, `group_names`, `groups`, `hostvars`,
`inventory_dir`), attribute and index access, literals, `~ + - * /`, comparisons, `and or not`,
`x if c else y`, the tests `defined`/`undefined`/`none`, the filters in FILTERS and
`lookup('env', …)`/`query('env', …)`. A whole value that is one `{{ expression }}` keeps its
type; anything else is text. What lies beyond (`{% %}` statements, another filter or lookup) is
an error that names it, for the variables gpuhost uses; the others are kept as written.
"""

import ntpath
import os
import re

from gpuhost.errors import InventoryError
from gpuhost.inventory.data import FloatText, Unsafe, Vaulted

TOKEN = re.compile(r"""\s*(?:(?P<num>\d+\.\d+|\d+)|(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|
    (?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|//|\*\*|[-+*/%~|.,:()\[\]{}<>=]))""", re.X)
COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
           ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
              "**": lambda a, b: a ** b}
CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "none": None, "None": None}
METHODS = {"split", "rsplit", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "startswith", "endswith",
           "get", "keys", "values", "items", "join", "format", "title", "capitalize"}


class TemplateError(InventoryError):
    """A template gpuhost cannot render: the message names what it met."""


class Undefined:
    def __init__(self, name):
        self.name = name


def is_template(value):
    return isinstance(value, str) and not isinstance(value, Unsafe) and any(m in value for m in ("{{", "{%", "{#"))


class Renderer:
    """One host's variables, rendered on demand. `magic`: Ansible's magic variables for the host;
    `reveal`: decrypts a vaulted value when a template uses it."""

    def __init__(self, variables, magic, reveal):
        self.variables = variables
        self.magic = magic
        self.reveal = reveal
        self.done = {}
        self.active = []

    def value(self, name):
        if name in self.magic:
            return self.magic[name]
        if name not in self.variables:
            return Undefined(name)
        if name not in self.done:
            if name in self.active:
                raise TemplateError(f"variables refer to each other in a loop: {' → '.join([*self.active, name])}.")
            self.active.append(name)
            try:
                self.done[name] = self.render(self.variables[name])
            finally:
                self.active.pop()
        return self.done[name]

    def render(self, value):
        """`value` with every template in it rendered (mappings and lists too)."""
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if not is_template(value):
            return value
        if "{%" in value:
            raise TemplateError(f"'{value}' holds a Jinja statement ({{% … %}}), which gpuhost does not render.")
        pieces = _pieces(re.sub(r"\{#.*?#\}", "", value, flags=re.S))
        if len(pieces) == 1 and isinstance(pieces[0], _Expression):
            return _defined(self._evaluate(pieces[0].text))
        return "".join(p if isinstance(p, str) else _text(self._plain(_defined(self._evaluate(p.text))))
                       for p in pieces)

    def _evaluate(self, text):
        parser = _Parser(text, self)
        result = parser.expression()
        if parser.peek() is not None:
            raise TemplateError(f"'{{{{ {text.strip()} }}}}': unexpected '{parser.peek()[1]}'.")
        return result

    def _plain(self, value):
        return self.reveal(value) if isinstance(value, Vaulted) else value


class _Expression:
    def __init__(self, text):
        self.text = text


def _pieces(template):
    """Literal text and `{{ … }}` expressions, in order (a `}}` inside quotes does not end one)."""
    pieces, position = [], 0
    while True:
        start = template.find("{{", position)
        if start < 0:
            return [*pieces, template[position:]] if template[position:] or not pieces else pieces
        if start > position:
            pieces.append(template[position:start])
        end, quote, index = None, None, start + 2
        while index < len(template):
            char = template[index]
            if quote:
                quote = None if char == quote else quote
                index += 2 if char == "\\" else 1
                continue
            if char in "'\"":
                quote = char
            elif template.startswith("}}", index):
                end = index
                break
            index += 1
        if end is None:
            raise TemplateError(f"'{template}': a '{{{{' is never closed.")
        pieces.append(_Expression(template[start + 2:end]))
        position = end + 2


def _defined(value):
    if isinstance(value, Undefined):
        raise TemplateError(f"'{value.name}' is undefined.")
    return value


def _text(value):
    return str(value)


def _number(value):
    value = _defined(value)
    return value.value if isinstance(value, FloatText) else value


class _Parser:
    """A recursive-descent evaluator over the tokens of one expression."""

    def __init__(self, text, renderer):
        self.text = text
        self.renderer = renderer
        self.tokens = self._tokens(text)
        self.index = 0

    @staticmethod
    def _tokens(text):
        tokens, position = [], 0
        while text[position:].strip():
            match = TOKEN.match(text, position)
            if not match or match.end() == position:
                raise TemplateError(f"'{{{{ {text.strip()} }}}}': gpuhost cannot read '{text[position:].strip()}'.")
            kind = match.lastgroup
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    def peek(self, offset=0):
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def accept(self, *values):
        token = self.peek()
        if token and token[0] in ("op", "name") and token[1] in values:
            self.index += 1
            return token[1]
        return None

    def expect(self, value):
        if not self.accept(value):
            found = self.peek()[1] if self.peek() else "the end"
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}': expected '{value}', found {found}.")

    def expression(self):
        value = self.or_()
        if self.accept("if"):
            condition = self.or_()
            otherwise = self.expression() if self.accept("else") else Undefined("else")
            return value if _truth(condition) else otherwise
        return value

    def or_(self):
        value = self.and_()
        while self.accept("or"):
            other = self.and_()
            value = value if _truth(value) else other
        return value

    def and_(self):
        value = self.not_()
        while self.accept("and"):
            other = self.not_()
            value = other if _truth(value) else value
        return value

    def not_(self):
        if self.accept("not"):
            return not _truth(self.not_())
        return self.compare()

    def compare(self):
        value = self.concat()
        while True:
            token = self.peek()
            if token and token[1] in COMPARE:
                self.index += 1
                value = COMPARE[token[1]](_number(value), _number(self.concat()))
            elif self.accept("in"):
                value = _defined(value) in _defined(self.concat())
            elif token and token[1] == "not" and self.peek(1) and self.peek(1)[1] == "in":
                self.index += 2
                value = _defined(value) not in _defined(self.concat())
            else:
                return value

    def concat(self):
        value = self.sum()
        while self.accept("~"):
            value = _text(self.renderer._plain(_defined(value))) + _text(self.renderer._plain(_defined(self.sum())))
        return value

    def sum(self):
        value = self.product()
        while (op := self.accept("+", "-")):
            value = ARITHMETIC[op](self._operand(value), self._operand(self.product()))
        return value

    def product(self):
        value = self.unary()
        while (op := self.accept("*", "/", "//", "%", "**")):
            value = ARITHMETIC[op](self._operand(value), self._operand(self.unary()))
        return value

    def _operand(self, value):
        return _number(self.renderer._plain(_defined(value)))

    def unary(self):
        if self.accept("-"):
            return -self._operand(self.unary())
        if self.accept("+"):
            return self._operand(self.unary())
        value = self.postfix(self.primary())
        while True:
            if self.accept("|"):
                value = self.filter(value)
            elif self.accept("is"):
                value = self.test(value)
            else:
                return value

    def primary(self):
        token = self.peek()
        if token is None:
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}' ends too early.")
        self.index += 1
        kind, text = token
        if kind == "num":
            return FloatText(text, float(text)) if "." in text else int(text)
        if kind == "str":
            return _unquote(text)
        if kind == "name":
            if text in CONSTANTS:
                return CONSTANTS[text]
            if self.peek() and self.peek()[1] == "(" and text in ("lookup", "query", "q"):
                return self.lookup(text)
            return self.renderer.value(text)
        if text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if text == "[":
            return self.items("]")
        if text == "{":
            return self.mapping()
        raise TemplateError(f"'{{{{ {self.text.strip()} }}}}': unexpected '{text}'.")

    def items(self, closing):
        values = []
        while not self.accept(closing):
            values.append(self.expression())
            if not self.accept(","):
                self.expect(closing)
                break
        return values

    def mapping(self):
        result = {}
        while not self.accept("}"):
            key = self.expression()
            self.expect(":")
            result[_defined(key)] = self.expression()
            if not self.accept(","):
                self.expect("}")
                break
        return result

    def arguments(self):
        """Positional and keyword arguments of a call, after its '('."""
        positional, named = [], {}
        while not self.accept(")"):
            token, following = self.peek(), self.peek(1)
            if token and token[0] == "name" and following and following[1] == "=":
                self.index += 2
                named[token[1]] = self.expression()
            else:
                positional.append(self.expression())
            if not self.accept(","):
                self.expect(")")
                break
        return positional, named

    def postfix(self, value):
        while True:
            if self.accept("."):
                name = self.peek()
                self.index += 1
                value = self._member(value, name[1] if name else "")
            elif self.accept("["):
                key = self.expression()
                self.expect("]")
                value = _item(self.renderer._plain(value), _defined(key))
            elif self.peek() and self.peek()[1] == "(" and callable(value):
                self.index += 1
                positional, named = self.arguments()
                value = value(*[_defined(a) for a in positional], **named)
            else:
                return value

    def _member(self, value, name):
        value = self.renderer._plain(value)
        if isinstance(value, Undefined):
            return Undefined(f"{value.name}.{name}")
        if isinstance(value, (dict, _HostVars, _Variables)) and name in value:
            return value[name]
        if name in METHODS and hasattr(value, name):
            return getattr(value, name)
        return Undefined(name)

    def filter(self, value):
        token = self.peek()
        if not token or token[0] != "name":
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}': a filter name must follow '|'.")
        self.index += 1
        name = token[1]
        positional, named = self.arguments() if self.accept("(") else ([], {})
        name = name.removeprefix("ansible.builtin.")
        if name not in FILTERS:
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}' uses the filter '{token[1]}', which gpuhost does "
                                "not render; write the value itself.")
        if name not in ("default", "d", "mandatory"):
            value = self.renderer._plain(_defined(value))
        return FILTERS[name](value, *positional, **named)

    def test(self, value):
        negate = bool(self.accept("not"))
        token = self.peek()
        self.index += 1
        tests = {"defined": lambda v: not isinstance(v, Undefined), "undefined": lambda v: isinstance(v, Undefined),
                 "none": lambda v: v is None, "string": lambda v: isinstance(v, str),
                 "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
        if not token or token[1] not in tests:
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}' uses a test gpuhost does not render.")
        return tests[token[1]](value) != negate

    def lookup(self, kind):
        self.expect("(")
        positional, named = self.arguments()
        plugin = str(_defined(positional[0])) if positional else ""
        if plugin not in ("env", "ansible.builtin.env"):
            raise TemplateError(f"'{{{{ {self.text.strip()} }}}}' uses the lookup '{plugin}'; gpuhost renders "
                                "lookup('env', NAME) only.")
        default = named.get("default", "")
        values = [os.environ.get(str(_defined(name)), default) for name in positional[1:]]
        return values if kind in ("query", "q") else ",".join(str(v) for v in values)


class _HostVars:
    """`hostvars[name][variable]`: another host's variables, each rendered for that host when used."""

    def __init__(self, renderer_of):
        self.renderer_of = renderer_of

    def __contains__(self, name):
        return self.renderer_of(name) is not None

    def __getitem__(self, name):
        renderer = self.renderer_of(name)
        if renderer is None:
            raise KeyError(name)
        return _Variables(renderer)


class _Variables:
    def __init__(self, renderer):
        self.renderer = renderer

    def __contains__(self, name):
        return name in self.renderer.variables or name in self.renderer.magic

    def __getitem__(self, name):
        if name not in self:
            raise KeyError(name)
        return self.renderer.value(name)


def hostvars(renderer_of):
    return _HostVars(renderer_of)


def _item(container, key):
    if isinstance(container, Undefined):
        return Undefined(f"{container.name}[{key!r}]")
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return Undefined(f"[{key!r}]")


def _truth(value):
    return False if isinstance(value, Undefined) else bool(value.value if isinstance(value, FloatText) else value)


def _unquote(text):
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _default(value, fallback="", boolean=False):
    if isinstance(value, Undefined) or (boolean and not _truth(value)):
        return fallback
    return value


def _mandatory(value, message=None):
    if isinstance(value, Undefined):
        raise TemplateError(message or f"mandatory variable '{value.name}' is not defined.")
    return value


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "on", "1", "true", "y", "t")
    return bool(value)


FILTERS = {
    "default": _default, "d": _default, "mandatory": _mandatory,
    "lower": lambda v: str(v).lower(), "upper": lambda v: str(v).upper(), "string": _text,
    "capitalize": lambda v: str(v).capitalize(), "title": lambda v: str(v).title(),
    "int": lambda v, default=0: _to(int, _number(v), default), "float": lambda v, default=0.0: _to(float, _number(v), default),
    "bool": _bool, "trim": lambda v: str(v).strip(),
    "replace": lambda v, old, new, count=-1: str(v).replace(old, new, count),
    "regex_replace": lambda v, pattern, replacement="", ignorecase=False: re.sub(
        pattern, re.sub(r"\\g<(\w+)>|\\(\d)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", replacement), str(v),
        flags=re.I if ignorecase else 0),
    "join": lambda v, separator="": separator.join(str(i) for i in v), "split": lambda v, sep=None: str(v).split(sep),
    "first": lambda v: v[0], "last": lambda v: v[-1], "length": len, "count": len, "list": list,
    "basename": lambda v: os.path.basename(str(v)), "dirname": lambda v: os.path.dirname(str(v)),
    "win_basename": lambda v: ntpath.basename(str(v)), "expanduser": lambda v: os.path.expanduser(str(v)),
    "abs": abs, "unique": lambda v: list(dict.fromkeys(v)), "sort": sorted, "min": min, "max": max,
}


def _to(kind, value, default):
    try:
        return kind(value)
    except (TypeError, ValueError):
        return default
