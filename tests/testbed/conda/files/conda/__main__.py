"""`python -m conda`, as the real package allows."""
import sys

from .cli import main

sys.exit(main())
