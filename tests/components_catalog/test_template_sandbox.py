"""text.template's sandbox: no template code at validation, sizes checked before allocating, a render deadline."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest

from components_catalog.text import TemplateParams, TextTemplate, _compile
from components_catalog.types import Document
from runtime import RunContext, run, validate
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.errors import PermanentError
from runtime.registry import Registry
from runtime.testing.specs import make_spec
from tests.components_catalog.template_kit import assert_render_stopped

REGISTRY = Registry([PipelineInput, PipelineOutput, TextTemplate])
LIMIT = "more than the 2,000,000 a template may output"


async def render(template: str, **values) -> str:
    params = TemplateParams(template=template)
    inputs, _ = TextTemplate.ports(params)
    ctx = RunContext(run_id="r", node_id="prompt", component_id="text.template")
    return (await TextTemplate(params).run(inputs(**values), ctx)).text


def traced_peak_mb(work) -> float:
    """Peak Python allocation while `work()` runs (all threads), in MB."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


# --- validation runs no template code -----------------------------------------------------------------------------

@pytest.mark.parametrize("template", [
    "{{ 'a'|center(300000000) }}",
    "{{ 'b'|indent(300000000, true) }}",
    "{{ '%0300000000d' % 1 }}",
    "{{ 'c'|replace('c', 'cccccccccc')|replace('c', 'cccccccccc')|replace('c', 'cccccccccc')|replace('c', "
    "'cccccccccc')|replace('c', 'cccccccccc')|replace('c', 'cccccccccc')|replace('c', 'cccccccccc')|replace('c', "
    "'cccccccccc') }}",
    "{% autoescape 'd'|center(300000000) %}x{% endautoescape %}",
    "{% if 'e'|center(300000000) %}y{% endif %}",
])
def test_validation_evaluates_no_template_code(template):
    """Before, Jinja folded these constants while compiling: `validate` took 8 s and 1.2 GB."""
    spec = make_spec({"prompt": ("text.template", {"template": template}), "out": ("io.output", {})},
                     [("prompt", "text", "out", "value")])
    validate(make_spec({"out": ("io.output", {})}, []), REGISTRY)  # imports and caches outside the measurements
    started = time.perf_counter()
    assert [i.message for i in validate(spec, REGISTRY) if i.severity == "error"] == []
    assert time.perf_counter() - started < 1.0
    _compile.cache_clear()  # compile it again, under tracemalloc
    peak = traced_peak_mb(lambda: validate(spec, REGISTRY))
    assert peak < 20, f"{peak:.0f} MB"


# --- sizes are checked before the text is built --------------------------------------------------------------------

async def test_a_width_taking_filter_is_refused_with_the_node_and_the_filter():
    with pytest.raises(PermanentError) as err:
        await render("{{ 'a'|center(300000000) }}")
    assert str(err.value) == ("The template of node `prompt` was stopped: the filter `center` would build "
                              "300,000,000 characters, more than the 2,000,000 a template may output: use a "
                              "smaller width.")


