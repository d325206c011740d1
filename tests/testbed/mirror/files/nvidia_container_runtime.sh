#!/bin/sh
# Fixture NVIDIA container runtime: hands everything to runc so Docker can run containers with it.
exec runc "$@"
