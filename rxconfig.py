"""Reflex config of the Patchwire editor: loopback only, no telemetry, CORS pinned to the app's own origin.

Start it with `scripts/run.sh` (`make run`): prod single-port on 127.0.0.1:$PORT. `PATCHWIRE_HOST=0.0.0.0`
exposes it and then requires `PATCHWIRE_AUTH_TOKEN` (see editor/settings.py and editor/security.py).
"""

import reflex as rx

from editor.settings import server_settings

settings = server_settings()
if settings.problems():
    raise SystemExit("\n".join(settings.problems()))


class LoopbackViteDev(rx.plugins.Plugin):
    """`reflex run` (dev) starts `react-router dev --host`, i.e. on all interfaces; pin Vite to loopback."""

    def pre_compile(self, **context):
        if not settings.exposed:
            context["add_modify_task"](
                "package.json",
                lambda text: text.replace('"react-router dev --host"', '"react-router dev --host 127.0.0.1"'))


config = rx.Config(
    app_name="editor",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
    backend_host=settings.host,  # the launcher passes --backend-host as well (CLI beats env beats this)
    cors_allowed_origins=settings.origins(),
    plugins=[LoopbackViteDev(), rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
)
