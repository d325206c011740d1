#!/bin/sh
# Fixture @@package@@ @@version@@: a Docker CLI plugin stand-in that answers the plugin protocol's
# metadata call and `version` as the real plugin does; it builds and composes nothing.
version="@@version@@"
version="${version%%-*}"
case "$1" in
    docker-cli-plugin-metadata)
        printf '{"SchemaVersion":"0.1.0","Vendor":"Docker Inc.","Version":"v%s"}\n' "$version"
        ;;
    *)
        echo "@@package@@ v$version (fixture: no builds or stacks in the test hosts)"
        ;;
esac
