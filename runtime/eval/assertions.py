"""Assertion evaluators: pure functions from (assertion, the row's run, the expected value) to an `Outcome`.

The ones that need a model (`similar`, `llm_rubric`) or any registered component (`component`) are not
here: they run a component through `runtime.eval.probes`, so `runtime/` never imports a model library.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..text import shorten
from ..usage import usage_total
from .suite import Assertion

__all__ = ["Outcome", "RunView", "check", "PURE_CHECKS", "document_ids", "json_path_get", "MAX_MATCH_CHARS"]

MAX_MATCH_CHARS = 100_000  # regex and contains look at this much of a value, at most
_RAN = ("succeeded", "cached")


@dataclass(slots=True)
class Outcome:
    passed: bool
    actual: Any
    expected: Any
    message: str = ""


@dataclass(slots=True)
class RunView:
    """What one run did, as the assertions see it."""

    status: str
    latency_ms: float | None
    nodes: dict[str, Any]  # node id -> NodeResult (status, latency_ms, outputs, error, skip_reason)
    run_id: str = ""
    error: dict[str, str] | None = None
    _usage: Any = field(default=None, repr=False)

    def usage(self, node: str | None = None) -> Any:
        """Tokens and cost of one node, or of the whole run (summed over every `usage` output)."""
        if node is not None:
            return usage_total([self.nodes[node].outputs])
        if self._usage is None:
            self._usage = usage_total(n.outputs for n in self.nodes.values())
        return self._usage

    def value(self, node: str, port: str | None) -> Any:
        outputs = self.nodes[node].outputs
        if port is None:
            return next(iter(outputs.values()), None)
        return outputs.get(port)

    def fired(self, node: str, port: str | None) -> bool:
        result = self.nodes[node]
        return result.status in _RAN and (port is None or port in result.outputs)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, ensure_ascii=False, default=repr)


def _where(a: Assertion) -> str:
    return f"`{a.node}.{a.port}`" if a.node and a.port else f"`{a.node}`" if a.node else "the run"


def _got(view: RunView, a: Assertion) -> str:
    """Why a node has no value: it was skipped, failed or never ran."""
    result = view.nodes[a.node] if a.node else None
    if result is None or result.status in _RAN:
        return ""
    reason = result.skip_reason or (result.error or {}).get("message") or ""
    return f" (the node {result.status}{': ' + shorten(reason, 120) if reason else ''})"


def _fired(a: Assertion, view: RunView, expected: Any) -> Outcome:
    ok = view.fired(a.node, a.port)  # type: ignore[arg-type]
    status = view.nodes[a.node].status  # type: ignore[index]
    return Outcome(ok, status, "fired", "" if ok else f"{_where(a)} did not fire{_got(view, a) or f' ({status})'}.")


def _skipped(a: Assertion, view: RunView, expected: Any) -> Outcome:
    status = view.nodes[a.node].status  # type: ignore[index]
    ok = status == "skipped" or (a.port is not None and status in _RAN and a.port not in view.nodes[a.node].outputs)
    return Outcome(ok, status, "skipped", "" if ok else f"{_where(a)} was not skipped: it {status}.")


def _status(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.nodes[a.node].status if a.node else view.status
    ok = actual == expected
    return Outcome(ok, actual, expected, "" if ok else f"{_where(a)} status is `{actual}`, expected `{expected}`.")


def _branch(a: Assertion, view: RunView, expected: Any) -> Outcome:
    result = view.nodes[a.node]  # type: ignore[index]
    fired = sorted(result.outputs) if result.status in _RAN else []
    actual = fired[0] if len(fired) == 1 else fired
    ok = expected in fired
    return Outcome(ok, actual, expected, "" if ok else
                   f"router `{a.node}` took {', '.join(f'`{p}`' for p in fired) or 'no branch'}{_got(view, a)}, "
                   f"expected `{expected}`.")


def _equals(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.value(a.node, a.port)  # type: ignore[arg-type]
    ok = actual == expected or (isinstance(expected, str) and not isinstance(actual, str)
                                and actual is not None and _text(actual) == expected)
    return Outcome(ok, actual, expected, "" if ok else
                   f"{_where(a)} is {shorten(repr(actual), 160)}{_got(view, a)}, expected {shorten(repr(expected), 160)}.")


def _contains(a: Assertion, view: RunView, expected: Any, fold: bool = False) -> Outcome:
    actual = view.value(a.node, a.port)  # type: ignore[arg-type]
    wanted = expected if isinstance(expected, list) else [expected]
    text = _text(actual)[:MAX_MATCH_CHARS] if actual is not None else ""
    haystack = text.casefold() if fold else text
    missing = [w for w in wanted if (str(w).casefold() if fold else str(w)) not in haystack]
    ok = actual is not None and not missing
    verb = "does not contain (ignoring case)" if fold else "does not contain"
    return Outcome(ok, shorten(text, 300) if actual is not None else None, expected, "" if ok else
                   f"{_where(a)}{_got(view, a)} {verb} {', '.join(repr(m) for m in missing)}: got "
                   f"{shorten(repr(actual), 160)}.")


def _icontains(a: Assertion, view: RunView, expected: Any) -> Outcome:
    return _contains(a, view, expected, fold=True)


def _regex(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.value(a.node, a.port)  # type: ignore[arg-type]
    ok = actual is not None and re.search(str(expected), _text(actual)[:MAX_MATCH_CHARS]) is not None
    return Outcome(ok, shorten(_text(actual), 300) if actual is not None else None, expected, "" if ok else
                   f"{_where(a)}{_got(view, a)} does not match /{expected}/: got {shorten(repr(actual), 160)}.")


def _as_json(actual: Any) -> tuple[bool, Any, str]:
    if hasattr(actual, "model_dump"):
        return True, actual.model_dump(mode="json"), ""
    if isinstance(actual, dict | list):
        return True, actual, ""
    if isinstance(actual, str):
        try:
            return True, json.loads(actual), ""
        except json.JSONDecodeError as exc:
            return False, None, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    return False, None, f"a {type(actual).__name__}, not JSON text or an object"


def _is_json(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.value(a.node, a.port)  # type: ignore[arg-type]
    ok, data, why = _as_json(actual)
    if ok and a.json_schema is not None:
        import jsonschema

        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(a.json_schema).iter_errors(data))
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            ok, why = False, f"JSON that does not match the schema at `{at}`: {error.message}"
    return Outcome(ok, shorten(_text(actual), 300), a.json_schema or "JSON", "" if ok else
                   f"{_where(a)}{_got(view, a)} is {why}.")


def json_path_get(data: Any, path: str) -> tuple[bool, Any]:
    """`a.b.0.c` or `$.a.b[0].c`; (found, value)."""
    parts = [p for p in re.split(r"\.|\[|\]", path.removeprefix("$")) if p]
    for part in parts:
        if isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


def _json_path(a: Assertion, view: RunView, expected: Any) -> Outcome:
    ok, data, why = _as_json(view.value(a.node, a.port))  # type: ignore[arg-type]
    if not ok:
        return Outcome(False, None, expected, f"{_where(a)}{_got(view, a)} is {why}.")
    found, actual = json_path_get(data, a.path or "")
    if not found:
        return Outcome(False, None, expected, f"{_where(a)} has nothing at `{a.path}`.")
    passed = actual == expected or (isinstance(expected, str) and _text(actual) == expected)
    return Outcome(passed, actual, expected, "" if passed else
                   f"{_where(a)} at `{a.path}` is {shorten(repr(actual), 160)}, expected {shorten(repr(expected), 160)}.")


def document_ids(value: Any) -> list[str]:
    """Ids of retrieved documents: each one's `id`, `metadata.source_id` and `metadata.id`."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    ids: list[str] = []
    for item in items:
        data = item.model_dump(mode="json") if hasattr(item, "model_dump") else item
        if isinstance(data, str):
            ids.append(data)
        elif isinstance(data, dict):
            meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            ids += [str(v) for v in (data.get("id"), meta.get("source_id"), meta.get("id")) if v is not None]
    return ids


