#!/bin/sh
# Fixture DKMS build: writes the simulated nvidia.ko (design.md contract) for the running kernel.
# Like dkms, it needs the kernel's build tree, and fails (exit 10) when that tree is broken.
set -e
if [ "$1" = configure ]; then
    kernel="$(cat /proc/sys/kernel/osrelease)"
    if [ ! -e "/lib/modules/$kernel/build" ]; then
        echo "Module build for kernel $kernel was skipped since the kernel headers for this kernel do not seem to be installed."
        exit 0
    fi
    if [ ! -s "/lib/modules/$kernel/build/Makefile" ]; then
        # What dkms 3.0 prints when the module does not build (Debian 12, nvidia-kernel-dkms)
        echo "Error! Bad return status for module build on kernel: $kernel ($(uname -m))"
        echo "Consult /var/lib/dkms/nvidia/@@v@@/build/make.log for more information."
        exit 10
    fi
    dir="/lib/modules/$kernel/updates/dkms"
    mkdir -p "$dir"
    printf 'version=%s\nflavor=%s\nsigned=no\n' '@@v@@' '@@flavor@@' > "$dir/nvidia.ko"
    echo "nvidia.ko: Installing to $dir/"
fi
exit 0
