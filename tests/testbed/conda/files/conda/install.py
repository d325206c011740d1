"""`conda create` and `conda install`: choose the records, show the plan, change the prefix.

A spec list is solved against the channels' repodata; an explicit file (`@EXPLICIT` then
`url#md5` lines) names the records itself. Either way only what differs from the prefix is
unlinked and linked, and the transaction is written to `conda-meta/history`.
"""
import os
import shutil
import sys

from . import link as linking
from . import package, prefix as prefixes, solve
from .channel import SUBDIRS, Channel, expand, repodata
from .exceptions import (ArgumentError, CondaError, CondaSystemExit, CondaValueError, DryRunExit,
                         EnvironmentLocationNotFound)
from .matchspec import MatchSpec
from .output import Output


def run(args, context, command):
    out = Output(args.json)
    target = _target(args, context, command)
    specs, urls = _requested(args)
    if command == "create":
        _replace_existing(target, context, args, out)
        installed = {}
    elif not os.path.isdir(target):
        raise EnvironmentLocationNotFound(target)
    else:
        installed = prefixes.records(target)
    if urls is not None:
        final = {**installed, **_explicit(urls, context, args.offline)}
    else:
        final = _solved(specs, installed, args, context, out)
    unlink = [r for name, r in installed.items() if _key(final.get(name)) != _key(r)]
    link = [r for name, r in final.items() if _key(installed.get(name)) != _key(r)]
    if command == "install" and not unlink and not link:
        out.nothing_to_do()
        return 0
    if urls is None:
        out.plan(target, specs, installed, unlink, link)
    _confirm("Proceed", args, default=True)
    if args.dry_run:
        out.actions(target, unlink, link, dry_run=True)
        raise DryRunExit()
    _execute(target, final, unlink, link, specs, context, args, out)
    if command == "create":
        _register(target)
    out.actions(target, unlink, link)
    if command == "create":
        out.activation_hint(args.name or target)
    return 0


def _target(args, context, command):
    if command != "create":
        return context.target_prefix(args.name, args.prefix)
    if not (args.name or args.prefix):
        raise ArgumentError("one of the arguments -n/--name -p/--prefix is required")
    return context.new_prefix(args.name) if args.name else context.target_prefix(prefix=args.prefix)


def _requested(args):
    """(specs, explicit URLs or None) from the command line and --file files."""
    texts, urls = list(args.packages), None
    for path in args.file or ():
        try:
            with open(path) as handle:
                lines = [line.strip() for line in handle if line.strip() and not line.strip().startswith("#")]
        except OSError as error:
            raise CondaValueError(f"could not read file {path}: {error.strerror}") from None
        if lines and lines[0] == "@EXPLICIT":
            urls = (urls or []) + lines[1:]
        else:
            texts += lines
    if urls is not None and texts:
        raise CondaValueError("cannot mix specifications with conda package filenames")
    return [MatchSpec(t) for t in texts], urls


def _replace_existing(target, context, args, out):
    """conda create on an existing environment removes it first, once the user agreed."""
    if not os.path.exists(target):
        return
    if os.path.normpath(target) == os.path.normpath(context.root_prefix):
        raise CondaValueError("The target prefix is the base prefix. Aborting.")
    if prefixes.is_env(target):
        out.warn(f"WARNING: A conda environment already exists at '{target}'")
        _confirm("Remove existing environment?\nThis will remove ALL directories contained within this "
                 "specified prefix directory, including any other conda environments.\n\n", args)
        if not args.dry_run:
            shutil.rmtree(target)
    elif os.listdir(target):
        out.warn(f"WARNING: A directory already exists at the target location '{target}'\n"
                 "but it is not a conda environment.")
        _confirm("Continue creating environment", args)


def _solved(specs, installed, args, context, out):
    if args.override_channels and not args.channel:
        raise ArgumentError("At least one -c / --channel flag must be supplied when using --override-channels.")
    names = list(args.channel or []) + ([] if args.override_channels else context.channels)
    channels = expand(names + [s.channel for s in specs if s.channel], context.custom_channels)
    out.channels(channels)
    with out.step("Collecting package metadata (repodata.json)"):
        records = {c.base_url: [r for subdir in SUBDIRS for r in repodata(c, subdir)] for c in channels}
    strict = args.strict_channel_priority or context.channel_priority == "strict"
    with out.step("Solving environment"):
        found = solve.index(channels, records, strict)
        urls = [c.url(subdir) for c in channels for subdir in SUBDIRS]
        return solve.solve(found, specs, installed, urls)


def _explicit(urls, context, offline):
    """{name: record} for the packages an explicit file names, read from the packages themselves."""
    chosen = {}
    pkgs_dir = context.writable_pkgs_dir()
    for line in urls:
        url, _, md5 = line.partition("#")
        fn = url.rsplit("/", 1)[-1]
        tarball = package.download({"fn": fn, "url": url, "md5": md5 or None}, pkgs_dir, offline)
        channel = url.rsplit("/", 1)[0]
        record = {"fn": fn, "url": url, "channel": channel, "md5": package.digest(tarball, "md5"),
                  "sha256": package.digest(tarball, "sha256"), "size": os.path.getsize(tarball)}
        record = {**package.index_json(package.extract(tarball, record)), **record}
        chosen[record["name"]] = record
    return chosen


def _execute(target, final, unlink, link, specs, context, args, out):
    python = prefixes.python_version(final)
    pkgs_dir = context.writable_pkgs_dir()
    out.text("\nDownloading and Extracting Packages:\n")
    fetched = []
    for record in link:
        tarball = package.download(record, pkgs_dir, args.offline)
        fetched.append((record, tarball, package.extract(tarball, record)))
    with out.step("Preparing transaction"):
        for record, _, extracted in fetched:
            if package.index_json(extracted).get("noarch") == "python" and python is None:
                raise CondaError(f"{record['name']} is a noarch: python package and the environment has no python")
    with out.step("Verifying transaction"):
        os.makedirs(os.path.join(target, "conda-meta"), exist_ok=True)
    with out.step("Executing transaction"):
        for record in reversed(unlink):
            linking.unlink(target, record)
        requested = {s.name: str(s) for s in specs}
        for record, tarball, extracted in sorted(fetched, key=lambda f: f[0]["name"] != "python"):
            linking.link(target, record, tarball, extracted, python, requested.get(record["name"], ""))
        linking.write_history(target, sys.argv, unlink, link, specs)


def _register(target):
    """List the environment in ~/.conda/environments.txt, where `conda env list` finds it."""
    path = os.path.expanduser("~/.conda/environments.txt")
    try:
        known = []
        if os.path.isfile(path):
            with open(path) as handle:
                known = handle.read().split()
        if target not in known:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as handle:
                handle.write(target + "\n")
    except OSError:
        pass


def _confirm(question, args, default=False):
    if args.yes or args.json or args.dry_run:
        return
    choices = "([y]/n)" if default else "(y/[n])"
    try:
        answer = input(f"{question} {choices}? ").strip().lower()
    except EOFError:
        answer = ""
    if not (answer in ("y", "yes") or (default and answer == "")):
        raise CondaSystemExit("Exiting.")


def _key(record):
    if record is None:
        return None
    return Channel(record["channel"]).canonical, record["name"], record["version"], record["build"]
