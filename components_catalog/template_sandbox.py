"""The Jinja2 environment `text.template` renders in: the immutable sandbox, plus what it lacks.

- No template code runs while compiling. Jinja folds constant expressions at compile time, filters
  included, even with `optimized=False` (`{{ 'a'|center(300000000) }}` took 8 s and 1.2 GB in
  `validate`), so this code generator folds nothing but plain text.
- Size limits are checked before a text is built. One C call (`str.center`, `'%9999999d' % 1`)
  cannot be interrupted by the render timeout, so filters, `str` methods and operators that take a
  width or a count refuse a result longer than the output limit, and so do `+`, `~` and the text a
  macro or `{% set %}` block collects (doubling a value in a loop grows it exponentially).
"""

from __future__ import annotations

import functools
import json
import re
import types
from collections.abc import Callable
from typing import Any

from jinja2 import filters, meta, nodes, pass_eval_context
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter

__all__ = ["TemplateTooLarge", "PromptEnvironment", "new_prompt_environment", "check_size", "undeclared_variables"]


class TemplateTooLarge(SecurityError):
    """A filter, method or operator would build more than a template may output."""


def check_size(what: str, size: int, limit: int, fix: str, unit: str = "characters") -> None:
    if size > limit:
        raise TemplateTooLarge(f"{what} would build {size:,} {unit}, more than the {limit:,} a template may output: "
                               f"{fix}")


def _count(value: Any) -> int:
    """A width or count argument as an int (anything else: 0, and the call itself reports it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _digits(text: str) -> int:
    return int(text[:10])  # 10 digits already exceed any limit; int() of 5,000 digits is an error


def _replace_size(s: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return len(s)
    times = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:  # -1 (or None in the filter): every occurrence
        times = min(times, count)
    return len(s) + times * (len(new) - len(old))


def _indent_size(s: str, width: Any = 4, first: bool = False, blank: bool = False) -> int:
    return len(s) + (s.count("\n") + 1) * (len(width) if isinstance(width, str) else _count(width))


def _wrap_size(s: str, width: Any = 79, break_long_words: bool = True, wrapstring: Any = None,
               break_on_hyphens: bool = True) -> int:
    """Greedy wrapping: two consecutive lines of a paragraph are together longer than `width`."""
    lines = 2 * len(s) // max(_count(width), 1) + s.count("\n") + 1
    return len(s) + lines * len(wrapstring if isinstance(wrapstring, str) else "\n")


_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def printf_size(fmt: str, values: Any) -> int:
    """Widths and precisions of `fmt % values`; a `*` counts every integer value as a width."""
    size, starred = _printf_widths(fmt) if len(fmt) <= 200 else _printf_widths.__wrapped__(fmt)  # cache short ones
    if starred and isinstance(values, tuple):
        size += sum(_count(value) for value in values)
    return size


@functools.lru_cache(maxsize=256)
def _printf_widths(fmt: str) -> tuple[int, bool]:
    size, starred = len(fmt), False
    for match in _PRINTF_FIELD.finditer(fmt):
        for part in match.groups():
            starred |= part == "*"
            size += _digits(part) if part and part != "*" else 0
    return size, starred


def _spec_size(format_spec: str) -> int:
    return sum(_digits(run) for run in re.findall(r"\d+", format_spec))


# --- filters ---------------------------------------------------------------------------------------------------

def _guarded(limit: int, name: str, original: Callable[..., Any], estimate: Callable[..., int], fix: str,
             unit: str = "characters") -> Callable[..., Any]:
    """`original` with `estimate(*its args)` checked first; `functools.wraps` keeps Jinja's pass_* marker."""
    skip = 1 if hasattr(original, "jinja_pass_arg") else 0

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            size = estimate(*args[skip:], **kwargs)
        except TypeError:  # wrong arguments: the filter itself says so
            size = 0
        check_size(f"the filter `{name}`", size, limit, fix, unit)
        return original(*args, **kwargs)

    return guarded


