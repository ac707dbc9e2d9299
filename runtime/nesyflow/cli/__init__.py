"""The ``nesyflow`` command. Each concern registers its commands from its own module; heavy
libraries (litellm, torch, streamlit) are imported inside the commands that need them, so
``nesyflow check`` starts fast."""

from nesyflow.cli.app import app, main

__all__ = ["app", "main"]
