"""The "New pipeline" dialog: empty, from a template, or from an imported spec file (never executed)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from runtime import InvalidSpec, PipelineSpec
from runtime.secrets import redact_text
from runtime.store import pipelines as store

from .. import graph, routes
from ..catalog import registry
from ..templates import import_spec, list_templates, load_template
from ..upload_refusals import RefusedUpload, import_refusal_issue
from ..uploads import read_spec_upload

__all__ = ["NewPipelineState", "UPLOAD_ID"]

UPLOAD_ID = "spec-import"


class NewPipelineState(rx.State):
    open: bool = False
    templates: list[dict[str, Any]] = []
    import_errors: list[dict[str, str]] = []
    import_title: str = ""

    @rx.event
    def open_dialog(self):
        self.templates = list_templates()
        self.import_errors, self.import_title, self.open = [], "", True

    @rx.event
    def set_open(self, value: bool):
        self.open = value

    async def _create(self, spec: PipelineSpec):
        """One pipeline per opening of the dialog: a second click (a double click, or one on the dialog while
        it fades out) arrives after the first closed it and creates nothing."""
        if not self.open:
            return None
        self.open = False
        record = await asyncio.to_thread(store.create_pipeline, graph.spec_to_dict(spec))
        return rx.redirect(routes.pipeline(record.id))

    @rx.event
    async def create_empty(self):
        return await self._create(graph.new_spec())

    @rx.event
    async def create_from_template(self, name: str):
        try:
            spec = await asyncio.to_thread(load_template, name)
        except InvalidSpec as exc:
            return self._show_errors(f"The template `{name}` cannot be used", exc)
        return await self._create(spec)

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        if not files:
            return None
        upload = files[0]
        name = upload.name or "spec.json"
        try:
            data = await read_spec_upload(upload, name)  # never more than the cap in memory
            spec, issues = await asyncio.to_thread(import_spec, data, name, registry())
        except InvalidSpec as exc:
            return self._show_errors(f"`{name}` was not imported", exc)
        redirect = await self._create(spec)
        if redirect is None:
            return None
        errors = [i for i in issues if i.severity == "error"]
        if not errors:
            return [redirect, rx.toast.success(f"Imported `{spec.name}` from `{name}`.", duration=3000)]
        return [redirect, rx.toast.warning(
            f"Imported `{spec.name}` with {len(errors)} problem{'s' if len(errors) != 1 else ''}: "
            "see the issues panel.", duration=6000)]

    @rx.event
    def import_refused(self, detail: dict):
        """The server refused the upload before `import_file` ran (assets/upload_refusal.jsx)."""
        refused = RefusedUpload.from_browser(detail, "the spec file")
        self._show_errors(f"`{refused.filename}` was not imported", InvalidSpec([import_refusal_issue(refused)]))

    def _show_errors(self, title: str, exc: InvalidSpec) -> None:
        self.import_title = f"{title}:"
        # Messages may quote the file's values: an env secret's value among them is shown masked.
        self.import_errors = [{"message": redact_text(i.message), "hint": redact_text(i.hint)} for i in exc.issues[:20]]
