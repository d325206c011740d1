#!/bin/sh
# Fixture trtexec: reports its version the way the real one starts every run, builds nothing.
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v@@num@@] # trtexec $*"
echo "trtexec: fixture TensorRT @@v@@ cannot build engines" >&2
exit 1
