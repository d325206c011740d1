#!/bin/sh
# Fixture Fabric Manager @@v@@: like the real one it needs the same driver version and NVSwitches
# (PCI class 0x0680 bridges of vendor 0x10de); it then forks a sleeper standing for the daemon.
root="${NVIDIA_FIXTURE_ROOT:-}"
driver="$(grep -oE '[0-9]{3}\.[0-9]+(\.[0-9]+)?' "$root/proc/driver/nvidia/version" 2>/dev/null | head -n1)"
if [ -z "$driver" ]; then
    echo "fabric manager: NVIDIA driver is not loaded" >&2
    exit 1
fi
if [ "$driver" != "@@v@@" ]; then
    echo "fabric manager version @@v@@ does not match the driver version $driver" >&2
    exit 1
fi
switches=0
for dev in "$root"/sys/bus/pci/devices/*; do
    if [ "$(cat "$dev/vendor" 2>/dev/null)" = 0x10de ]; then
        case "$(cat "$dev/class" 2>/dev/null)" in 0x0680*) switches=$((switches + 1)) ;; esac
    fi
done
if [ "$switches" -eq 0 ]; then
    echo "fabric manager: no NVSwitch devices found; this system is not an NVSwitch based system" >&2
    exit 1
fi
mkdir -p /var/run/nvidia-fabricmanager
sleep infinity </dev/null >/dev/null 2>&1 &
echo "$!" > /var/run/nvidia-fabricmanager/nv-fabricmanager.pid
exit 0
