"""The one way Patchwire reads YAML (specs, eval suites): the C loader when there is one, no anchors or aliases."""

from __future__ import annotations

from typing import Any

from .issues import Issue

__all__ = ["load_yaml", "YamlRefused"]


class YamlRefused(ValueError):
    """The text is not YAML Patchwire reads; `issue` says where and how to fix it."""

    def __init__(self, issue: Issue):
        super().__init__(issue.message)
        self.issue = issue


def load_yaml(data: str | bytes, source: str, *, what: str = "spec", syntax_code: str = "malformed_yaml") -> Any:
    """Parse `data` (`what` names the document in messages); raise `YamlRefused` with the line of a problem."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _refuse_anchors(yaml, loader, data, source, what)
        return yaml.load(data, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlRefused(Issue(code=syntax_code, message=f"`{source}` is not valid YAML: {exc.problem}{where}.",
                                hint="Fix the YAML syntax there (indentation is the usual cause).")) from None
    except yaml.YAMLError as exc:  # e.g. binary data: a reader error with a byte position
        text = " ".join(str(exc).split())
        raise YamlRefused(Issue(code=syntax_code, message=f"`{source}` is not valid YAML: {text}.",
                                hint=f"Save the {what} as UTF-8 YAML text.")) from None


def _refuse_anchors(yaml: Any, loader: Any, data: str | bytes, source: str, what: str) -> None:
    """Refuse `&name`/`*name`: a few hundred bytes of nested aliases load as a small shared structure
    that expands to gigabytes when anything copies it (export, the editor's store, a JSON body, a report)."""
    if ("&" if isinstance(data, str) else b"&") not in data:  # an alias needs an anchor before it
        return
    for event in yaml.parse(data, Loader=loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1
            raise YamlRefused(Issue(
                code="yaml_alias",
                message=f"YAML anchors and aliases (`&name`/`*name`) are not allowed in a {what} (`{source}`, "
                        f"line {line}): write the value out in full.",
                hint="Replace each `*name` with a copy of the value marked `&name`, and remove the `&name`."))
