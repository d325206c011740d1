#!/bin/sh
#
# NAME:  @@name@@
# VER:   @@version@@
# PLAT:  @@plat@@
#
# The shape of the installers constructor makes: this shell header, then a marker line, then a
# tar payload (the base packages, pkgs/env.txt naming them, .condarc, and _conda, which installs
# them). The real _conda is conda-standalone; this one is the fixture conda, run by the host's
# Python 3.11, which the base environment's python package also stands on.

if ! echo "$0" | grep '\.sh$' > /dev/null; then
    printf 'Please run using "bash" or "sh", but not "." or "source"\n' >&2
    return 1
fi

THIS_DIR=$(DIRNAME=$(dirname "$0"); cd "$DIRNAME"; pwd)
THIS_FILE=$(basename "$0")
THIS_PATH="$THIS_DIR/$THIS_FILE"
PREFIX="$HOME/@@default_dir@@"
PYTHON=/usr/bin/python3.11
BATCH=0
FORCE=0
USAGE="
usage: $0 [options]

Installs @@name@@ @@version@@

-b           run install in batch mode (without manual intervention),
             it is expected the license terms (if any) are agreed upon
-f           no error if install prefix already exists
-h           print this help message and exit
-p PREFIX    install prefix, defaults to $PREFIX, must not contain spaces.
-u           update an existing installation
"

while getopts "bfhp:u" x; do
    case "$x" in
        h)
            printf "%s\\n" "$USAGE"
            exit 2
            ;;
        b)
            BATCH=1
            ;;
        f)
            FORCE=1
            ;;
        p)
            PREFIX="$OPTARG"
            ;;
        u)
            FORCE=1
            ;;
        ?)
            printf "ERROR: did not recognize option '%s', please try -h\\n" "$x"
            exit 1
            ;;
    esac
done

if [ "$BATCH" = "0" ]; then
    printf "ERROR: this installer only runs in batch mode (-b): it shows no license and asks nothing\\n" >&2
    exit 1
fi

case "$PREFIX" in
    *\ * )
        printf "ERROR: Cannot install into directories with spaces\\n" >&2
        exit 1
        ;;
esac

if [ "$FORCE" = "0" ] && [ -e "$PREFIX" ]; then
    printf "ERROR: File or directory already exists: '%s'\\n" "$PREFIX" >&2
    printf "If you want to update an existing installation, use the -u option.\\n" >&2
    exit 1
fi

if [ ! -x "$PYTHON" ]; then
    printf "ERROR: %s is missing: this installer's Python is the host's\\n" "$PYTHON" >&2
    exit 1
fi

if ! mkdir -p "$PREFIX"; then
    printf "ERROR: Could not create directory: '%s'\\n" "$PREFIX" >&2
    exit 1
fi

PREFIX=$(cd "$PREFIX"; pwd)
export PREFIX

printf "PREFIX=%s\\n" "$PREFIX"

printf "Unpacking payload ...\\n"
last_line=$(grep -anm 1 '^@@END_HEADER@@' "$THIS_PATH" | sed 's/:.*//')
tail -n +$((last_line + 1)) "$THIS_PATH" | tar -xzf - -C "$PREFIX" --no-same-owner --no-same-permissions || exit 1

CONDA_EXEC="$PREFIX/_conda"
printf "\\nInstalling base environment...\\n\\n"
CONDA_PKGS_DIRS="$PREFIX/pkgs" \
"$PYTHON" "$CONDA_EXEC" install --offline --file "$PREFIX/pkgs/env.txt" -yp "$PREFIX" || exit 1
rm -f "$PREFIX/pkgs/env.txt"

mkdir -p "$PREFIX/envs"

printf "installation finished.\\n"

if [ "$PYTHONPATH" != "" ]; then
    printf "WARNING:\\n"
    printf "    You currently have a PYTHONPATH environment variable set. This may cause\\n"
    printf "    unexpected behavior when running the Python interpreter in @@name@@.\\n"
fi

exit 0
