#!/bin/sh
# Fixture CUDA @@xy@@ command-line tool.
echo "fixture CUDA @@full@@ tool: $(basename "$0")"
