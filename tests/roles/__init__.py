"""Roles defined by the tests, to prove the engine end to end without the NVIDIA roles."""
