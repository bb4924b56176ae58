"""Text components: `text.template` (sandboxed Jinja2 prompt builder) and `text.normalize` (query cleanup).

User data only ever reaches a template as a variable, never as template source, and templates run
in Jinja2's immutable sandbox: `{{ ''.__class__ }}` in a template is stopped, in a value it is just text.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import re
import threading
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model

from runtime import Component, RunContext, component
from runtime.errors import PermanentError

from .logic import port_name_problem

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["TextTemplate", "TemplateParams", "TextNormalize", "NormalizeParams", "extract_keywords",
           "MAX_TEMPLATE_OUTPUT_CHARS"]

MAX_TEMPLATE_OUTPUT_CHARS = 2_000_000


class TemplateParams(BaseModel):
    template: str = Field("{{ text }}", json_schema_extra={"format": "multiline", "x-widget": "textarea"},
                          description="Jinja2 template. Variables become input ports, e.g. `{{ question }}`; "
                                      "documents: `{% for d in documents %}{{ d.text }}{% endfor %}` or "
                                      "`{{ documents | numbered }}`")
    variables: list[str] = Field(default_factory=list,
                                 description="Input ports, one per variable. Empty: every variable the template "
                                             "reads, in order of first use")
    optional: list[str] = Field(default_factory=list,
                                description="Variables that may stay unconnected (undefined in the template: "
                                            "use `{% if x is defined %}` or `{{ x | default('') }}`)")
    strict: bool = Field(True, description="Fail on undefined variables instead of rendering them empty")
    max_render_s: float = Field(10.0, gt=0, le=3600,
                                description="Stop a render that runs longer than this many seconds (a runaway "
                                            "loop); applies with or without the node's `timeout_s`")


class TemplateOutputs(BaseModel):
    text: str = Field(description="The rendered text")


@functools.lru_cache(maxsize=2)
def _environment(strict: bool) -> Any:
    """The sandbox (`template_sandbox`, imported here: Jinja loads only when a template is used) plus RAG filters."""
    from .template_sandbox import new_prompt_environment

    env = new_prompt_environment(strict, MAX_TEMPLATE_OUTPUT_CHARS)
    env.filters.update(texts=_texts, numbered=_numbered)
    return env


def _text_of(item: Any) -> str:
    """A Document's (or any `.text`-bearing object's or dict's) text, else `str(item)`."""
    if isinstance(item, dict) and "text" in item:
        return str(item["text"])
    text = getattr(item, "text", None)
    return text if isinstance(text, str) else str(item)


def _texts(items: Any) -> list[str]:
    """Filter `texts`: `{{ documents | texts | join('\\n') }}`."""
    return [_text_of(item) for item in items or []]


def _numbered(items: Any, start: int = 1, sep: str = "\n\n") -> str:
    """Filter `numbered`: `[1] first text` / `[2] second text`, for citing sources in prompts."""
    from .template_sandbox import check_size

    texts = [f"[{i}] {_text_of(item)}" for i, item in enumerate(items or [], start)]
    check_size("the filter `numbered`", sum(map(len, texts)) + len(sep) * max(len(texts) - 1, 0),
               MAX_TEMPLATE_OUTPUT_CHARS, "use a shorter separator")
    return sep.join(texts)


@functools.lru_cache(maxsize=256)
def _compile(source: str, strict: bool) -> tuple[Template, tuple[str, ...]]:
    """The compiled template and the variables it reads (first use first); ValueError on a syntax error."""
    from jinja2 import TemplateSyntaxError, nodes

    from .template_sandbox import undeclared_variables

    env = _environment(strict)
    try:
        ast = env.parse(source)
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    for tag in ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        name = {nodes.Extends: "extends", nodes.Include: "include"}.get(type(tag), "import")
        raise ValueError(f"`{{% {name} %}}` on line {tag.lineno} reads another template file, and a template here "
                         "is self-contained: paste that text in, or build it with another `text.template` node "
                         "wired into a variable")
    undeclared = undeclared_variables(env, ast)
    ordered = dict.fromkeys(n.name for n in ast.find_all(nodes.Name) if n.name in undeclared)
    return template, tuple(ordered)


