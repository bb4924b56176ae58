"""The pipeline spec: the JSON document users build, export and keep in git.

A spec holds component ids, params and wiring only: never code, never secret values.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, field_validator

__all__ = [
    "SCHEMA_VERSION",
    "PortRef",
    "EdgeSpec",
    "NodePolicy",
    "NodeSpec",
    "Position",
    "StickyNote",
    "LayoutEntry",
    "NOTE_KEY_PREFIX",
    "LAYOUT_TAGS",
    "ChatInterface",
    "PipelineInterface",
    "PipelineSpec",
    "Budget",
    "spec_json_schema",
]

SCHEMA_VERSION = 1
NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PortRef(_Strict):
    """One end of an edge: a node id and one of its port names."""

    node: str = Field(description="Node id")
    port: str = Field(description="Port name on that node")

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


class EdgeSpec(_Strict):
    """A wire from an output port to an input port."""

    source: PortRef
    target: PortRef


class NodePolicy(_Strict):
    """How the runtime treats one node: time limit, retries, errors and caching."""

    timeout_s: float | None = Field(default=None, gt=0, description=(
        "Time limit per attempt, in seconds (unset: PATCHWIRE_DEFAULT_TIMEOUT_S, 300 s by default)"))
    retries: int = Field(default=0, ge=0, le=20, description="Extra attempts after a failure")
    retry_backoff_s: float = Field(default=
        0.5, ge=0, le=300, description="Wait before retry n is backoff * 2**(n-1) seconds"
    )
    on_error: Literal["fail", "continue"] = Field(default=
        "fail",
        description="fail: stop the whole run; continue: mark the node failed, skip its dependents",
    )
    cache: bool | None = Field(default=
        None, description="Reuse outputs for identical params and inputs (default: the component's choice)"
    )


DEFAULT_POLICY = NodePolicy()


class NodeSpec(_Strict):
    """One component instance in the graph."""

    id: str = Field(pattern=NODE_ID_PATTERN, description="Unique node id (letters, digits, _ and -)")
    component: str = Field(min_length=1, description="Component id, e.g. `llm.chat`")
    version: int = Field(default=1, ge=1, description="Component version")
    params: dict[str, Any] = Field(default_factory=dict, description="The component's params")
    policy: NodePolicy | None = None
    label: str | None = Field(default=None, max_length=200, description="Display name in the editor")


class Position(BaseModel):
    model_config = ConfigDict(json_schema_extra={"not": {"required": ["kind"]}})  # JSON Schema: a note is not a position

    x: float
    y: float


NOTE_KEY_PREFIX = "note:"  # layout keys of sticky notes: never a node id (ids have no `:`)


class StickyNote(Position):
    """A Markdown note on the editor's canvas, kept in `layout` under `note:<id>`; the runtime never reads it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda schema: schema["required"].append("kind"))

    kind: Literal["note"] = "note"
    text: str = Field(default="", max_length=20_000, description="Markdown")
    width: float = Field(default=240.0, gt=0, le=5000)
    height: float = Field(default=140.0, gt=0, le=5000)


def _layout_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "note" if value.get("kind") == "note" else "position"
    return "note" if isinstance(value, StickyNote) else "position"


LAYOUT_TAGS = ("note", "position")  # the kinds of layout entry (pydantic puts the tag in error locations)

# A layout entry is a node's position, or a sticky note (`"kind": "note"`): files from before notes load as they are.
LayoutEntry = Annotated[
    Annotated[StickyNote, Tag("note")] | Annotated[Position, Tag("position")], Discriminator(_layout_kind)]


class ChatInterface(_Strict):
    """How a chat client talks to the pipeline (the OpenAI-compatible API of `patchwire serve`)."""

    input: str = Field(min_length=1, description="Name of the `io.input` that gets the last user message")
    output: str = Field(min_length=1, description="Id of the `io.output` node whose value is the reply")
    stream_from: str | None = Field(default=None, description="Id of the node whose streamed tokens are the "
                                                              "reply as it is written, a model node (default: "
                                                              "the node wired straight into `output`)")
    history: str | None = Field(default=None, description="Name of an `io.input` (type `json`: a list of "
                                                          "{role, content}; or `string`: a transcript) that "
                                                          "gets the earlier messages")


class PipelineInterface(_Strict):
    """How clients outside Patchwire see the pipeline."""

    chat: ChatInterface | None = Field(default=None, description="The chat mapping (OpenAI-compatible API)")


class Budget(_Strict):
    """Limits of one run; a run that exceeds one is stopped as failed (each limit optional)."""

    max_cost: float | None = Field(default=None, gt=0, description="Most a run may spend, in USD")
    max_tokens: int | None = Field(default=None, gt=0, description="Most model tokens a run may use")
    max_latency_s: float | None = Field(default=None, gt=0, description="Longest a run may take, in seconds")


class PipelineSpec(_Strict):
    """A whole pipeline: nodes, the edges between their ports, and an optional layout."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    nodes: list[NodeSpec] = Field(default_factory=list)
    edges: list[EdgeSpec] = Field(default_factory=list)
    interface: PipelineInterface | None = Field(
        default=None, description="How chat clients map onto the pipeline (default: its single text input "
                                  "and single output)")
    budget: Budget | None = Field(default=None, description="Cost, token and time limits of each run")
    layout: dict[str, LayoutEntry] = Field(
        default_factory=dict, description="Editor positions by node id, and sticky notes under `note:<id>`; "
                                          "ignored by the runtime"
    )
    subflows: dict[Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)], PipelineSpec] = Field(
        default_factory=dict,
        description="Named sub-pipelines, run by `flow.subflow`, `flow.map` and `flow.loop` nodes (each with its "
                    "own `io.input`/`io.output` nodes; a subflow may use the others, never itself)",
    )

    @field_validator("layout")
    @classmethod
    def _notes_under_note_keys(cls, layout: dict[str, Position]) -> dict[str, Position]:
        for key, entry in layout.items():
            if isinstance(entry, StickyNote) != key.startswith(NOTE_KEY_PREFIX):
                what = "is a sticky note" if isinstance(entry, StickyNote) else "is a position, not a sticky note"
                raise ValueError(f"layout entry `{key}` {what}: sticky notes (and only they) are kept under keys "
                                 f"starting with `{NOTE_KEY_PREFIX}`, with `\"kind\": \"note\"`")
        return layout

    def node(self, node_id: str) -> NodeSpec | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema of the spec format, for editors and CI."""
    schema = PipelineSpec.model_json_schema()
    if "$ref" in schema:  # `subflows` makes the model recursive: keep the spec itself at the root
        name = schema.pop("$ref").rsplit("/", 1)[-1]
        schema = {**schema["$defs"][name], **schema}
        schema["$defs"][name] = {"$ref": "#"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://patchwire.dev/schema/pipeline-v{SCHEMA_VERSION}.json"
    return schema
