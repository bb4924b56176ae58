"""After a few runs: the Monitor tab's charts and node table, the canvas heat map, and the inspector's network
line for a node that called the loopback fake OpenAI server (trusted through PATCHWIRE_MODEL_BASES)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from editor.monitor_views import NO_VALUE_COLOR, heat_color
from runtime.testing.fake_openai import FakeOpenAI

from . import runs, ui
from .conftest import Servers
from .server import Server

NODES = ("q", "chat", "slow", "out")


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def monitor_server(servers: Servers, model: FakeOpenAI) -> Server:
    return servers.get("monitor", {"PATCHWIRE_MODEL_BASES": model.base_url, "OPENAI_API_KEY": "sk-test"})


def chat_spec(model: FakeOpenAI) -> dict:
    return runs.spec("monitored", {
        "q": ("io.input", {"name": "q"}),
        "chat": ("llm.chat", {"model": "openai/gpt-4o-mini", "api_base": model.base_url, "stream": False}),
        "slow": ("e2e.sleep", {"seconds": 0.3}), "out": ("io.output", {})},
        [("q", "value", "chat", "prompt"), ("chat", "text", "slow", "text"), ("slow", "text", "out", "value")])


def port_of(model: FakeOpenAI) -> int:
    return int(model.base_url.rsplit(":", 1)[1].split("/")[0])


def stored_connects(server: Server, run_id: str, node_id: str) -> int:
    from runtime.store.runs import get_run

    with runs.in_data_dir(server.data_dir):
        found = get_run(run_id)
    assert found is not None
    return sum(1 for e in found[0].egress or [] if e["kind"] == "connect" and e["node"] == node_id)


def heat_values(page: Page) -> dict[str, float]:
    values = {}
    for node_id in NODES:
        value = ui.node(page, node_id).get_by_test_id(f"heat-{node_id}").get_attribute("data-value")
        values[node_id] = float(value) if value else -1.0
    return values


def test_monitor_tab_heat_map_and_network_line(monitor_server: Server, model: FakeOpenAI, page: Page) -> None:
    server = monitor_server
    pipeline = runs.create_pipeline(server.data_dir, chat_spec(model))
    runs.open_pipeline(page, server.base, pipeline)
    first = runs.start_run(page, q="what is monitored")
    runs.wait_run(page, "succeeded")
    runs.wait_stored(server.data_dir, first, "succeeded")

    # The inspector: the node's outbound connections in this run, and the run summary's line.
    connects = stored_connects(server, first, "chat")
    assert connects >= 1
    ui.select_node(page, "chat")
    expect(page.get_by_test_id("node-network-chat")).to_have_text(f"Network: 127.0.0.1:{port_of(model)} ×{connects}")
    ui.select_node(page, "slow")
    expect(page.get_by_test_id("node-run-status")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("node-network-slow")).to_have_count(0)  # it contacted nothing
    page.get_by_test_id("tab-run").click()
    expect(page.get_by_test_id("run-egress")).to_contain_text(re.compile(r"^Outbound calls: \d+, all made by nodes"))

    for question in ("second question", "third question"):
        runs.start_run(page, q=question)
        runs.wait_run(page, "succeeded")

    # The Monitor tab: totals, the four charts and one row per node.
    page.get_by_test_id("tab-monitor").click()
    tab = page.get_by_test_id("monitor-tab")
    expect(tab).to_have_attribute("data-runs", "3")
    expect(tab.get_by_test_id("monitor-runs")).to_have_text("3")
    expect(tab.get_by_test_id("monitor-error-rate")).to_have_text("0.0%")
    expect(tab.get_by_test_id("monitor-cost")).to_have_text(re.compile(r"^\$0\.\d+"))
    for chart in ("runs", "latency", "tokens", "cost"):
        expect(tab.get_by_test_id(f"monitor-chart-{chart}").locator(".recharts-surface").first).to_be_visible()
    expect(tab.get_by_test_id("monitor-chart-latency").locator(".recharts-line")).to_have_count(2)  # p50, p95
    expect(tab.get_by_test_id("monitor-chart-latency").locator(".recharts-line-dot").first).to_be_attached()
    expect(tab.get_by_test_id("monitor-chart-runs").locator(".recharts-bar-rectangle").first).to_be_attached()
    for node_id in NODES:
        expect(tab.get_by_test_id(f"monitor-node-{node_id}").locator("td").nth(1)).to_have_text("3")
    expect(tab.get_by_test_id("monitor-node-chat").locator("td").nth(6)).to_have_text(re.compile(r"^\$0\.\d+"))
    expect(tab.get_by_test_id("monitor-node-slow").locator("td").nth(6)).to_have_text("—")
    page.get_by_test_id("monitor-window").select_option("1h")
    expect(tab.get_by_test_id("monitor-runs")).to_have_text("3")
    expect(tab.get_by_test_id("monitor-version").locator("option")).to_have_count(2)  # all versions + the one

    # The heat map: each node coloured on the scale by its p95 latency, its number on it; then by cost.
    toggle = page.get_by_test_id("heatmap-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    for node_id in NODES:
        expect(page.get_by_test_id(f"heat-{node_id}")).to_have_text(re.compile(r"^\d+(\.\d+)? (ms|s)$"))
    values = heat_values(page)
    slowest, fastest = max(values, key=values.get), min(values, key=values.get)
    assert values["slow"] >= 300, values
    expect(page.get_by_test_id(f"heat-{slowest}")).to_have_attribute("data-color", heat_color(1))
    expect(page.get_by_test_id(f"heat-{fastest}")).to_have_attribute("data-color", heat_color(0))
    expect(ui.node(page, slowest)).to_have_attribute("data-heat", heat_color(1))
    page.get_by_test_id("heatmap-metric").select_option("cost")
    expect(page.get_by_test_id("heat-chat")).to_have_text(re.compile(r"^\$0\.\d+/run$"))
    expect(page.get_by_test_id("heat-chat")).to_have_attribute("data-color", heat_color(0.5))  # the only priced node
    expect(page.get_by_test_id("heat-slow")).to_have_text("no cost")
    expect(page.get_by_test_id("heat-slow")).to_have_attribute("data-color", NO_VALUE_COLOR)
    toggle.click()
    expect(page.get_by_test_id("heat-chat")).to_have_count(0)
    expect(ui.node(page, "chat")).not_to_have_attribute("data-heat", re.compile(".*"))
