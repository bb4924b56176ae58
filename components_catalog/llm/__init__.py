"""Model components (`llm.chat`, `llm.router`, `text.rewrite`) and the one model-call path they share.

`providers` (which provider, which key env var, loading litellm) ← `errors` ← `calls` ← the components.
"""
