"""The Patchwire editor app: builds the Reflex app and adds its pages. Nothing else lives here."""

from __future__ import annotations

import reflex as rx

from . import routes
from .api import api
from .errors import backend_exception_handler
from .pages import editor_page, pipelines_page, reviews_page
from .security import gate
from .startup import prepared_database
from .warmup import warm_start

app = rx.App(
    stylesheets=["/patchwire.css", "/evaluate.css"],
    api_transformer=[api, gate],  # the gate LAST, so it wraps the API routes as well as page and websocket
    backend_exception_handler=backend_exception_handler,
)
app.add_page(pipelines_page.index_page, route=routes.INDEX, title="Patchwire", on_load=pipelines_page.INDEX_ON_LOAD)
app.add_page(pipelines_page.pipelines_page, route=pipelines_page.ROUTE, title="Pipelines · Patchwire",
             on_load=pipelines_page.ON_LOAD)
app.add_page(editor_page.editor_page, route=editor_page.ROUTE, title="Patchwire editor", on_load=editor_page.ON_LOAD)
app.add_page(reviews_page.reviews_page, route=reviews_page.ROUTE, title="Review inbox · Patchwire",
             on_load=reviews_page.ON_LOAD)
app.register_lifespan_task(prepared_database)
app.register_lifespan_task(warm_start)  # after the database: a thread, so it delays nothing
