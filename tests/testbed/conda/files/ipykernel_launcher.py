"""The module a Jupyter kernel spec runs (`python -m ipykernel_launcher -f <connection file>`).

The fixture has no Jupyter to answer: it says so and exits 1.
"""
import sys

if __name__ == "__main__":
    sys.exit("ipykernel_launcher: the test fixture's ipykernel starts no kernel")
