"""User-facing errors. The library raises these; the CLI and UI turn them into one line, no traceback."""

from index.errors import IndexingError


class AssistantError(IndexingError):
    """Base class: something the user can fix; `str(exc)` is the one-line message."""


class BadQuestionError(AssistantError):
    """The question is empty or unusable."""


class ConfigError(AssistantError):
    """A setting is wrong or an optional package is missing."""


class UploadError(AssistantError):
    """A browser upload breaks a limit (too many files, too large, unsupported type)."""
