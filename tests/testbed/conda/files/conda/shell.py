"""conda in the shell: the code that `conda activate` and `conda deactivate` evaluate
(`conda shell.posix …`, called by etc/profile.d/conda.sh), the hook `conda init bash` puts in
~/.bashrc, and `conda run`.

Activation puts `<env>/bin` first on PATH, sets CONDA_PREFIX, CONDA_DEFAULT_ENV, CONDA_SHLVL and
the prompt; activating over an active environment replaces its PATH entry and keeps it as
CONDA_PREFIX_<n>, which deactivation restores.
"""
import os
import re
import subprocess
import sys

from . import prefix as prefixes
from .exceptions import ArgumentError, EnvironmentLocationNotFound

BEGIN, END = "# >>> conda initialize >>>", "# <<< conda initialize <<<"
INIT_BLOCK = BEGIN + """
# !! Contents within this block are managed by 'conda init' !!
__conda_setup="$('{root}/bin/conda' 'shell.bash' 'hook' 2> /dev/null)"
if [ $? -eq 0 ]; then
    eval "$__conda_setup"
else
    if [ -f "{root}/etc/profile.d/conda.sh" ]; then
        . "{root}/etc/profile.d/conda.sh"
    else
        export PATH="{root}/bin:$PATH"
    fi
fi
unset __conda_setup
""" + END + "\n"


def posix(words, context):
    """The shell code for `activate [ENV]`, `deactivate`, `reactivate` or `hook`."""
    command, rest = (words[0], words[1:]) if words else ("", [])
    environ = dict(os.environ)
    if command == "activate":
        exports, unsets = _activation(locate(rest[0] if rest else "base", context), environ, context)
    elif command == "deactivate":
        exports, unsets = _deactivation(environ, context)
    elif command == "reactivate":
        exports, unsets = _reactivation(environ)
    elif command == "hook":
        return _hook(context)
    else:
        raise ArgumentError(f"shell.posix: unknown command {command!r}")
    lines = [f"PS1={_quote(exports.pop('PS1'))}"] if "PS1" in exports else []
    lines += [f"unset {name}" for name in unsets]
    lines += [f"export {name}={_quote(value)}" for name, value in exports.items()]
    return "\n".join(lines)


def locate(target, context):
    """An environment's prefix from its name or path."""
    if "/" not in target:
        return context.prefix_of(target)
    path = os.path.abspath(os.path.expanduser(target))
    if not prefixes.is_env(path):
        raise EnvironmentLocationNotFound(path)
    return path


def _activation(prefix, environ, context):
    level = int(environ.get("CONDA_SHLVL") or 0)
    active = environ.get("CONDA_PREFIX") if level > 0 else None
    name = context.env_name(prefix)
    exports = {"PS1": f"({name}) " + _without_modifier(environ)}
    exports["PATH"] = _path(environ, remove=active, add=prefix)
    if active:
        exports[f"CONDA_PREFIX_{level}"] = active
    exports.update(CONDA_PREFIX=prefix, CONDA_SHLVL=str(level + 1), CONDA_DEFAULT_ENV=name,
                   CONDA_PROMPT_MODIFIER=f"({name}) ")
    exports.update(_exe_variables(context))
    return exports, []


def _deactivation(environ, context):
    level = int(environ.get("CONDA_SHLVL") or 0)
    active = environ.get("CONDA_PREFIX")
    if level <= 0 or not active:
        return {}, []
    if level == 1:
        exports = {"PS1": _without_modifier(environ), "PATH": _path(environ, remove=active),
                   "CONDA_SHLVL": "0"}
        return exports, ["CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER"]
    restored = environ.get(f"CONDA_PREFIX_{level - 1}", context.root_prefix)
    name = context.env_name(restored)
    exports = {"PS1": f"({name}) " + _without_modifier(environ),
               "PATH": _path(environ, remove=active, add=restored), "CONDA_PREFIX": restored,
               "CONDA_SHLVL": str(level - 1), "CONDA_DEFAULT_ENV": name, "CONDA_PROMPT_MODIFIER": f"({name}) "}
    return exports, [f"CONDA_PREFIX_{level - 1}"]


def _reactivation(environ):
    """After install: the active environment's bin stays first on PATH."""
    active = environ.get("CONDA_PREFIX")
    if int(environ.get("CONDA_SHLVL") or 0) <= 0 or not active:
        return {}, []
    return {"PATH": _path(environ, remove=active, add=active)}, []


def _hook(context):
    with open(os.path.join(context.root_prefix, "etc", "profile.d", "conda.sh")) as handle:
        script = handle.read()
    return script + ("conda activate base\n" if context.auto_activate_base else "")


def _exe_variables(context):
    root = context.root_prefix
    return {"CONDA_EXE": f"{root}/bin/conda", "_CE_M": "", "_CE_CONDA": "", "CONDA_PYTHON_EXE": f"{root}/bin/python"}


def _path(environ, remove=None, add=None):
    entries = environ.get("PATH", "").split(":") if environ.get("PATH") else []
    if remove and f"{remove}/bin" in entries:
        entries.remove(f"{remove}/bin")
    return ":".join(([f"{add}/bin"] if add else []) + entries)


def _without_modifier(environ):
    ps1, modifier = environ.get("PS1", ""), environ.get("CONDA_PROMPT_MODIFIER", "")
    return ps1[len(modifier):] if modifier and ps1.startswith(modifier) else ps1


def _quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def init(args, context):
    """`conda init bash`: conda's block in ~/.bashrc, replaced in place when it is there."""
    rc = os.path.expanduser("~/.bashrc")
    current = ""
    if os.path.isfile(rc):
        with open(rc) as handle:
            current = handle.read()
    block = INIT_BLOCK.format(root=context.root_prefix)
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", re.S)
    wanted = pattern.sub(lambda _: block, current) if pattern.search(current) else \
        current + ("\n" if current and not current.endswith("\n") else "") + "\n" + block
    if wanted == current:
        print(f"no change     {rc}\nNo action taken.")
        return 0
    with open(rc, "w") as handle:
        handle.write(wanted)
    print(f"modified      {rc}\n\n==> For changes to take effect, close and re-open your current shell. <==\n")
    return 0


def run(args, context):
    """`conda run`: the command with the environment activated; its exit status is conda's."""
    target = context.target_prefix(args.name, args.prefix)
    if not prefixes.is_env(target):
        raise EnvironmentLocationNotFound(target)
    if not args.executable_call:
        raise ArgumentError("the following arguments are required: executable_call")
    environ = dict(os.environ)
    exports, _ = _activation(target, environ, context)
    exports.pop("PS1")
    environ.update(exports)
    try:
        return subprocess.call(args.executable_call, env=environ, cwd=args.cwd)
    except FileNotFoundError:
        print(f"conda run: {args.executable_call[0]}: command not found", file=sys.stderr)
        return 127
