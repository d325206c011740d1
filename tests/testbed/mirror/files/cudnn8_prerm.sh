#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
    update-alternatives --remove libcudnn /usr/include/x86_64-linux-gnu/cudnn_v8.h
fi
exit 0
