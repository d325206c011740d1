#!@@prefix@@/bin/python
# -*- coding: utf-8 -*-
import sys

# `conda shell.*` runs before anything else is imported: leave the working directory off sys.path
if len(sys.argv) > 1 and sys.argv[1].startswith('shell.') and sys.path and sys.path[0] == '':
    del sys.path[0]

if __name__ == '__main__':
    from conda.cli import main
    sys.exit(main())