def _contains_id(a: Assertion, view: RunView, expected: Any) -> Outcome:
    found = document_ids(view.value(a.node, a.port))  # type: ignore[arg-type]
    wanted = [str(w) for w in expected] if isinstance(expected, list) else \
        [w.strip() for w in str(expected).split("|") if w.strip()]
    missing = [w for w in wanted if w not in found]
    ok = bool(wanted) and not missing
    return Outcome(ok, found, expected, "" if ok else
                   f"{_where(a)}{_got(view, a)} has no document with id {', '.join(f'`{m}`' for m in missing)}; "
                   f"it has {', '.join(f'`{i}`' for i in found[:10]) or 'none'}.")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compare(actual: Any, expected: Any, op: str, what: str) -> Outcome:
    got, limit = _number(actual), _number(expected)
    if got is None:
        return Outcome(False, actual, expected, f"{what} is {shorten(repr(actual), 80)}, not a number.")
    ok = got >= limit if op == "gte" else got <= limit  # type: ignore[operator]
    sign = "≥" if op == "gte" else "≤"
    return Outcome(ok, actual, expected, "" if ok else f"{what} is {got:g}, expected {sign} {limit:g}.")


def _gte(a: Assertion, view: RunView, expected: Any) -> Outcome:
    return compare(view.value(a.node, a.port), expected, "gte", f"{_where(a)}{_got(view, a)}")  # type: ignore[arg-type]


