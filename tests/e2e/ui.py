"""What a user does in the editor, as Playwright steps (waits are on visible state, never on sleeps)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

__all__ = ["open_app", "create_from_dialog", "new_empty_pipeline", "drop", "node", "handle", "wire", "drag_wire", "wait_saved", "toast",
           "edges", "select_node", "show_node", "node_box", "pipeline_id", "revision", "ZOOM_JS", "FITTED_JS"]


# The canvas viewport's zoom, and whether a fit has moved it from React Flow's initial transform.
ZOOM_JS = "() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a"
FITTED_JS = ("() => { const v = document.querySelector('.react-flow__viewport');"
             " return !!v && getComputedStyle(v).transform !== 'matrix(1, 0, 0, 1, 0, 0)'; }")


def wait_ready(page: Page) -> None:
    """The websocket is up (the prerendered page shows state before that) and the pipeline is loaded."""
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=20_000)
    if "/pipelines/" in page.url:
        expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=20_000)


def open_app(page: Page, base: str, path: str = "/") -> None:
    page.goto(base + path)
    if path == "/":
        page.wait_for_url("**/pipelines/*", timeout=20_000)
    wait_ready(page)


def pipeline_id(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def create_from_dialog(page: Page, choice: str) -> str:
    """Pick `choice` (`new-empty`, `template-<name>`) in the New pipeline dialog; the new pipeline's id once it
    is open and the dialog has gone (a raw mouse click while it fades out would land on the dialog)."""
    before = pipeline_id(page)
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id(choice).click()
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(before), timeout=20_000)
    expect(page.get_by_test_id("new-pipeline-dialog")).to_have_count(0)
    wait_ready(page)
    return pipeline_id(page)


def new_empty_pipeline(page: Page, base: str) -> str:
    """A fresh pipeline through the New pipeline dialog, so each test starts from an empty canvas."""
    open_app(page, base)
    create_from_dialog(page, "new-empty")
    expect(page.get_by_test_id("editor")).to_have_attribute("data-pipeline-id", pipeline_id(page))
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "0")
    return pipeline_id(page)


def pane(page: Page) -> Locator:
    return page.locator(".react-flow__pane")


def drop(page: Page, component: str, x: float, y: float) -> None:
    """Drag a palette item onto the canvas at pane coordinates (x, y); wait until the node is there."""
    canvas = page.get_by_test_id("canvas")
    count = int(canvas.get_attribute("data-nodes") or 0)
    item = page.get_by_test_id(f"palette-item-{component}")
    item.scroll_into_view_if_needed()
    item.drag_to(pane(page), target_position={"x": x, "y": y})
    expect(canvas).to_have_attribute("data-nodes", str(count + 1))


def node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id(f"node-{node_id}")


def node_box(page: Page, node_id: str) -> dict[str, float]:
    box = page.locator(f'.react-flow__node[data-id="{node_id}"]').bounding_box()
    assert box is not None
    return box


def handle(page: Page, node_id: str, port: str, kind: str) -> Locator:
    """kind: "source" (an output) or "target" (an input)."""
    return page.locator(f'.react-flow__handle.{kind}[data-nodeid="{node_id}"][data-handleid="{port}"]')


def _center(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, "handle not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_wire(page: Page, source: str, source_port: str, target: str, target_port: str) -> str:
    """Drag from an output handle to an input handle; return the target handle's classes just before release."""
    start, end = _center(handle(page, source, source_port, "source")), _center(handle(page, target, target_port, "target"))
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    classes = handle(page, target, target_port, "target").get_attribute("class") or ""
    page.mouse.up()
    return classes


def edges(page: Page) -> Locator:
    return page.locator(".react-flow__edge")


def wire(page: Page, source: str, source_port: str, target: str, target_port: str) -> None:
    count = edges(page).count()
    classes = drag_wire(page, source, source_port, target, target_port)
    assert " valid" in f" {classes} " and "pw-fits" in classes, f"the target handle was not marked valid: {classes}"
    expect(edges(page)).to_have_count(count + 1)


def show_node(page: Page, node_id: str) -> None:
    """Pan the canvas (as a user would) until the node is fully on screen: a large pipeline opens at a
    readable zoom showing its start, so nodes on the right may be outside the view."""
    canvas, box = page.get_by_test_id("canvas").bounding_box(), node_box(page, node_id)
    assert canvas is not None
    if (canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
            and canvas["y"] <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"]):
        return
    page.evaluate("""id => { const rf = window.__patchwire.rf, n = rf.getNode(id), m = n.measured || {};
        rf.setCenter(n.position.x + (m.width || 0) / 2, n.position.y + (m.height || 0) / 2, {zoom: rf.getZoom()}); }""",
                  node_id)


def select_node(page: Page, node_id: str) -> None:
    show_node(page, node_id)
    node(page, node_id).locator(".pw-node-head").click()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", node_id)


def revision(page: Page) -> str:
    return page.get_by_test_id("save-status").get_attribute("data-revision") or ""


def wait_saved(page: Page, after: str | None = None) -> None:
    """Wait until everything is saved (and, with `after`, until a save newer than that revision landed)."""
    status = page.get_by_test_id("save-status")
    if after is not None:
        expect(status).not_to_have_attribute("data-revision", after, timeout=10_000)
    expect(status).to_have_attribute("data-state", "saved", timeout=10_000)


def toast(page: Page, text: str) -> Locator:
    return page.locator("[data-sonner-toast]").filter(has_text=text)
