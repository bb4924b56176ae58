"""The inspector: a form for the selected node's params and policy, checked as the user types.

What the user typed stays in `_drafts` (so the text they are editing is never rewritten under
their cursor); a value reaches the spec only once it validates for its field.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import reflex as rx
from pydantic import BaseModel

from runtime import NodePolicy, NodeSpec, PipelineSpec

from .. import forms, graph
from ..catalog import registry, usable_models
from ..views import category_color
from . import node_ids
from .editor import EditorState, follows_editor

__all__ = ["InspectorState"]


@functools.lru_cache(maxsize=256)
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


@follows_editor
class InspectorState(rx.State):
    node_id: str = ""
    selection_count: int = 0
    title: str = ""
    component: str = ""
    version: int = 1
    category: str = ""
    color: str = "#94a3b8"
    description: str = ""
    missing: bool = False
    read_only: bool = False  # an old run's node: shown, not editable
    label: str = ""
    id_text: str = ""
    id_error: str = ""
    param_fields: list[dict[str, Any]] = []
    policy_fields: list[dict[str, Any]] = []
    model_options: list[dict[str, str]] = []
    _drafts: dict[str, str] = {}
    _errors: dict[str, str] = {}
    _shown_key: tuple[str, int, bool] = ("", -1, False)  # what `show` last showed (see `_unchanged`)

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        spec, selected, read_only = editor.shown_spec(), editor.selected_nodes, bool(editor.viewing_run)
        if self._unchanged(spec, selected, read_only):
            return  # an edit elsewhere in the graph: re-sending this form would cost bytes, not change it
        self.show(spec, selected, clear_drafts=clear, read_only=read_only)

    def _unchanged(self, spec: PipelineSpec | None, selected: list[str], read_only: bool) -> bool:
        node = spec.node(selected[0]) if spec is not None and len(selected) == 1 else None
        key = (node.model_dump_json() if node else "", len(selected), read_only)
        nothing_typed = not self._drafts and not self._errors and not self.id_error and self.id_text == self.node_id
        return key == self._shown_key and nothing_typed

    def show(self, spec: PipelineSpec | None, selected: list[str], *, clear_drafts: bool, read_only: bool = False) -> None:
        """Show the node selected in `spec` (called by EditorState after every change)."""
        self.read_only = read_only
        node = spec.node(selected[0]) if spec is not None and len(selected) == 1 else None
        self._shown_key = (node.model_dump_json() if node else "", len(selected), read_only)
        if clear_drafts or node is None or node.id != self.node_id:
            self._drafts, self._errors = {}, {}
            self.id_text, self.id_error = (node.id if node else ""), ""
        self.selection_count = len(selected)
        if node is None:
            self.node_id, self.param_fields, self.policy_fields = "", [], []
            return
        info = registry().get(node.component, node.version)
        self.node_id, self.label, self.component, self.version = node.id, node.label or "", node.component, node.version
        self.missing = info is None
        self.title = info.title if info else node.component
        self.category = info.category if info else "Not installed"
        self.color = category_color(self.category) if info else "#b91c1c"
        self.description = info.description if info else (
            f"`{node.component}` v{node.version} is not installed: its params cannot be edited here. "
            "Install the plugin that provides it, or delete the node.")
        self.param_fields = self._fields("param", info.params_model if info else None, node.params)
        self.policy_fields = self._fields("policy", NodePolicy, (node.policy or NodePolicy()).model_dump(mode="json"))

    def _fields(self, prefix: str, model: type[BaseModel] | None, values: dict[str, Any]) -> list[dict[str, Any]]:
        if model is None:
            return []
        shown = forms.effective_values(model, values) if prefix == "param" else values
        cut = len(prefix) + 1
        return forms.schema_fields(
            _schema(model), shown, prefix=prefix,
            drafts={k[cut:]: v for k, v in self._drafts.items() if k.startswith(f"{prefix}:")},
            errors={k[cut:]: v for k, v in self._errors.items() if k.startswith(f"{prefix}:")})

    async def _target(self) -> tuple[EditorState, NodeSpec] | None:
        editor = await self.get_state(EditorState)
        spec = editor.shown_spec() if not editor.viewing_run else None  # the pipeline or its open subflow
        node = spec.node(self.node_id) if spec is not None else None
        return (editor, node) if node is not None else None

    @rx.event
    async def set_param(self, name: str, text: str):
        return await self._set("param", name, text)

    @rx.event
    async def set_param_bool(self, name: str, value: bool):
        return await self._set("param", name, bool(value))

    @rx.event
    async def set_policy(self, name: str, text: str):
        return await self._set("policy", name, text)

    async def _set(self, prefix: str, name: str, raw: str | bool):
        target = await self._target()
        fields = self.param_fields if prefix == "param" else self.policy_fields
        field = next((dict(f) for f in fields if f["name"] == name), None)
        if target is None or field is None:
            return None
        editor, node = target
        key = f"{prefix}:{name}"
        drafts, errors = dict(self._drafts), dict(self._errors)
        if isinstance(raw, str):
            drafts[key] = raw
        try:
            value = forms.parse_value(field, raw)
            error = self._check(prefix, node, name, value)
        except forms.FieldError as exc:
            error = str(exc)
        errors.pop(key, None)
        if error:
            errors[key] = error
        self._drafts, self._errors = drafts, errors
        if error:
            self.show(editor.shown_spec(), editor.selected_nodes, clear_drafts=False)
            return None
        edit = graph.set_param if prefix == "param" else graph.set_policy
        before, scope = editor._spec, editor._scope
        result = await editor._edit(lambda s: edit(s, node.id, name, value), key=f"{key}:{node.id}", keep_drafts=True)
        if prefix == "param":  # a flow node's `subflow`: breakpoints and pins inside it end
            await node_ids.param_set(editor, before, scope, node.id, name)
        self.show(editor.shown_spec(), editor.selected_nodes, clear_drafts=False)
        return result

    def _check(self, prefix: str, node: NodeSpec, name: str, value: Any) -> str | None:
        if prefix == "policy":
            return forms.check_field(NodePolicy, (node.policy or NodePolicy()).model_dump(), name, value)
        info = registry().get(node.component, node.version)
        return forms.check_field(info.params_model, node.params, name, value) if info else None

    @rx.event(background=True)
    async def load_models(self):
        """The model picker's choices, loaded when a model field is first focused (litellm imports slowly)."""
        async with self:
            if self.model_options:
                return
        options = await asyncio.to_thread(usable_models)
        async with self:
            self.model_options = list(options)

    @rx.event
    def set_id_text(self, text: str):
        self.id_text, self.id_error = text, ""

    @rx.event
    async def apply_id(self):
        """Rename the node (its wires follow); a bad or taken id is explained under the field."""
        target = await self._target()
        if target is None:
            return None
        editor, node = target
        new = self.id_text.strip()
        try:
            graph.rename_node(editor.shown_spec(), node.id, new)
        except graph.EditError as exc:
            self.id_error = str(exc)
            return None
        if new == node.id:
            return None
        result = await editor.rename_node(node.id, new)
        self.show(editor.shown_spec(), [new], clear_drafts=True)
        return result

    @rx.event
    async def set_label(self, text: str):
        target = await self._target()
        if target is None:
            return None
        editor, node = target
        return await editor._edit(lambda s: graph.set_label(s, node.id, text), key=f"label:{node.id}",
                                  keep_drafts=True)

