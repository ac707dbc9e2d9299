"""Per-model settings from a config file outside the repository: base URL, key, mode, timeout.

``$NESYFLOW_CONFIG`` names the file, else ``~/.config/nesyflow/config.toml`` (if it exists)::

    [models."openai/smollm2"]          # an exact model string, or a pattern: "openai/*", "*"
    api_base = "http://127.0.0.1:8080/v1"
    api_key_env = "LLAMA_SERVER_KEY"   # the key is read from this variable (preferred)
    # api_key = "sk-..."               # or kept here: refused if the file is inside a git work tree
    mode = "grammar"                   # json_schema | grammar | json | tools | md_json
    timeout = 60                       # seconds per HTTP request

The first matching table wins (exact name before patterns, patterns in file order). Keys read from the
file are added to what :func:`nesyflow.llm.secrets.redact` masks. A file that does not parse, a
setting that is not known or a key kept inside a repository is a :class:`ConfigError` naming the file.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nesyflow.errors import NesyflowError
from nesyflow.llm.secrets import remember_secret

__all__ = ["CONFIG_ENV_VAR", "ConfigError", "ModelSettings", "config_path", "settings_for"]

CONFIG_ENV_VAR = "NESYFLOW_CONFIG"
_KNOWN = {"api_base", "api_key", "api_key_env", "mode", "timeout", "api_version"}


class ConfigError(NesyflowError):
    """The model config file cannot be used as written."""

    code = "config_error"


@dataclass(frozen=True)
class ModelSettings:
    """What the config file says for one model (every field optional)."""

    pattern: str = ""
    api_base: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None
    api_version: str | None = None
    mode: str | None = None
    timeout: float | None = None
    source: str = ""

    def key(self) -> str | None:
        """The key itself (from the variable it names, or the file), or None."""
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return self.api_key


def config_path() -> Path | None:
    """The config file in force, or None (no variable set and no default file)."""
    given = os.environ.get(CONFIG_ENV_VAR, "").strip()
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV_VAR}={given}: no such file")
        return path
    default = Path.home() / ".config" / "nesyflow" / "config.toml"
    return default if default.is_file() else None


def _inside_git_tree(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[ModelSettings, ...]:
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read as TOML: {exc}") from None
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{file}: [models] must be a table of tables")
    out: list[ModelSettings] = []
    for pattern, table in models.items():
        where = f'{file}: [models."{pattern}"]'
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_KNOWN))})"
            )
        if table.get("api_key"):
            repo = _inside_git_tree(file)
            if repo is not None:
                raise ConfigError(
                    f"{where} keeps an api_key inside the git work tree {repo}: "
                    "move the file outside the repository or use api_key_env"
                )
            remember_secret(str(table["api_key"]))
        timeout = table.get("timeout")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise ConfigError(f"{where}: timeout must be a positive number of seconds")
        out.append(
            ModelSettings(
                pattern=pattern,
                api_base=table.get("api_base"),
                api_key=table.get("api_key"),
                api_key_env=table.get("api_key_env"),
                api_version=table.get("api_version"),
                mode=table.get("mode"),
                timeout=float(timeout) if timeout is not None else None,
                source=where,
            )
        )
    return tuple(out)


def settings_for(model: str) -> ModelSettings | None:
    """The config file's settings for ``model`` (exact name first, then patterns), or None."""
    path = config_path()
    if path is None:
        return None
    entries = _load(str(path), path.stat().st_mtime)
    for entry in entries:
        if entry.pattern == model:
            return entry
    for entry in entries:
        if fnmatch.fnmatchcase(model, entry.pattern):
            return entry
    return None
