"""desktop_rag: an offline desktop assistant that answers questions about your PDFs with citations."""

from desktop_rag.config import Settings, load_settings, save_settings
from desktop_rag.errors import DesktopRagError

__version__ = "0.1.0"
__all__ = ["DesktopRagError", "Settings", "load_settings", "save_settings", "__version__"]
