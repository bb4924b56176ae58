"""Leaving the editor: byte-stable spec files (`spec_files`) and plain-Python modules (`python`)."""

from .spec_files import REDACTED, ExportResult, export_spec, import_spec

__all__ = ["REDACTED", "ExportResult", "export_spec", "import_spec"]
