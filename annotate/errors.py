"""The AnnotateError family: every error a user can cause, each saying what, where and what is valid.

AnnotateError
 +-- ConfigError          bad setting, flag or config file
 +-- InputError           an input file or record that cannot be used (file, line)
 +-- SchemaError          the label schema is inconsistent
 +-- LabelStudioError     the Label Studio server refused or could not be reached (url, status)
 |    +-- ServerError     the embedded server could not be started / stopped
 +-- OffsetError          a span whose offsets do not match its text
 +-- ExportError          gold/export could not be built from the given data
 +-- QualityGateError     the data was written but failed a requested quality gate
"""

from __future__ import annotations


class AnnotateError(Exception):
    """Base class: a problem the user can fix; the CLI prints it as one line and exits 1."""

    status = 400  # HTTP status when rendered by the web app
    exit_code = 1


class ConfigError(AnnotateError):
    """A setting, flag or configuration file is invalid."""


class InputError(AnnotateError):
    """An input file or record cannot be used; the message shows the file name escaped, on one line."""

    _ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            shown = self.printable(path)
            where = f"{shown}:{line}: " if line is not None else f"{shown}: "
        super().__init__(where + self.printable(message))
        self.path = path  # as given, for programs; only the message is escaped
        self.line = line

    @classmethod
    def printable(cls, text: str) -> str:
        """`text` with control and other unprintable characters escaped, so it prints on one line."""
        # A file name may hold a newline or a terminal escape sequence, and one that is not UTF-8 holds
        # surrogates (surrogateescape) that no terminal can print: each would break the one-line report.
        if text.isprintable():
            return text
        return "".join(char if char.isprintable() else cls._escape(char) for char in text)

    @classmethod
    def _escape(cls, char: str) -> str:
        code = ord(char)
        if char in cls._ESCAPES:
            return cls._ESCAPES[char]
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 in a file name
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


class SchemaError(AnnotateError):
    """The label schema is missing or inconsistent."""


class LabelStudioError(AnnotateError):
    """Label Studio could not be reached or refused a request."""

    status = 502


class ServerError(LabelStudioError):
    """The embedded Label Studio server could not be started, found or stopped."""


class OffsetError(AnnotateError):
    """A span's offsets do not select its text."""


class ExportError(AnnotateError):
    """A gold dataset or export could not be built from the given data."""


class QualityGateError(AnnotateError):
    """Outputs were written, but a requested quality gate failed."""

    exit_code = 3