@component(id="text.template", version=1, title="Prompt template", category="Prompts")
class TextTemplate(Component):
    """Build a prompt (or any text) from a Jinja2 template; each variable is an input port of any type."""

    params: TemplateParams
    cacheable = True

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, TemplateParams)
        _, used = _compile(params.template, params.strict)
        names = list(params.variables) or list(used)
        missing = [v for v in used if v not in names]
        if missing:
            raise ValueError(f"the template uses `{missing[0]}`, which is not in `variables` "
                             f"({', '.join(names)}); add it, or leave `variables` empty to infer them")
        for name in [*names, *params.optional]:
            problem = port_name_problem(name) if name in names else "is not in the variables"
            if problem:
                raise ValueError(f"variable `{name}` {problem}")
        fields: dict[str, Any] = {
            name: (Any, Field(None, description=f"Value of `{name}` (optional)") if name in params.optional
                   else Field(description=f"Value of `{name}` in the template"))
            for name in names}
        return create_model("TemplateInputs", **fields), TemplateOutputs

    async def run(self, inputs: BaseModel, ctx: RunContext) -> TemplateOutputs:
        from jinja2.exceptions import SecurityError, UndefinedError

        from .template_sandbox import TemplateTooLarge

        template, _ = _compile(self.params.template, self.params.strict)
        values = {name: getattr(inputs, name) for name in inputs.model_fields_set}
        limit = self.params.max_render_s
        try:
            text = await _render_in_thread(template, values, limit)
        except _RenderTimedOut:
            raise PermanentError(f"The template of node `{ctx.node_id}` was stopped after rendering for {limit:g} s "
                                 "(`max_render_s`): a loop in it runs too long. Loop over less, or raise "
                                 "`max_render_s`.") from None
        except TemplateTooLarge as exc:
            raise PermanentError(f"The template of node `{ctx.node_id}` was stopped: {exc}.") from None
        except SecurityError as exc:
            raise PermanentError(f"The template of node `{ctx.node_id}` was stopped by the sandbox: "
                                 f"{str(exc).rstrip('.')}. Templates may read variables and their public "
                                 "attributes only.") from None
        except UndefinedError as exc:
            raise PermanentError(f"The template of node `{ctx.node_id}` uses an undefined value: {exc}. Connect "
                                 "it, give it a default (`{{ x | default('') }}`), or turn off `strict`.") from None
        except Exception as exc:  # noqa: BLE001 - template logic errors are deterministic
            raise PermanentError(f"Rendering the template of node `{ctx.node_id}` failed: "
                                 f"{type(exc).__name__}: {exc}.") from None
        ctx.record("template", {"variables": sorted(values), "chars": len(text)})
        return TemplateOutputs(text=text)


class _Stopped(BaseException):
    """Raised inside a render thread whose node was cancelled (timeout, Ctrl-C, a failed sibling)."""


class _RenderTimedOut(Exception):
    """The render ran past `max_render_s`."""


