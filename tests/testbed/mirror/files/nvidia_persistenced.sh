#!/bin/sh
# Fixture nvidia-persistenced @@v@@: refuses without a loaded driver, else forks a sleeper that
# stands for the daemon and writes the pid file where the real one does.
if [ ! -r /proc/driver/nvidia/version ]; then
    echo "nvidia-persistenced failed to initialize. Check syslog for more details." >&2
    exit 1
fi
mkdir -p /var/run/nvidia-persistenced
sleep infinity </dev/null >/dev/null 2>&1 &
echo "$!" > /var/run/nvidia-persistenced/nvidia-persistenced.pid
exit 0