@pytest.mark.parametrize(("template", "what"), [
    ("{{ 'a'.center(200000000)|length }}", "`.center()` would build 200,000,000 characters"),
    ("{{ 'a'.ljust(n) }}", "`.ljust()` would build 200,000,000 characters"),
    ("{{ 'a'.rjust(n) }}", "`.rjust()`"),
    ("{{ 'a'.zfill(n) }}", "`.zfill()`"),
    ("{{ '\t'.expandtabs(n) }}", "`.expandtabs()`"),
    ("{{ ('x' * 1000000).replace('x', 'yyyy') }}", "`.replace()` would build 4,000,000 characters"),
    ("{{ ('x' * 100000).join(range(1000)|map('string')) }}", "`.join()` would build 99,902,890 characters"),
    ("{{ 'abc'.translate({97: 'x' * 1000000}) }}", "`.translate()`"),
    ("{{ 'a'|indent(n, true) }}", "the filter `indent` would build 200,000,001 characters"),
    ("{{ ('\n' * 1000)|indent('x' * 100000, blank=true) }}", "the filter `indent`"),
    ("{{ 'a b c d e f'|wordwrap(1, wrapstring='x' * 1000000) }}", "the filter `wordwrap`"),
    ("{{ 'a'|replace('a', 'x' * 1000)|replace('x', 'y' * 3000) }}", "the filter `replace` would build 3,000,000"),
    ("{{ '%0200000000d'|format(1) }}", "the filter `format` would build 200,000,012 characters"),
    ("{{ range(1000)|join('x' * 10000) }}", "the filter `join` would build 9,990,000 characters"),
    ("{{ range(1000)|numbered(sep='x' * 10000) }}", "the filter `numbered`"),
    ("{{ range(100000)|list|tojson(100000) }}", "the filter `tojson`"),
    ("{{ [1]|batch(n, 0)|list }}", "the filter `batch` would build 200,000,000 items"),
    ("{{ [1]|slice(n)|list }}", "the filter `slice` would build 200,000,000 items"),
    ("{{ '%0200000000d' % 1 }}", "`%` would build 200,000,012 characters"),
    ("{{ '%*d' % (n, 1) }}", "`%` would build"),
    ("{{ '{:>200000000}'.format('a') }}", "a `.format()` field would build 200,000,000 characters"),
    ("{{ '{:>{}}'.format('a', n) }}", "a `.format()` field"),
    ("{{ '{x:>{w}}'.format_map({'x': 1, 'w': n}) }}", "a `.format()` field"),
])
def test_size_taking_filters_methods_and_formats_are_refused_before_allocating(template, what):
    """Before, `'a'.center(200000000)|length` allocated 200 MB at run time, under the output cap."""
    started = time.perf_counter()
    caught: list[PermanentError] = []

    def work() -> None:
        try:
            asyncio.run(render(template, n=200_000_000))
        except PermanentError as exc:
            caught.append(exc)

    peak = traced_peak_mb(work)
    assert caught, "the template rendered"
    assert str(caught[0]).startswith(f"The template of node `prompt` was stopped: {what}")
    assert LIMIT in str(caught[0])
    assert peak < 40, f"{peak:.0f} MB"
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(("template", "what"), [
    ("{% set ns = namespace(v='ab') %}{% for i in range(60) %}{% set ns.v = ns.v ~ ns.v %}{% endfor %}{{ ns.v }}",
     "`~` would build 2,097,152 characters"),
    ("{% set ns = namespace(v='ab') %}{% for i in range(60) %}{% set ns.v = ns.v + ns.v %}{% endfor %}{{ ns.v }}",
     "`+` would build 2,097,152 characters"),
    ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% else %}{{ 'x' * 1000 }}{% endif %}{% endmacro %}"
     "{{ m(40)|length }}", "a macro or block would build 2,048,000 characters"),
    ("{% set b %}{% for i in range(100000) %}{{ row }}{% endfor %}{% endset %}{{ b|length }}",
     "a macro or block would build 100,000,000 characters"),
])
async def test_doubling_a_value_is_stopped_at_the_output_limit(template, what):
    """Each step doubles the text: 60 steps would need 2**61 characters."""
    with pytest.raises(PermanentError) as err:
        await render(template, row="y" * 1000)
    assert str(err.value).startswith(f"The template of node `prompt` was stopped: {what}, {LIMIT}")


async def test_ordinary_uses_of_the_guarded_filters_and_methods_render_as_before():
    template = ('{{ "%5s|%-3d" % (a, 7) }} {{ "{:>6}".format(a) }} {{ a|center(9) }} {{ docs|numbered }} '
                '{{ [1, 2]|join(", ") }} {{ a ~ "!" }} {{ [1] + [2] }} {{ 7 % 3 }} {{ 1 + 2 }} {{ d|tojson }} '
                '{{ d|tojson(2) }} {% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }} {% set b %}blk{% endset %}{{ b }} '
                '{{ "a\tb".expandtabs(2) }} {{ "ab".replace("a", "xy") }} {{ "-".join(["a", "b"]) }} '
                '{{ "x"|indent(2, true) }} {{ "aa bb"|wordwrap(2) }} {{ [1, 2, 3]|batch(2, 0)|list }} '
                '{{ [1, 2, 3]|slice(2)|list }} {{ "{x}".format_map({"x": 1}) }} {{ "ab"|replace("a", "c") }} '
                '{{ "%s"|format(a) }} {{ a.ljust(4) }}|')
    text = await render(template, a="hi", docs=[Document(id="1", text="t")], d={"k": [1]})
    assert text == ('   hi|7       hi     hi    [1] t 1, 2 hi! [1, 2] 1 3 {"k": [1]} {\n  "k": [\n    1\n  ]\n} '
                    '<1> blk a b xyb a-b   x aa\nbb [[1, 2], [3, 0]] [[1, 2], [3]] 1 cb hi hi  |')


# --- a render deadline even without the node's timeout_s -----------------------------------------------------------

def test_the_render_deadline_defaults_to_10_s():
    assert TemplateParams().max_render_s == 10.0


async def test_a_runaway_loop_stops_at_max_render_s_without_a_node_timeout():
    """Before, with no `timeout_s` on the node, such a loop ran until it finished (or forever)."""
    template = "{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}"
    spec = make_spec({"prompt": ("text.template", {"template": template, "max_render_s": 0.3}),
                      "out": ("io.output", {})}, [("prompt", "text", "out", "value")])
    started = time.perf_counter()
    result = await run(spec, {}, registry=REGISTRY)
    assert result.status == "failed"
    assert result.nodes["prompt"].error["message"] == (
        "The template of node `prompt` was stopped after rendering for 0.3 s (`max_render_s`): a loop in it runs too "
        "long. Loop over less, or raise `max_render_s`.")
    assert time.perf_counter() - started < 2.0
    await assert_render_stopped()
