"""desktop_rag: an offline desktop assistant that answers questions about your PDFs with citations.

Kept free of imports so ``python -m desktop_rag`` and the CLI start fast; import what you need from
its modules (``desktop_rag.config``, ``desktop_rag.errors``, ``desktop_rag.services``).
"""

__version__ = "0.1.0"
