"""text.template (sandboxed Jinja2) and text.normalize, through `runtime.run` and directly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import BaseModel, Field

from components_catalog.text import TemplateParams, TextNormalize, TextTemplate, _compile, extract_keywords
from components_catalog.types import Document
from runtime import Component, RunContext, component, run, validate
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.errors import PermanentError
from runtime.registry import Registry
from runtime.testing.specs import make_spec
from tests.components_catalog.template_kit import assert_render_stopped


class NoInputs(BaseModel):
    pass


class DocsOut(BaseModel):
    documents: list[Document] = Field(description="Two fixed documents")


@component(id="test.docs", version=1, title="Docs", category="Testing")
class FixedDocs(Component):
    """Emit two documents (a typed `list[Document]` source for the template)."""

    async def run(self, inputs: NoInputs, ctx: RunContext) -> DocsOut:
        return DocsOut(documents=[Document(id="a", text="Paris is the capital of France.", metadata={"src": "wiki"}),
                                  Document(id="b", text="Berlin is in Germany.", metadata={"src": "atlas"})])


REGISTRY = Registry([PipelineInput, PipelineOutput, TextTemplate, TextNormalize, FixedDocs])


def ctx() -> RunContext:
    return RunContext(run_id="r", node_id="prompt", component_id="text.template")


async def render(template: str, strict: bool = True, **values) -> str:
    params = TemplateParams(template=template, strict=strict)
    inputs, _ = TextTemplate.ports(params)
    out = await TextTemplate(params).run(inputs(**values), ctx())
    return out.text


def template_spec(params: dict, inputs: dict[str, str]):
    nodes = {name: ("io.input", {"type": "json"}) for name in inputs.values()}
    nodes |= {"prompt": ("text.template", params), "out": ("io.output", {})}
    edges = [(name, "value", "prompt", var) for var, name in inputs.items()] + [("prompt", "text", "out", "value")]
    return make_spec(nodes, edges)


# --- text.template: ports and validation -----------------------------------------------------------------------

def test_variables_are_inferred_in_order_of_first_use_and_typed_any():
    params = TemplateParams(template="{% for d in docs %}{{ d.text }}{% endfor %} {{ question }} {{ docs|length }}")
    inputs, outputs = TextTemplate.ports(params)
    assert list(inputs.model_fields) == ["docs", "question"]
    assert all(f.is_required() and f.annotation is Any for f in inputs.model_fields.values())
    assert list(outputs.model_fields) == ["text"]


def test_declared_variables_and_optional_ones():
    params = TemplateParams(template="{{ q }}{{ extra | default('-') }}", variables=["q", "extra", "unused"],
                            optional=["extra"])
    inputs, _ = TextTemplate.ports(params)
    assert list(inputs.model_fields) == ["q", "extra", "unused"]
    assert [f.is_required() for f in inputs.model_fields.values()] == [True, False, True]


@pytest.mark.parametrize(("params", "message"), [
    ({"template": "Hello\n{{ name }\n"}, "template syntax error on line 2: unexpected '}'"),
    ({"template": "{% for x in y %}"}, "template syntax error on line 1: Unexpected end of template. Jinja was "
     "looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'"),
    ({"template": "{{ a }} {{ b }}", "variables": ["a"]},
     "the template uses `b`, which is not in `variables` (a); add it, or leave `variables` empty to infer them"),
    ({"template": "{{ error }}"}, "variable `error` is reserved for error branches; rename it (e.g. `error_`)"),
    ({"template": "{{ a }}", "optional": ["b"]}, "variable `b` is not in the variables"),
    # no loader: these validated, then failed at run time with "TypeError: no loader for this environment"
    ({"template": "{{ a }}\n{% include 'header.txt' %}"}, "`{% include %}` on line 2 reads another template file, "
     "and a template here is self-contained: paste that text in, or build it with another `text.template` node "
     "wired into a variable"),
    ({"template": "{% extends 'base' %}"}, "`{% extends %}` on line 1 reads another template file, and a template "
     "here is self-contained: paste that text in, or build it with another `text.template` node wired into a "
     "variable"),
    ({"template": "{% from 'm' import x %}{{ x() }}"}, "`{% import %}` on line 1 reads another template file, and "
     "a template here is self-contained: paste that text in, or build it with another `text.template` node wired "
     "into a variable"),
])
def test_bad_templates_are_reported_at_validation(params, message):
    spec = template_spec(params, {})
    issues = [i for i in validate(spec, REGISTRY) if i.code == "invalid_params"]
    assert [i.message.rstrip(".") for i in issues] == [
        f"Node `prompt` (`text.template` v1): its params do not give valid ports: {message}".rstrip(".")]
    assert issues[0].node_id == "prompt"


def test_compiled_template_is_cached_per_source():
    assert _compile("{{ cached_q }}", True)[0] is _compile("{{ cached_q }}", True)[0]
    assert _compile("{{ cached_q }}", True)[0] is not _compile("{{ cached_q }}", False)[0]


# --- text.template: rendering ------------------------------------------------------------------------------------

async def test_renders_through_the_runtime():
    spec = template_spec({"template": "Q: {{ question }} ({{ n + 1 }} items)"}, {"question": "q", "n": "n"})
    result = await run(spec, {"q": "Where is Paris?", "n": 2}, registry=REGISTRY)
    assert result.status == "succeeded"
    assert result.outputs == {"out": "Q: Where is Paris? (3 items)"}


async def test_documents_are_usable_and_numbered():
    template = ("{% for d in documents %}- {{ d.text }} ({{ d.metadata.src }})\n{% endfor %}"
                "{{ documents | numbered }}\n{{ documents | texts | join(' / ') }}")
    spec = make_spec({"docs": ("test.docs", {}), "prompt": ("text.template", {"template": template}),
                      "out": ("io.output", {})},
                     [("docs", "documents", "prompt", "documents"), ("prompt", "text", "out", "value")])
    result = await run(spec, {}, registry=REGISTRY)
    assert result.outputs["out"] == (
        "- Paris is the capital of France. (wiki)\n- Berlin is in Germany. (atlas)\n"
        "[1] Paris is the capital of France.\n\n[2] Berlin is in Germany.\n"
        "Paris is the capital of France. / Berlin is in Germany.")


async def test_autoescape_is_off_and_whitespace_is_kept():
    assert await render("<b>{{ x }}</b>\n", x="a & <c>") == "<b>a & <c></b>\n"


async def test_an_unconnected_optional_variable_is_undefined():
    params = TemplateParams(template="[{{ hint | default('none') }}]{% if hint is defined %}!{% endif %}",
                            optional=["hint"])
    inputs, _ = TextTemplate.ports(params)
    out = await TextTemplate(params).run(inputs(), ctx())
    assert out.text == "[none]"
    strict = TemplateParams(template="{{ hint }}", optional=["hint"])
    with pytest.raises(PermanentError) as err:
        await TextTemplate(strict).run(TextTemplate.ports(strict)[0](), ctx())
    assert str(err.value) == ("The template of node `prompt` uses an undefined value: 'hint' is undefined. Connect it, "
                              "give it a default (`{{ x | default('') }}`), or turn off `strict`.")


async def test_strict_off_renders_undefined_attributes_empty():
    assert await render("[{{ d.missing }}]", strict=False, d={"a": 1}) == "[]"
    with pytest.raises(PermanentError, match="uses an undefined value: 'dict object' has no attribute 'missing'"):
        await render("[{{ d.missing }}]", d={"a": 1})


async def test_a_template_runtime_error_is_permanent_and_named():
    with pytest.raises(PermanentError) as err:
        await render("{{ 1 / n }}", n=0)
    assert str(err.value) == ("Rendering the template of node `prompt` failed: ZeroDivisionError: "
                              "division by zero.")


# --- template injection ------------------------------------------------------------------------------------------

PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_in_user_input_is_rendered_as_plain_text(payload):
    spec = template_spec({"template": "User asked: {{ question }}"}, {"question": "q"})
    result = await run(spec, {"q": payload}, registry=REGISTRY)
    assert result.outputs == {"out": f"User asked: {payload}"}


@pytest.mark.parametrize(("payload", "unsafe"), [
    ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ ''|attr('__class__') }}", "access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__' of 'type' object is unsafe."),
    ("{{ x.__dict__ }}", "access to attribute '__dict__' of 'Document' object is unsafe."),
])
async def test_injection_in_the_template_is_stopped_by_the_sandbox(payload, unsafe):
    with pytest.raises(PermanentError) as err:
        await render(payload, x=Document(id="1", text="t"))
    assert str(err.value) == (f"The template of node `prompt` was stopped by the sandbox: {unsafe} "
                              "Templates may read variables and their public attributes only.")


@pytest.mark.parametrize("payload", PAYLOADS[:3])
async def test_injection_in_a_lenient_template_reveals_nothing(payload):
    try:
        text = await render(payload, strict=False)
    except PermanentError as exc:
        assert "stopped by the sandbox" in str(exc)
    else:
        assert text == ""


async def test_the_immutable_sandbox_refuses_mutating_values():
    with pytest.raises(PermanentError, match="stopped by the sandbox: access to attribute 'append' of 'list'"):
        await render("{{ items.append(1) }}", items=[1])


@pytest.mark.parametrize("template", ["{{ 'a' * 100000000 }}", "{{ 9 ** 99999999 }}", "{{ [1] * n }}"])
async def test_resource_bombs_are_refused_quickly(template):
    started = time.perf_counter()
    with pytest.raises(PermanentError, match="stopped by the sandbox: .* too large for a template"):
        await render(template, n=10**8) if "n" in template else await render(template)
    assert time.perf_counter() - started < 1.0


async def test_a_refused_bomb_reads_as_a_sentence():
    with pytest.raises(PermanentError) as err:
        await render("{{ 'a' * 100000000 }}")
    assert str(err.value) == ("The template of node `prompt` was stopped by the sandbox: repeating a sequence that "
                              "many times is too large for a template. Templates may read variables and their "
                              "public attributes only.")


async def test_a_runaway_loop_stops_at_the_timeout_and_leaves_no_busy_thread():
    """A thread cannot be killed: before, the render kept a CPU busy and `patchwire run` never exited."""
    template = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    spec = make_spec({"prompt": ("text.template", {"template": template}, {"timeout_s": 0.3}),
                      "out": ("io.output", {})}, [("prompt", "text", "out", "value")])
    started = time.perf_counter()
    result = await run(spec, {}, registry=REGISTRY)
    assert result.status == "failed"
    assert result.nodes["prompt"].error == {"type": "TimeoutError", "message": "timed out after 0.3 s "
                                                                               "(policy.timeout_s)"}
    assert time.perf_counter() - started < 1.0
    await assert_render_stopped()


async def test_huge_output_is_refused():
    with pytest.raises(PermanentError, match="the output is longer than 2,000,000 characters"):
        await render("{% for i in range(30000) %}{{ row }}{% endfor %}", row="x" * 100)


# --- text.normalize ----------------------------------------------------------------------------------------------

async def normalize(text: str, **params) -> dict:
    spec = make_spec({"q": ("io.input", {}), "norm": ("text.normalize", params), "out": ("io.output", {}),
                      "kw": ("io.output", {})},
                     [("q", "value", "norm", "text"), ("norm", "text", "out", "value"),
                      ("norm", "keywords", "kw", "value")])
    result = await run(spec, {"q": text}, registry=REGISTRY)
    assert result.status == "succeeded"
    return {"outputs": result.outputs, "kw_status": result.nodes["kw"].status}


async def test_normalize_defaults_fold_width_and_whitespace_and_do_not_fire_keywords():
    got = await normalize("  ＡＢＣ　ﬁle\n\n  next\tline  ")
    assert got == {"outputs": {"out": "ABC file next line"}, "kw_status": "skipped"}


async def test_normalize_options():
    got = await normalize("  Hello  World ", trim=False, collapse_whitespace=False, lowercase=True, unicode_form="NFC")
    assert got["outputs"]["out"] == "  hello  world "
    assert (await normalize("ＡＢＣ", unicode_form="none"))["outputs"]["out"] == "ＡＢＣ"


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("the quick brown fox jumps", 18, "the quick brown"),
    ("the quick brown fox jumps", 19, "the quick brown fox"),
    ("supercalifragilistic word", 10, "supercalif"),
    ("東京タワーの高さはどれくらいですか", 5, "東京タワー"),
    ("short", 10, "short"),
])
async def test_max_length_cuts_at_a_word_boundary_when_possible(text, limit, expected):
    assert (await normalize(text, max_length=limit))["outputs"]["out"] == expected


async def test_keywords_english():
    got = await normalize("What is the capital of France? The capital of France is Paris.", extract_keywords=True)
    assert got["outputs"] == {"out": "What is the capital of France? The capital of France is Paris.",
                              "kw": ["capital", "France", "Paris"]}


async def test_keywords_german():
    got = await normalize("Wie hoch ist der Berliner Fernsehturm, und wann wurde der Fernsehturm gebaut?",
                          extract_keywords=True, max_keywords=3)
    assert got["outputs"]["kw"] == ["Fernsehturm", "hoch", "Berliner"]


async def test_keywords_japanese_without_spaces():
    got = await normalize("東京タワーの高さはどれくらいですか？東京タワーは有名です。", extract_keywords=True)
    assert got["outputs"]["kw"] == ["東京", "タワー", "高", "有名"]


def test_keywords_rules():
    assert extract_keywords("Paris paris PARIS 2024 a x_1 Lyon") == ["Paris", "x_1", "Lyon"]
    assert extract_keywords("北京天安门广场很大") == ["北京", "京天", "天安", "安门", "门广", "广场", "场很", "很大"]
    assert extract_keywords("서울 날씨 서울") == ["서울", "날씨"]
    assert extract_keywords("one two three four", limit=2) == ["one", "two"]
