#!/bin/sh
# Fixture DKMS build: writes the simulated nvidia.ko (design.md contract) for the running kernel.
set -e
if [ "$1" = configure ]; then
    kernel="$(cat /proc/sys/kernel/osrelease)"
    if [ ! -e "/lib/modules/$kernel/build" ]; then
        echo "Module build for kernel $kernel was skipped since the kernel headers for this kernel do not seem to be installed."
        exit 0
    fi
    dir="/lib/modules/$kernel/updates/dkms"
    mkdir -p "$dir"
    printf 'version=%s\nflavor=%s\nsigned=no\n' '@@v@@' '@@flavor@@' > "$dir/nvidia.ko"
    echo "nvidia.ko: Installing to $dir/"
fi
exit 0
