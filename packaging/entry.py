"""The frozen app's entry point: the same dispatch as ``python -m desktop_rag``."""

import sys

from desktop_rag.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
