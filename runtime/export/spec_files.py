"""Spec files for production: byte-stable JSON or YAML, no run data, no secrets, layout optional.

`export_spec(spec, fmt)` always gives the same bytes for the same spec: keys sorted, two-space
indentation, one trailing newline. JSON → YAML → JSON is lossless. Secret values never leave: any
string holding the value of a secret env var becomes a `${secret:NAME}` reference, and values under
secret-looking keys (`api_key`, `password`, `token`, `Authorization`, ...) are removed, each with a
warning saying where. `import_spec` reads such a file back and validates it against a registry.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import secrets as secret_rule
from ..issues import InvalidSpec
from ..spec import PipelineSpec

__all__ = ["ExportResult", "export_spec", "spec_document", "dump_document", "import_spec", "FORMATS",
           "REDACTED", "secret_env_values", "format_for", "scrubbed_spec", "scrubbed_data"]

Format = Literal["json", "yaml"]
FORMATS: tuple[str, ...] = ("json", "yaml")
REDACTED = "<redacted>"
# Env vars whose values count as secrets even when PATCHWIRE_SECRETS does not list them: the one rule.
SECRET_ENV_PATTERNS = secret_rule.SECRET_NAME_PATTERNS
SECRET_KEYS = re.compile(r"^(x-)?(api[-_]?key|apikey|password|passwd|secret|client[-_]secret|token|"
                         r"access[-_]token|auth[-_]token|refresh[-_]token|bearer|authorization|cookie)$", re.I)
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")  # a reference to a secret by env-var name: kept
SECRET_REF = re.compile(r"\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}")
MIN_SECRET_LENGTH = secret_rule.MIN_SECRET_LENGTH  # shorter env values ("1", "true") would match ordinary text
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s:]*:[^/?#@\s]+)@")  # scheme://user:password@


@dataclass
class ExportResult:
    """The exported bytes and a warning per secret removed on the way."""

    data: bytes
    warnings: list[str] = field(default_factory=list)


def export_spec(spec: PipelineSpec, fmt: Format = "json", *, layout: bool = True) -> ExportResult:
    """The spec as canonical JSON or YAML bytes (see the module docstring)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}.")
    document, warnings = spec_document(spec, layout=layout)
    return ExportResult(dump_document(document, fmt), warnings)


