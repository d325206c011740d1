#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
    update-alternatives --remove cuda /usr/local/cuda-@@xy@@
    update-alternatives --remove cuda-@@x@@ /usr/local/cuda-@@xy@@
fi
exit 0
