"""A reader for the YAML that .condarc files hold, since the hosts have no PyYAML.

Top-level `key: value`, `key: [a, b]`, and `key:` followed by an indented block list (`- item`)
or a one-level mapping (`sub: value`); comments and blank lines are skipped. Anything else is a
ParseError naming the file and line, as conda refuses a .condarc it cannot read.
"""
import re

from .exceptions import ParseError

_COMMENT = re.compile(r"""(^|\s)#.*$""")


def loads(text, source="<string>"):
    data, key = {}, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw).rstrip()
        if not line.strip():
            continue
        body = line.strip()
        if not line[0].isspace():
            name, sep, value = body.partition(":")
            if not sep or not name.strip():
                raise _error(source, number, raw)
            key = name.strip()
            data[key] = _value(value.strip(), source, number) if value.strip() else None
        elif key is None:
            raise _error(source, number, raw)
        elif body == "-" or body.startswith("- "):
            data[key] = _into(data[key], list, source, number, raw)
            data[key].append(_scalar(body[1:].strip()))
        else:
            name, sep, value = body.partition(":")
            if not sep or not name.strip():
                raise _error(source, number, raw)
            data[key] = _into(data[key], dict, source, number, raw)
            data[key][name.strip()] = _value(value.strip(), source, number) if value.strip() else None
    return data


def _into(current, kind, source, number, raw):
    if current is None:
        return kind()
    if not isinstance(current, kind):
        raise _error(source, number, raw)
    return current


def _value(text, source, number):
    if text.startswith("["):
        if not text.endswith("]"):
            raise _error(source, number, text)
        return [_scalar(item.strip()) for item in text[1:-1].split(",") if item.strip()]
    return _scalar(text)


def _scalar(text):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~", ""):
        return None
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _error(source, number, line):
    return ParseError(f"Load Error: in {source} on line {number}: cannot read {line.strip()!r}")