def spec_document(spec: PipelineSpec, *, layout: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The spec as plain JSON data: only spec fields (never run data), `None`s left out, secrets removed."""
    warnings: list[str] = []
    document = _tidy_document(spec.model_dump(mode="json"), layout, secret_env_values(), warnings, "")
    return document, warnings


def _tidy_document(document: dict[str, Any], layout: bool, secrets: Any, warnings: list[str],
                   where: str) -> dict[str, Any]:
    """One (sub)pipeline's document tidied in place; `where` names a subflow in warnings."""
    for node in document["nodes"]:
        for key in ("label", "policy"):
            if node.get(key) is None:
                node.pop(key, None)
        if node.get("policy"):
            node["policy"] = {k: v for k, v in node["policy"].items() if v is not None}
    _drop_empty_interface(document)
    if document.get("budget") is None:
        document.pop("budget", None)
    else:
        document["budget"] = {k: v for k, v in document["budget"].items() if v is not None}
    if not layout or not document.get("layout"):
        document.pop("layout", None)
    _scrub_document(document, secrets, warnings, where)
    subflows = document.pop("subflows", None) or {}
    if subflows:  # a spec without subflows exports byte for byte as before
        document["subflows"] = {name: _tidy_document(sub, layout, secrets, warnings, f"Subflow `{name}`: ")
                                for name, sub in subflows.items()}
    return document


def _scrub_document(document: dict[str, Any], secrets: Any, warnings: list[str], where: str) -> None:
    """Secret values out of everything a person typed: params, labels, name, description, sticky notes."""
    for node in document["nodes"]:
        node["params"] = _scrub(node["params"], secrets, f"{where}Node `{node['id']}` param", warnings)
        if node.get("label"):
            node["label"] = _scrub(node["label"], secrets, f"{where}Node `{node['id']}` label", warnings)
    for key in ("name", "description"):
        document[key] = _scrub(document[key], secrets, f"{where}The pipeline's `{key}`", warnings)
    for key, entry in (document.get("layout") or {}).items():
        if entry.get("kind") == "note" and entry.get("text"):
            entry["text"] = _scrub(entry["text"], secrets, f"{where}Sticky note `{key}`", warnings)


def scrubbed_spec(spec: PipelineSpec) -> tuple[PipelineSpec, list[str]]:
    """`spec` with secret values turned into references (as exported), for code written from it."""
    document, warnings = spec_document(spec)
    return (spec if not warnings else PipelineSpec.model_validate(document)), warnings


def scrubbed_data(value: Any, where: str) -> tuple[Any, list[str]]:
    """Any JSON data read from a spec (a name, a description, an inputs schema) masked as exports mask it;
    `where` names it in the warnings."""
    warnings: list[str] = []
    return _scrub(value, secret_env_values(), where, warnings), warnings


def _drop_empty_interface(document: dict[str, Any]) -> None:
    """No `interface` key unless the spec declares one (older specs export byte for byte as before)."""
    interface = document.pop("interface", None) or {}
    kept = {name: {k: v for k, v in mapping.items() if v is not None}
            for name, mapping in interface.items() if mapping is not None}
    if kept:
        document["interface"] = kept


def dump_document(document: dict[str, Any], fmt: Format) -> bytes:
    if fmt == "json":
        return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    import yaml

    text = yaml.dump(document, Dumper=_dumper(), sort_keys=True, allow_unicode=True, default_flow_style=False,
                     indent=2, width=100)
    return text.encode()


def secret_env_values() -> dict[str, str]:
    """Secret value -> env-var name (`runtime.secrets`), longest first: no partial overlap."""
    return secret_rule.secret_env_values()


def _scrub(value: Any, secrets: dict[str, str], where: str, warnings: list[str], path: str = "") -> Any:
    """`value` with secret env values turned into references and secret-looking keyed values removed."""
    if isinstance(value, dict):
        return {k: _scrub(v, secrets, where, warnings, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets, where, warnings, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    label = f"{where} `{path}`" if path else where
    text = value
    for secret, name in secrets.items():
        if secret in text:
            text = text.replace(secret, "${secret:" + name + "}")
            warnings.append(f"{label} held the value of secret env var `{name}`; exported as "
                            f"`${{secret:{name}}}`. Specs never hold secret values: reference the env var by name.")
    if "@" in text:
        text = _without_url_credentials(text, label, warnings)
    key = path.rsplit(".", 1)[-1] if path and not path.endswith("]") else ""
    if key and SECRET_KEYS.match(key) and _looks_secret(text):
        warnings.append(f"{label} looks like a secret value; exported as `{REDACTED}`. Reference secrets by "
                        "env-var name instead (e.g. `api_key_env`, or `${secret:NAME}` in a header).")
        return REDACTED
    return text


def _without_url_credentials(text: str, label: str, warnings: list[str]) -> str:
    """`scheme://user:password@host` as `scheme://<redacted>@host` (userinfo of `${secret:..}` references kept)."""
    def scrub(match: re.Match[str]) -> str:
        if not SECRET_REF.sub("", match.group(2)).strip(":"):
            return match.group(0)
        return match.group(1) + REDACTED + "@"

    scrubbed = URL_USERINFO.sub(scrub, text)
    if scrubbed != text:
        warnings.append(f"{label} held credentials in a URL (`user:password@`); exported as `{REDACTED}@`. "
                        "Send credentials in a header that references a secret, e.g. `${secret:NAME}`.")
    return scrubbed


def _looks_secret(text: str) -> bool:
    rest = SECRET_REF.sub("", text).replace("Bearer", "").replace("Basic", "").strip()
    return bool(rest) and rest != REDACTED and not ENV_NAME.match(rest)


def import_spec(source: str | os.PathLike[str] | bytes, *, fmt: Format | None = None,
                registry: Any = None) -> PipelineSpec:
    """Read an exported spec (a path, or JSON/YAML bytes) and validate it; raise `InvalidSpec` on errors.

    With a `registry`, the components, params and wiring are checked too (warnings do not fail).
    """
    from ..loading import load_spec, parse_spec

    if isinstance(source, bytes):
        spec = parse_spec(source, fmt=fmt or "json", source="<import>")
    else:
        spec = load_spec(Path(source))
    if registry is not None:
        from ..validation import validate

        issues = validate(spec, registry)
        if any(i.severity == "error" for i in issues):
            raise InvalidSpec(issues)
    return spec


def format_for(path: str | os.PathLike[str], given: str | None) -> Format:
    """The format named by `--format`, else by the file suffix; JSON by default."""
    if given:
        return "yaml" if given in ("yaml", "yml") else "json"  # type: ignore[return-value]
    return "yaml" if Path(path).suffix.lower() in (".yaml", ".yml") else "json"


def _dumper() -> Any:
    """A YAML dumper writing multi-line strings (prompt templates) as readable `|` blocks."""
    global _DUMPER
    if _DUMPER is None:
        import yaml

        class Dumper(yaml.SafeDumper):
            pass

        def represent_str(dumper: Any, data: str) -> Any:
            style = "|" if "\n" in data and not _awkward_block(data) else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

        Dumper.add_representer(str, represent_str)
        _DUMPER = Dumper
    return _DUMPER


_DUMPER: Any = None


def _awkward_block(text: str) -> bool:
    """Strings a literal block cannot carry exactly: trailing blanks on a line, tabs, CRs, leading blanks."""
    return any(line != line.rstrip(" \t") for line in text.split("\n")) or "\r" in text or text[:1] in (" ", "\t")
