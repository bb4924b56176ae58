"""Fixed code the generated module carries: how one step runs, how inputs are read from the command line.

Kept as text (it is written into every exported module), formatted as `ruff format` would format it.
It reproduces the executor's rules: output ports fire only when their field was set
(`model_fields_set`); optional inputs that got no value keep their defaults; fan-in lists keep edge
order; timeouts, retries and error handling follow each node's policy. What only pipelines with
flow nodes (map, loop) carry is `FLOW_HELPERS`, in `flow_prelude.py`.
"""

from __future__ import annotations

import json

from ...secrets import DEFAULT_ALLOWED_PATTERNS, MIN_SECRET_LENGTH, SECRET_NAME_PATTERNS
from .flow_prelude import FLOW_HELPERS

__all__ = ["HELPERS", "FLOW_HELPERS", "MAIN"]

HELPERS = '''
MISSING: Any = object()  # a port that received no value
Fired = dict[str, Any]  # the output ports a step set; {} when it was skipped


class NodeFailed(Exception):
    """A step failed and nothing handles its error: the run stops, like `patchwire run`.

    `node`: the step's node id; `detail`: its error's message (secrets masked)."""

    def __init__(self, node: str, detail: str) -> None:
        prefix = f"Node `{node}`"
        super().__init__(detail if detail.startswith(prefix) else f"{prefix} failed: {detail}")
        self.node, self.detail = node, detail


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


# Env vars whose values are secret (the same rule as `runtime.secrets`), plus those components may read.
SECRET_NAME_PATTERNS = __SECRET_NAME_PATTERNS__
MIN_SECRET_LENGTH = __MIN_SECRET_LENGTH__


def env_secrets() -> set[str]:
    """Values of the env vars that hold secrets, to mask in outputs and error messages."""
    allowed = os.environ.get("PATCHWIRE_SECRETS", "__DEFAULT_ALLOWED__").split(",")
    patterns = [p.strip() for p in allowed if p.strip()]

    def is_secret(name: str) -> bool:
        if name == "PATCHWIRE_SECRETS":
            return False
        named = any(fnmatch.fnmatchcase(name.upper(), p) for p in SECRET_NAME_PATTERNS)
        return named or any(fnmatch.fnmatchcase(name, p) for p in patterns)

    return {v for k, v in os.environ.items() if len(v) >= MIN_SECRET_LENGTH and is_secret(k)}


def redact(value: Any, secrets: list[str]) -> Any:
    """`value` with each secret replaced by `***`, inside dicts, lists and models (copied, never in place)."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [redact(v, secrets) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if hasattr(value, "model_copy") and hasattr(value, "__dict__"):  # a model, e.g. a Document
        copy = value.model_copy()
        copy.__dict__.update({k: redact(v, secrets) for k, v in value.__dict__.items()})
        return copy
    return value


class Run:
    """One run: its id, inputs and the secret values to mask in outputs and error messages."""

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
                fired = {name: getattr(outputs, name) for name in outputs.model_fields_set}
                return self.masked(fired)
            except Exception as exc:
                if isinstance(exc, TimeoutError) and timeout_s is not None:
                    exc = TimeoutError(f"timed out after {timeout_s:g} s (policy.timeout_s)")
                if attempt > retries or getattr(exc, "retryable", True) is False:
                    return self.failed(component, node_id, exc, attempt, handled)
                await asyncio.sleep(retry_delay(backoff_s, attempt, exc))
                attempt += 1

    def masked(self, fired: Fired) -> Fired:
        """A step's outputs with the secret values masked, as `patchwire run` masks them."""
        secrets = [s for s in self.secrets if len(s) >= MIN_SECRET_LENGTH]
        secrets.sort(key=len, reverse=True)
        return redact(fired, secrets) if secrets else fired

    def failed(
        self, component: Any, node_id: str, exc: Exception, attempts: int, handled: bool
    ) -> Fired:
        message = str(exc) or type(exc).__name__
        for secret in self.secrets:
            message = message.replace(secret, "***")
        if not handled:
            raise NodeFailed(node_id, message) from exc
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


def _tuple_source(name: str, values: tuple[str, ...]) -> str:
    """`name = (...)` as ruff formats it: on one line when it fits, else one item per line."""
    items = [json.dumps(v) for v in values]
    line = f"{name} = ({', '.join(items)})"
    return line if len(line) <= 100 else f"{name} = (\n" + "".join(f"    {i},\n" for i in items) + ")"


# The generated module copies the secrets rule's constants (it must not drift from `runtime.secrets`).
HELPERS = (HELPERS.replace("SECRET_NAME_PATTERNS = __SECRET_NAME_PATTERNS__",
                           _tuple_source("SECRET_NAME_PATTERNS", SECRET_NAME_PATTERNS))
           .replace("__MIN_SECRET_LENGTH__", str(MIN_SECRET_LENGTH))
           .replace("__DEFAULT_ALLOWED__", ",".join(DEFAULT_ALLOWED_PATTERNS)))


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
