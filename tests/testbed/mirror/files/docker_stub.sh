#!/bin/sh
# Fixture Docker CE @@ce@@ binary: versions are real, the engine is not. Use docker.io for a
# running engine in the test hosts.
case "$1" in
    --version|-v)
        echo "Docker version @@ce@@, build @@ce_build@@"
        ;;
    *)
        echo "$(basename "$0"): fixture Docker CE @@ce@@ has no engine in the test hosts" >&2
        exit 1
        ;;
esac
