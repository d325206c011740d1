"""The `conda` command line: conda's subcommands and option names, argparse's errors (exit 2),
conda's errors as `<Name>: <message>` (exit 1, or a JSON document with --json)."""
import argparse
import json
import sys

from . import __version__, install, reports, shell
from .context import Context
from .exceptions import CondaError


def parser():
    top = argparse.ArgumentParser(prog="conda", description="conda is a tool for managing and deploying "
                                  "applications, environments and packages.")
    top.add_argument("-V", "--version", action="version", version=f"conda {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, text in (("create", "Create a new conda environment from a list of specified packages."),
                       ("install", "Install a list of packages into a specified conda environment.")):
        _install_options(commands.add_parser(name, help=text))
    listing = commands.add_parser("list", help="List installed packages in a conda environment.")
    _target_options(listing)
    listing.add_argument("--json", action="store_true")
    env = commands.add_parser("env", help="Create and manage conda environments.")
    env_list = env.add_subparsers(dest="env_command", metavar="COMMAND", required=True).add_parser(
        "list", help="List the conda environments.")
    env_list.add_argument("--json", action="store_true")
    info = commands.add_parser("info", help="Display information about current conda install.")
    info.add_argument("-e", "--envs", action="store_true")
    info.add_argument("--json", action="store_true")
    config = commands.add_parser("config", help="Show conda's configuration (read-only here).")
    config.add_argument("--show", nargs="*", metavar="KEY", required=True)
    config.add_argument("--json", action="store_true")
    run = commands.add_parser("run", help="Run an executable in a conda environment.")
    _target_options(run)
    run.add_argument("--no-capture-output", "--live-stream", action="store_true",
                     help="stream the command's output (this conda always does)")
    run.add_argument("--cwd")
    run.add_argument("executable_call", nargs=argparse.REMAINDER)
    init = commands.add_parser("init", help="Initialize conda for shell interaction.")
    init.add_argument("shells", nargs="*", choices=["bash"], default=["bash"])
    for name in ("activate", "deactivate"):
        commands.add_parser(name, help=f"{name.title()} a conda environment (needs `conda init`).")
    return top


def _target_options(sub):
    target = sub.add_mutually_exclusive_group()
    target.add_argument("-n", "--name")
    target.add_argument("-p", "--prefix")


def _install_options(sub):
    _target_options(sub)
    sub.add_argument("-c", "--channel", action="append")
    sub.add_argument("--override-channels", action="store_true")
    sub.add_argument("--strict-channel-priority", action="store_true")
    sub.add_argument("--file", action="append")
    sub.add_argument("-y", "--yes", action="store_true")
    sub.add_argument("-q", "--quiet", action="store_true", help="do not display progress bars")
    sub.add_argument("-d", "--dry-run", action="store_true")
    sub.add_argument("--offline", action="store_true")
    sub.add_argument("--json", action="store_true")
    sub.add_argument("packages", nargs="*", metavar="package_spec")


def dispatch(args, context):
    if args.command in ("create", "install"):
        return install.run(args, context, args.command)
    if args.command in ("activate", "deactivate"):
        raise CondaError(f"Run 'conda init' before 'conda {args.command}'")
    return {"list": reports.list_packages, "env": reports.env_list, "info": reports.info,
            "config": reports.config_show, "run": shell.run, "init": shell.init}[args.command](args, context)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        context = Context()
        if argv and argv[0].startswith("shell."):
            print(shell.posix(argv[1:], context))
            return 0
        return dispatch(parser().parse_args(argv), context)
    except CondaError as error:
        if as_json:
            print(json.dumps({"error": error.report(), "exception_name": error.name, "message": str(error)},
                             indent=2, sort_keys=True))
        else:
            print(f"\n{error.report()}\n", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nCondaSystemExit: Operation aborted.  Exiting.", file=sys.stderr)
        return 1
