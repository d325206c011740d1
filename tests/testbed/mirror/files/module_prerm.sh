#!/bin/sh
# Fixture `dkms remove`: drop the simulated modules this package built.
set -e
case "$1" in
    remove|upgrade|deconfigure)
        for module in /lib/modules/*/updates/dkms/nvidia.ko; do
            if [ -f "$module" ] && grep -qx 'version=@@v@@' "$module"; then
                rm -f "$module"
            fi
        done
        ;;
esac
exit 0
