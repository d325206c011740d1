#!/bin/sh
# /usr/local/cuda and /usr/local/cuda-@@x@@ through update-alternatives, priority @@x@@@@y@@.
set -e
if [ "$1" = configure ]; then
    update-alternatives --install /usr/local/cuda cuda /usr/local/cuda-@@xy@@ @@x@@@@y@@
    update-alternatives --install /usr/local/cuda-@@x@@ cuda-@@x@@ /usr/local/cuda-@@xy@@ @@x@@@@y@@
fi
exit 0