async def _render_in_thread(template: Template, values: dict[str, Any], limit_s: float) -> str:
    """`_render` in a daemon thread that is stopped when the node is cancelled or after `limit_s`
    (`_RenderTimedOut`). A template can loop for hours (`{% for i in range(99999) %}{% for j in
    range(99999) %}...`) and a thread cannot be killed: without this, a timed-out render keeps a CPU
    busy and `patchwire run` never exits."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def settle(outcome: tuple[bool, Any]) -> None:
        if not done.done():
            done.set_result(outcome[1]) if outcome[0] else done.set_exception(outcome[1])

    def work() -> None:
        try:
            outcome: tuple[bool, Any] = (True, _render(template, values))
        except _Stopped:
            return
        except Exception as exc:  # noqa: BLE001 - handed to the awaiting task
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(settle, outcome)

    thread = threading.Thread(target=work, name="patchwire-template", daemon=True)
    thread.start()
    deadline = asyncio.timeout(limit_s)
    try:
        async with deadline:
            return await done
    except asyncio.CancelledError:
        _stop(thread)
        raise
    except TimeoutError:
        if not deadline.expired():
            raise  # the template's own error
        _stop(thread)
        raise _RenderTimedOut from None


def _stop(thread: threading.Thread) -> None:
    if thread.ident is not None:  # raise _Stopped in the thread at its next Python instruction
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Stopped))


def _render(template: Template, values: dict[str, Any]) -> str:
    parts, size = [], 0
    for piece in template.generate(**values):
        size += len(piece)
        if size > MAX_TEMPLATE_OUTPUT_CHARS:
            raise ValueError(f"the output is longer than {MAX_TEMPLATE_OUTPUT_CHARS:,} characters")
        parts.append(piece)
    return "".join(parts)


class NormalizeParams(BaseModel):
    trim: bool = Field(True, description="Strip leading and trailing whitespace")
    collapse_whitespace: bool = Field(True, description="Turn every run of whitespace (newlines too) into one space")
    lowercase: bool = Field(False, description="Lower-case the text")
    max_length: int | None = Field(None, ge=1, description="Cut to at most this many characters, at a word "
                                                           "boundary when there is one")
    unicode_form: Literal["NFC", "NFKC", "none"] = Field(
        "NFKC", description="Unicode normalization: NFKC also folds full-width letters and ligatures")
    extract_keywords: bool = Field(False, description="Also output the text's keywords")
    max_keywords: int = Field(8, ge=1, le=100, description="At most this many keywords")


class NormalizeInputs(BaseModel):
    text: str = Field(description="The text to normalize, e.g. a user query")


class NormalizeOutputs(BaseModel):
    text: str = Field(description="The normalized text")
    # Typed `list[str]` with a None default (not `| None`): the port's type stays `list[str]`; unset = not fired.
    keywords: list[str] = Field(  # pyright: ignore[reportAssignmentType]
        default=None, description="Keywords, most frequent first (fires only when `extract_keywords` is on)")


@component(id="text.normalize", version=1, title="Normalize text", category="Processing")
class TextNormalize(Component):
    """Clean up a query: Unicode form, whitespace, case, length; optionally extract keywords (any language)."""

    params: NormalizeParams
    cacheable = True

    async def run(self, inputs: NormalizeInputs, ctx: RunContext) -> NormalizeOutputs:
        p = self.params
        text = inputs.text if p.unicode_form == "none" else unicodedata.normalize(p.unicode_form, inputs.text)
        if p.collapse_whitespace:
            text = re.sub(r"\s+", " ", text)
        if p.trim:
            text = text.strip()
        if p.lowercase:
            text = text.lower()
        if p.max_length is not None and len(text) > p.max_length:
            text = _cut(text, p.max_length)
        if not p.extract_keywords:
            return NormalizeOutputs(text=text)
        return NormalizeOutputs(text=text, keywords=extract_keywords(text, p.max_keywords))


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending at the last whitespace in the second half when there is one."""
    head = text[:limit]
    if not text[limit].isspace():
        space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        if space >= limit // 2:
            head = head[:space]
    return head.rstrip()


_STOPWORD_TEXT = """
a an and are as at be but by can could do does did for from has have how i if in into is it its me my no not of on
or our should so that the their them there these they this to was we were what when where which who why will with
you your
aber als am auch auf aus bei bin bis das dass dem den der des die doch du ein eine einem einen einer eines er es
für hat ich ihr im in ist ja kann mit nach nicht noch nur oder sein sich sie sind so über um und uns von vor war
was wann warum welche welcher wer wie wir wird wo wurde werden zu zum zur
au aux avec ce ces dans de des du elle en est et il ils je la le les leur mais ne nous on ou par pas pour qu que
qui sa se son sur un une vous
al como con del el en es las lo los para por qué se su un una y está e o il gli che di della per non sono è
het een van niet op te
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")


def extract_keywords(text: str, limit: int = 8) -> list[str]:
    """Keywords ranked by frequency, then first position; language-agnostic, case-insensitively unique.

    Words are Unicode `\\w+` runs without digits-only or 1-letter tokens and without a small multilingual
    stopword list. Han and katakana runs (Chinese, Japanese) become words of up to 4 characters or
    overlapping character bigrams; hiragana (Japanese grammar) is dropped.
    """
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, str]] = {}
    for position, token in enumerate(_tokens(text)):
        key = token.casefold()
        if key in _STOPWORDS:
            continue
        counts[key] += 1
        first.setdefault(key, (position, token))
    ranked = sorted(counts, key=lambda k: (-counts[k], first[k][0]))
    return [first[key][1] for key in ranked[:limit]]


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for match in re.finditer(r"\w+", text):
        word = match.group()
        runs = list(_CJK_RUN.finditer(word))
        if not runs and not _HIRAGANA.search(word):
            if len(word) > 1 and any(ch.isalpha() for ch in word):
                tokens.append(word)
            continue
        for run in runs:
            piece = run.group()
            if len(piece) <= 4:
                tokens.append(piece)
            else:
                tokens.extend(piece[i:i + 2] for i in range(len(piece) - 1))
        rest = _HIRAGANA.sub(" ", _CJK_RUN.sub(" ", word)).split()
        tokens.extend(w for w in rest if len(w) > 1 and any(ch.isalpha() for ch in w))
    return tokens
