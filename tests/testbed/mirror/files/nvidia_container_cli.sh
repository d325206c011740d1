#!/bin/sh
# Fixture nvidia-container-cli @@v@@: version, and `info` read through the driver's nvidia-smi.
case "$1" in
    --version)
        printf 'cli-version: @@v@@\nlib-version: @@v@@\nbuild date: fixture\n'
        ;;
    info)
        if ! rows="$(nvidia-smi --query-gpu=index,name,pci.bus_id,uuid,driver_version --format=csv,noheader 2>/dev/null)"; then
            echo "nvidia-container-cli: initialization error: nvml error: driver not loaded" >&2
            exit 1
        fi
        echo "$rows" | while IFS=, read -r index name bus uuid driver; do
            printf 'NVRM version:   %s\n\nDevice Index:   %s\nModel:         %s\nBus Location:  %s\nGPU UUID:      %s\n' \
                "${driver# }" "$index" "$name" "$bus" "$uuid"
        done
        ;;
    *)
        echo "nvidia-container-cli: fixture supports --version and info only" >&2
        exit 1
        ;;
esac
