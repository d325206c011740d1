#!/bin/sh
# cuDNN 8's headers and library link are published through the "libcudnn" alternative.
set -e
if [ "$1" = configure ]; then
    update-alternatives --install /usr/include/cudnn.h libcudnn /usr/include/x86_64-linux-gnu/cudnn_v8.h 80 \
        --slave /usr/include/cudnn_version.h libcudnn_version_h /usr/include/x86_64-linux-gnu/cudnn_version_v8.h \
        --slave /usr/lib/x86_64-linux-gnu/libcudnn_static.a libcudnn_stlib /usr/lib/x86_64-linux-gnu/libcudnn_static_v8.a
fi
exit 0
