#!/bin/sh
# Fixture nvcc @@nvcc@@: the real version banner; it compiles nothing.
case "$1" in
    --version|-V)
        cat <<'BANNER'
nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-@@year@@ NVIDIA Corporation
Built on @@built@@
Cuda compilation tools, release @@xy@@, V@@nvcc@@
Build @@build@@
BANNER
        ;;
    "")
        echo "nvcc fatal   : No input files specified; use option --help for more information" >&2
        exit 1
        ;;
    *)
        echo "nvcc fatal   : fixture nvcc @@nvcc@@ compiles nothing" >&2
        exit 1
        ;;
esac