_WIDTH_FIX = "use a smaller width"
_FILTER_ESTIMATES: dict[str, tuple[Callable[..., int], str, str]] = {
    "center": (lambda value, width=80: max(len(str(value)), _count(width)), _WIDTH_FIX, "characters"),
    "indent": (lambda s, *args, **kwargs: _indent_size(str(s), *args, **kwargs), _WIDTH_FIX, "characters"),
    "wordwrap": (lambda s, *args, **kwargs: _wrap_size(str(s), *args, **kwargs), "use a shorter `wrapstring`",
                 "characters"),
    "replace": (lambda s, old, new, count=None: _replace_size(str(s), old, new, -1 if count is None else count),
                "replace fewer times, or with a shorter text", "characters"),
    "format": (lambda value, *args, **kwargs: printf_size(str(value), kwargs or args), _WIDTH_FIX, "characters"),
    "batch": (lambda value, linecount, fill_with=None: 0 if fill_with is None else _count(linecount),
              "use a smaller batch size", "items"),
    "slice": (lambda value, slices, fill_with=None: _count(slices), "use fewer slices", "items"),
}


def guarded_filters(env_filters: dict[str, Any], limit: int) -> dict[str, Any]:
    """Jinja's width- and count-taking filters with the result size checked first."""

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
        items = value if isinstance(value, str) else list(value)
        joined = sum(len(item) for item in items if isinstance(item, str))
        check_size("the filter `join`", joined + len(str(d)) * max(len(items) - 1, 0), limit,
                   "use a shorter separator")
        return filters.sync_do_join(eval_ctx, items, d, attribute)

    @pass_eval_context
    def tojson(eval_ctx: Any, value: Any, indent: Any = None) -> Any:
        """Counted piece by piece first (the pure-Python encoder yields pieces): an indent repeats per line."""
        size = 0
        for piece in json.JSONEncoder(indent=indent, sort_keys=True).iterencode(value):
            size += len(piece)
            check_size("the filter `tojson`", size, limit, "use a smaller indent, or pass less data")
        return filters.do_tojson(eval_ctx, value, indent)

    guarded = {name: _guarded(limit, name, env_filters[name], *spec) for name, spec in _FILTER_ESTIMATES.items()}
    return {**guarded, "join": join, "tojson": tojson}


# --- str methods, str.format, operators ------------------------------------------------------------------------

_STR_METHOD_ESTIMATES: dict[str, Callable[..., int]] = {
    "center": lambda s, width, fillchar=" ": max(len(s), _count(width)),
    "ljust": lambda s, width, fillchar=" ": max(len(s), _count(width)),
    "rjust": lambda s, width, fillchar=" ": max(len(s), _count(width)),
    "zfill": lambda s, width: max(len(s), _count(width)),
    "expandtabs": lambda s, tabsize=8: len(s) + s.count("\t") * _count(tabsize),
    "replace": lambda s, old, new, count=-1: _replace_size(s, old, new, count),
    "translate": lambda s, table: len(s) * _longest_replacement(table),
    "join": lambda s, items: (sum(len(item) for item in items if isinstance(item, str))
                              + len(s) * max(len(items) - 1, 0)),
}


def _longest_replacement(table: Any) -> int:
    values = table.values() if isinstance(table, dict) else ()
    return max([len(v) for v in values if isinstance(v, str)] or [1])


def checked_str_method_args(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                            limit: int) -> tuple[Any, ...]:
    """Check a `str` method call's result size first; `join` gets its items as a list (counted once)."""
    owner = getattr(method, "__self__", None)
    estimate = _STR_METHOD_ESTIMATES.get(getattr(method, "__name__", ""))
    if not isinstance(owner, str) or not isinstance(method, types.BuiltinMethodType) or estimate is None:
        return args
    if method.__name__ == "join" and len(args) == 1 and not isinstance(args[0], str | list | tuple):
        args = (list(args[0]),)
    try:
        size = estimate(owner, *args, **kwargs)
    except TypeError:  # wrong arguments: the method itself says so
        return args
    fix = "use a shorter text" if method.__name__ in ("replace", "translate", "join") else _WIDTH_FIX
    check_size(f"`.{method.__name__}()`", size, limit, fix)
    return args


