"""Fixed code an exported module carries when its pipeline has flow nodes (map, loop): a flow node's
policy around its subflow, items in parallel, iterations until a condition holds.

Kept as text, formatted as `ruff format` would format it. It uses names that `HELPERS` (`prelude.py`)
defines (`Run`, `NodeFailed`, `collect`, `retry_delay`) and the generated module imports
(`Until`, `holds`).
"""

from __future__ import annotations

__all__ = ["FLOW_HELPERS"]

FLOW_HELPERS = '''
class FlowFailed(Exception):
    """An item or iteration of a flow node failed: which one, at which inner step, and why."""

    def __init__(self, index: int, what: str, failure: NodeFailed) -> None:
        node, cause = failure.node, failure.__cause__
        self.node, self.detail = node, failure.detail
        self.type = type(cause).__name__ if cause else "NodeFailed"
        if isinstance(cause, FlowFailed):  # a flow node inside: its innermost step and error
            self.node = f"{node}/{cause.index}/{cause.node}"
            self.type, self.detail = cause.type, cause.detail
        self.index = index
        super().__init__(f"{what} {index} failed at `{self.node}`: {self.type}: {self.detail}")

    def as_error(self) -> dict[str, Any]:
        return {"index": self.index, "node": self.node, "type": self.type, "message": self.detail}


class _FlowNode:
    def __init__(self, component_id: str) -> None:
        self.info = type("Info", (), {"id": component_id})


async def flow_step(
    run: Run,
    node_id: str,
    component_id: str,
    work: Any,
    *,
    timeout_s: float | None = None,
    retries: int = 0,
    backoff_s: float = 0.5,
    handled: bool = False,
) -> Fired:
    """A flow node's work (`work()` per attempt) with the node's own policy; a failed item, iteration or
    inner step fails the node at once (not retried), as `patchwire run` reports it."""
    node, attempt = _FlowNode(component_id), 1
    while True:
        timer = asyncio.timeout(timeout_s)
        try:
            async with timer:
                return await work()
        except NodeFailed as exc:
            return run.failed(node, node_id, FlowFailed(0, "run", exc), attempt, handled)
        except FlowFailed as exc:
            return run.failed(node, node_id, exc, attempt, handled)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and timer.expired():
                exc = TimeoutError(f"timed out after {timeout_s:g} s (policy.timeout_s)")
            if attempt > retries or getattr(exc, "retryable", True) is False:
                return run.failed(node, node_id, exc, attempt, handled)
            await asyncio.sleep(retry_delay(backoff_s, attempt, exc))
            attempt += 1


async def run_map(
    run: Run,
    subflow: Any,
    values: dict[str, Any],
    *,
    over: str,
    concurrency: int,
    on_item_error: str,
    outputs: list[str],
) -> Fired:
    """The subflow once per item, `concurrency` at a time; each output a list in item order."""
    shared = collect(values)
    items = shared.pop("items")
    results: list[Any] = [None] * len(items)
    errors: list[dict[str, Any]] = []
    limit = asyncio.Semaphore(concurrency)

    async def one_item(index: int) -> None:
        async with limit:
            try:
                results[index] = await subflow(run, {**shared, over: items[index]})
            except NodeFailed as exc:
                failure = FlowFailed(index, "item", exc)
                if on_item_error == "fail":
                    raise failure from exc
                errors.append(failure.as_error())

    tasks = [asyncio.create_task(one_item(index)) for index in range(len(items))]
    await run.finish(tasks)
    errors.sort(key=lambda error: error["index"])
    failed = {error["index"] for error in errors}
    keep = [i for i in range(len(items)) if not (i in failed and on_item_error == "skip")]
    lists = {
        name: [None if results[i] is None else results[i].get(name) for i in keep]
        for name in outputs
    }
    return {**lists, "errors": errors}


async def run_loop(
    run: Run,
    subflow: Any,
    values: dict[str, Any],
    *,
    max_iterations: int,
    until: dict[str, Any] | None,
    carry: dict[str, str],
) -> Fired:
    """The subflow again and again, feeding `carry` outputs back in, until `until` holds."""
    values, outputs = collect(values), {}
    stop = None if until is None else Until.model_validate(until)
    stopped_by, iteration = "max_iterations", 0
    for iteration in range(1, max_iterations + 1):
        try:
            outputs = await subflow(run, values)
        except NodeFailed as exc:
            raise FlowFailed(iteration - 1, "iteration", exc) from exc
        if stop is not None and holds(stop, outputs.get(stop.output)):
            stopped_by = "condition"
            break
        for output, into in carry.items():
            if output in outputs:
                values[into] = outputs[output]
    return {**outputs, "iterations": iteration, "stopped_by": stopped_by}
'''
