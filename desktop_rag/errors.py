"""Every error a user may see derives from :class:`DesktopRagError`.

The tree::

    DesktopRagError
    +-- InputFileError              a file the user gave cannot be indexed (per file; the batch goes on)
    |   +-- FileAccessError         missing, a folder, a special file (FIFO, device), unreadable, too long a path
    |   +-- NotAPdfError            not a PDF (wrong header), including 0-byte files
    |   +-- CorruptPdfError         damaged or truncated PDF
    |   +-- EncryptedPdfError       needs a password we do not have
    |   +-- UnsupportedPdfError     uses a compression or encryption method this program cannot read
    |   +-- UnreadableDocumentError a .docx, .html, .md or .txt that is damaged, binary, in an unknown encoding
    |   +-- NoTextError             no text on any page (a scan without OCR, blank or drawn pages)
    |   +-- ExtractionLimitError    parsing exceeded the time or memory limit
    |   +-- OcrError                scanned pages, and the OCR engine is missing or cannot be loaded
    +-- StoreError                  the local index cannot be read or written
    |   +-- StoreWriteError         disk full, read-only data directory, ... (nothing partial is kept)
    |   +-- StoreIncompatibleError  index built with another embedding model
    +-- ModelError                  a model cannot be loaded or used
    |   +-- ModelNotFoundError
    |   |   +-- TunedModelMissingError  the library's tuned embedding model folder is gone
    |   +-- ModelLoadError          not a GGUF, too large for memory, ...
    |   +-- GpuOffloadError         GPU layers requested but this build cannot offload
    |   +-- RemoteModelError        an OpenAI-compatible endpoint refused, timed out or sent garbage
    |   +-- ModelDownloadError      the URL, the network, the checksum, the disk, or what arrived
    +-- CollectionError             a collection name that is empty, too long or taken, or names no collection
    +-- WatchError                  a folder that cannot be watched (missing, not a folder, already watched)
    +-- TuneError                   tuning cannot start or go on (library too small, already running, ...)
    +-- QuestionError               empty question, question too long for the context, ...
    |   +-- ScopeError              a question limited to documents the library does not hold
    |       +-- EmptyScopeError     ... or to a collection or selection with no indexed document
    +-- SettingsError               a settings file or value that makes no sense
    +-- Cancelled                   the user stopped a long operation

``except DesktopRagError`` catches everything that is the user's to read; anything else is a bug.
"""

from __future__ import annotations


class DesktopRagError(Exception):
    """Base of every error meant for the user. ``str(err)`` is the message to show."""


class InputFileError(DesktopRagError):
    """A single input file cannot be indexed. Carries the path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class FileAccessError(InputFileError):
    pass


class NotAPdfError(InputFileError):
    pass


class CorruptPdfError(InputFileError):
    pass


class EncryptedPdfError(InputFileError):
    pass


class UnsupportedPdfError(InputFileError):
    """Not damaged: the file uses a feature (a compression or encryption method) no parser here reads."""


class UnreadableDocumentError(InputFileError):
    """A document in another format than PDF that cannot be read: damaged, binary, an unknown encoding."""


class NoTextError(InputFileError):
    pass


class ExtractionLimitError(InputFileError):
    pass


class OcrError(InputFileError):
    """A file with scanned pages, and an OCR engine that is not installed or cannot be loaded."""


class StoreError(DesktopRagError):
    pass


class StoreWriteError(StoreError):
    pass


class StoreIncompatibleError(StoreError):
    pass


class ModelError(DesktopRagError):
    pass


class ModelNotFoundError(ModelError):
    pass


class ModelLoadError(ModelError):
    pass


class GpuOffloadError(ModelError):
    pass


class RemoteModelError(ModelError):
    pass


class ModelDownloadError(ModelError):
    """A model download failed: the URL, the network, the checksum, the disk, or what arrived."""


class TunedModelMissingError(ModelNotFoundError):
    """The library's vectors were made by a tuned model whose folder is gone."""


class TuneError(DesktopRagError):
    """Tuning cannot start or go on (library too small, already running, a run's files unusable)."""


class CollectionError(DesktopRagError):
    """A collection name that is empty, too long or already taken, or one that names no collection."""


class WatchError(DesktopRagError):
    pass


class QuestionError(DesktopRagError):
    pass


class ScopeError(QuestionError):
    """``--in`` (or a scope picked in the window) names documents the library does not hold."""


class EmptyScopeError(ScopeError):
    """The scope names a collection (or a selection) with no indexed document: nothing to search in."""


class SettingsError(DesktopRagError):
    pass


class Cancelled(DesktopRagError):
    """Raised inside long operations when the user asked them to stop."""