class _CheckedFormatter(SandboxedFormatter):
    """The sandbox's `str.format` with each field's width checked before the field is formatted."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_size("a `.format()` field", _spec_size(format_spec), self._env.max_chars, _WIDTH_FIX)
        return super().format_field(value, format_spec)


def checked_format(env: Any, method: Any, wrapped: Callable[..., str]) -> Callable[..., str]:
    """`str.format`/`format_map` through `_CheckedFormatter`. For a `Markup` text the checked result is
    only a dry run, and the sandbox's own (escaping) `wrapped` builds the value."""
    text, is_map = method.__self__, method.__name__ == "format_map"

    def checked(*args: Any, **kwargs: Any) -> str:
        if is_map and (len(args) != 1 or kwargs):
            return wrapped(*args, **kwargs)  # the sandbox reports the wrong arguments
        result = _CheckedFormatter(env).vformat(text, () if is_map else args, args[0] if is_map else kwargs)
        return result if type(text) is str else wrapped(*args, **kwargs)

    return functools.update_wrapper(checked, method)


def binop_size(operator: str, left: Any, right: Any) -> int:
    """The size of `left <operator> right` for the operators that build sequences, else 0."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return len(seq) * times
    if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        return len(left) + len(right)
    if operator == "%" and isinstance(left, str):
        return printf_size(left, right)
    return 0


# --- compiling -------------------------------------------------------------------------------------------------

class NoFoldingCodeGenerator(CodeGenerator):
    """Folds only plain text at compile time, and bounds every `~` concatenation."""

    def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()
        return super()._output_child_to_const(node, frame, finalize)

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class _VariableTracker(NoFoldingCodeGenerator, meta.TrackingCodeGenerator):
    """`jinja2.meta.find_undeclared_variables` without its constant folding (it always optimizes)."""

    def __init__(self, environment: Any) -> None:
        meta.TrackingCodeGenerator.__init__(self, environment)
        self.optimizer = None


def undeclared_variables(env: Any, ast: nodes.Template) -> set[str]:
    tracker = _VariableTracker(env)
    tracker.visit(ast)
    return tracker.undeclared_identifiers


class PromptEnvironment(ImmutableSandboxedEnvironment):
    code_generator_class = NoFoldingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})  # also keeps them from being folded
    max_chars: int  # the most text one value may hold: `text.MAX_TEMPLATE_OUTPUT_CHARS`

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _is_number(left) and _is_number(right) and abs(right) > 100 and abs(left) > 1:
            raise SecurityError(f"the power {left!r} ** {right!r} is too large for a template")
        size = binop_size(operator, left, right)
        if operator == "*" and size > self.max_chars:
            raise SecurityError("repeating a sequence that many times is too large for a template")
        check_size(f"`{operator}`", size, self.max_chars, _WIDTH_FIX if operator == "%" else "build a shorter value")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        args = checked_str_method_args(__obj, args, kwargs, __self.max_chars)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        return None if wrapped is None else checked_format(self, value, wrapped)

    def concat(self, parts: Any) -> str:  # type: ignore[override]
        """Joins the text a macro, `{% set %}` block or `{% call %}` collects: counted before joining."""
        parts = parts if isinstance(parts, list) else list(parts)
        check_size("a macro or block", sum(len(part) for part in parts), self.max_chars, "build a shorter value")
        return "".join(parts)

    def bounded_text(self, text: str) -> str:
        check_size("`~`", len(text), self.max_chars, "build a shorter value")
        return text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def new_prompt_environment(strict: bool, max_chars: int) -> PromptEnvironment:
    """An immutable sandbox with autoescape off and the guards above (`text` adds its RAG filters)."""
    from jinja2 import StrictUndefined, Undefined

    env = PromptEnvironment(autoescape=False, undefined=StrictUndefined if strict else Undefined,
                            keep_trailing_newline=True, optimized=False)
    env.max_chars = max_chars
    env.globals.pop("lipsum", None)
    env.filters.update(guarded_filters(env.filters, max_chars))
    return env
