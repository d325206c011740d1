"""Idempotent operations: steps for apt, files, systemd, kernel modules, users and reboots."""
