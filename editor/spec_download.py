"""What the editor's Export button downloads: the spec exactly as `patchwire export` writes it.

Secret values pasted anywhere in the spec (params, labels, description, sticky notes) become
`${secret:NAME}` references and URL credentials are removed, with a warning for each (`runtime.export`);
the stored pipeline itself is left as it is.
"""

from __future__ import annotations

from runtime import PipelineSpec
from runtime.export import export_spec

__all__ = ["spec_download"]


def spec_download(spec: PipelineSpec) -> tuple[str, list[str]]:
    """(the JSON text, what was scrubbed from it)."""
    exported = export_spec(spec, "json")
    return exported.data.decode(), exported.warnings
