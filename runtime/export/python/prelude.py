"""Fixed code the generated module carries: how one step runs, how inputs are read from the command line.

Kept as text (it is written into every exported module), formatted as `ruff format` would format it.
It reproduces the executor's rules: output ports fire only when their field was set
(`model_fields_set`); optional inputs that got no value keep their defaults; fan-in lists keep edge
order; timeouts, retries and error handling follow each node's policy.
"""

from __future__ import annotations

__all__ = ["HELPERS", "MAIN"]

HELPERS = '''
MISSING: Any = object()  # a port that received no value
Fired = dict[str, Any]  # the output ports a step set; {} when it was skipped


class NodeFailed(Exception):
    """A step failed and nothing handles its error: the run stops, like `patchwire run`."""


class _Spread(list):
    """A whole upstream list added to a fan-in list item by item."""


def one(fired: Fired, port: str) -> Any:
    """The value an upstream step gave on `port`, or MISSING when that port did not fire."""
    return fired.get(port, MISSING)


def spread(value: Any) -> Any:
    return value if value is MISSING else _Spread(value)


def fan_in(*values: Any) -> Any:
    """One list from several edges, in edge order; MISSING when no edge delivered a value."""
    items: list[Any] = []
    arrived = False
    for value in values:
        if value is MISSING:
            continue
        arrived = True
        if isinstance(value, _Spread):
            items.extend(value)
        else:
            items.append(value)
    return items if arrived else MISSING


def collect(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not MISSING}


def with_defaults(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs given, plus the defaults of those not given; a missing required input is an error."""
    values = {name: entry["default"] for name, entry in INPUTS.items() if "default" in entry}
    values.update(inputs)
    missing = [f"`{name}`" for name in INPUTS if name not in values]
    if missing:
        raise ValueError(f"missing required input(s) {', '.join(missing)}")
    return values


def env_secrets() -> set[str]:
    """Values of the env vars components may read as secrets (PATCHWIRE_SECRETS, default *_API_KEY)."""
    allowed = os.environ.get("PATCHWIRE_SECRETS", "*_API_KEY").split(",")
    patterns = [p.strip() for p in allowed if p.strip()]
    return {
        value
        for name, value in os.environ.items()
        if len(value) >= 8 and any(fnmatch.fnmatchcase(name, p) for p in patterns)
    }


class Run:
    """One run: its id, inputs and the secret values to redact from error messages."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        self.run_id = uuid.uuid4().hex
        self.inputs = with_defaults(inputs)
        self.secrets: set[str] = env_secrets()  # components add the ones they read via ctx.secret

    async def call(
        self,
        component: Any,
        node_id: str,
        values: dict[str, Any],
        *,
        timeout_s: float | None = None,
        retries: int = 0,
        backoff_s: float = 0.5,
        handled: bool = False,
    ) -> Fired:
        """Run one step with its policy; return the output ports it set (`model_fields_set`)."""
        inputs_model = component.ports(component.params)[0]
        inputs = inputs_model.model_construct(**collect(values))
        attempt = 1
        while True:
            ctx = RunContext(
                run_id=self.run_id,
                node_id=node_id,
                component_id=component.info.id,
                attempt=attempt,
                pipeline_inputs=self.inputs,
                secrets=self.secrets,
            )
            try:
                if timeout_s is None:
                    outputs = await component.run(inputs, ctx)
                else:
                    outputs = await asyncio.wait_for(component.run(inputs, ctx), timeout_s)
                return {name: getattr(outputs, name) for name in outputs.model_fields_set}
            except Exception as exc:
                if isinstance(exc, TimeoutError) and timeout_s is not None:
                    exc = TimeoutError(f"timed out after {timeout_s:g} s (policy.timeout_s)")
                if attempt > retries or getattr(exc, "retryable", True) is False:
                    return self.failed(component, node_id, exc, attempt, handled)
                await asyncio.sleep(retry_delay(backoff_s, attempt, exc))
                attempt += 1

    def failed(
        self, component: Any, node_id: str, exc: Exception, attempts: int, handled: bool
    ) -> Fired:
        message = str(exc) or type(exc).__name__
        for secret in self.secrets:
            message = message.replace(secret, "***")
        if not handled:
            prefix = f"Node `{node_id}`"
            text = message if message.startswith(prefix) else f"{prefix} failed: {message}"
            raise NodeFailed(text) from exc
        error = {"node": node_id, "component": component.info.id, "type": type(exc).__name__}
        return {"error": {**error, "message": message, "attempts": attempts}}

    async def finish(self, tasks: list[asyncio.Task[Fired]]) -> None:
        """Wait for every step; on a failure cancel the others and raise it."""
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def retry_delay(backoff_s: float, attempt: int, exc: Exception) -> float:
    delay = backoff_s * (2 ** (attempt - 1))
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        delay = max(delay, float(retry_after))
    return delay
'''

MAIN = '''
def parse_value(kind: str, text: str) -> Any:
    """`--input name=value` text parsed by the input's type, as `patchwire run` parses it."""
    if kind == "string":
        return text
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return lowered in ("true", "1", "yes", "on")
        raise ValueError(f"expected a boolean (true/false), got {text!r}")
    if kind in ("integer", "number"):
        try:
            value = int(text) if kind == "integer" else float(text)
        except ValueError:
            expected = "an integer" if kind == "integer" else "a number"
            raise ValueError(f"expected {expected}, got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity: not JSON
            raise ValueError(f"expected a finite number, got {text!r}")
        return value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected JSON ({exc.msg} at column {exc.colno}), got {text!r}") from None


def parse_inputs(pairs: list[str], inputs_json: str | None = None) -> dict[str, Any]:
    """The run's inputs: `--inputs-json` as given, `--input name=value` parsed, then the defaults."""
    values: dict[str, Any] = json.loads(inputs_json) if inputs_json else {}
    if not isinstance(values, dict):
        raise ValueError("--inputs-json must be a JSON object of input values")
    problems = [f"Unknown input `{name}`" for name in values if name not in INPUTS]
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in INPUTS:
            known = ", ".join(f"`{n}`" for n in INPUTS) or "none"
            problems.append(f"--input {pair!r}: expected name=value, name one of: {known}")
            continue
        try:
            values[name] = parse_value(INPUTS[name]["type"], text)
        except ValueError as exc:
            problems.append(f"Input `{name}`: {exc}")
    for name, entry in INPUTS.items():
        if name not in values and "default" in entry:
            values[name] = entry["default"]
        elif name not in values:
            problems.append(f"Input `{name}` is required: pass it with `--input {name}=...`")
    if problems:
        raise ValueError(". ".join(problems) + ".")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--inputs-json", metavar="JSON", help="all inputs as one JSON object")
    args = parser.parse_args(argv)
    try:
        inputs = parse_inputs(args.input, args.inputs_json)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        outputs = asyncio.run(run_pipeline(inputs))
    except NodeFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(to_jsonable_python(outputs, fallback=repr), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