def _lte(a: Assertion, view: RunView, expected: Any) -> Outcome:
    return compare(view.value(a.node, a.port), expected, "lte", f"{_where(a)}{_got(view, a)}")  # type: ignore[arg-type]


def _length_between(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.value(a.node, a.port)  # type: ignore[arg-type]
    bounds = [a.min, a.max]
    if actual is None or not hasattr(actual, "__len__"):
        return Outcome(False, None, bounds, f"{_where(a)}{_got(view, a)} has no length: got {shorten(repr(actual), 80)}.")
    n = len(actual)
    ok = (a.min is None or n >= a.min) and (a.max is None or n <= a.max)
    return Outcome(ok, n, bounds, "" if ok else f"{_where(a)} has length {n}, expected between "
                   f"{'-' if a.min is None else f'{a.min:g}'} and {'-' if a.max is None else f'{a.max:g}'}.")


def _latency(a: Assertion, view: RunView, expected: Any) -> Outcome:
    actual = view.nodes[a.node].latency_ms if a.node else view.latency_ms
    return compare(actual, expected, "lte", f"latency of {_where(a)} (ms)")


def _cost(a: Assertion, view: RunView, expected: Any) -> Outcome:
    cost = view.usage(a.node).cost_usd
    if cost is None and view.usage(a.node).counted == 0:
        cost = 0.0  # no model call: nothing was spent
    if cost is None:
        return Outcome(False, None, expected, f"cost of {_where(a)} is unknown (no model price); expected ≤ {expected}.")
    return compare(cost, expected, "lte", f"cost of {_where(a)} (USD)")


def _tokens(a: Assertion, view: RunView, expected: Any) -> Outcome:
    return compare(view.usage(a.node).total_tokens, expected, "lte", f"tokens of {_where(a)}")


PURE_CHECKS = {
    "fired": _fired, "skipped": _skipped, "status": _status, "branch": _branch, "equals": _equals,
    "contains": _contains, "icontains": _icontains, "regex": _regex, "is_json": _is_json, "json_path": _json_path,
    "contains_id": _contains_id, "gte": _gte, "lte": _lte, "length_between": _length_between,
    "latency_ms_lte": _latency, "cost_lte": _cost, "tokens_lte": _tokens,
}


def check(a: Assertion, view: RunView, expected: Any) -> Outcome:
    """Evaluate a pure assertion (everything but similar, llm_rubric and component)."""
    if a.node is not None and a.node not in view.nodes:
        return Outcome(False, None, expected, f"the run has no node `{a.node}`.")
    return PURE_CHECKS[a.type](a, view, expected)
