"""Where a model can be loaded from, decided in about a second without ever downloading anything.

A model named by `AIQA_EMBED_MODEL` or `AIQA_RERANKER` is usable when it is a local directory, is
already in the Hugging Face cache, or the model hub answers for it within `hub_timeout` seconds.
The loaders in sentence-transformers retry an unreachable hub for over a minute, so this check runs
first and tells them to stay offline when the hub did not answer.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

_PATH_PREFIXES = ("/", "./", "../", "~")


@dataclass(frozen=True)
class ModelSource:
    """A model that can be loaded: `path` goes to the loader, `where` is said to the user."""

    name: str
    path: str
    where: str  # "local directory", "local model cache" or "model hub"
    local_files_only: bool

    @property
    def model_id(self) -> str:
        """What names the model in an embedder or reranker id: its resolved directory or hub name."""
        return self.path if self.where == "local directory" else self.name


@dataclass(frozen=True)
class Unavailable:
    """Why a model cannot be loaded, as a clause: "BAAI/bge-m3 is not cached and ..."."""

    problem: str


def locate_model(name: str, hub_timeout: float | None) -> ModelSource | Unavailable:
    """Where `name` loads from; with `hub_timeout=None` only local directories and the cache count."""
    directory = Path(name).expanduser()
    if directory.is_dir():
        return ModelSource(name, str(directory.resolve()), "local directory", local_files_only=True)
    if name.startswith(_PATH_PREFIXES) or name.count("/") > 1:
        return Unavailable(f"the model directory {name} does not exist")

    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        # Cached models load without asking the hub, so a missing network costs nothing.
        return ModelSource(name, name, "local model cache", local_files_only=True)
    if hub_timeout is None:
        return Unavailable(f"{name} is not cached")
    if constants.is_offline_mode():
        return Unavailable(f"{name} is not cached and HF_HUB_OFFLINE is set")
    status = _hub_status(constants.ENDPOINT, name, hub_timeout)
    if status is None:
        return Unavailable(f"{name} is not cached and the model hub is unreachable")
    if status >= 400:
        return Unavailable(f"{name} is not cached and the model hub does not serve it (HTTP {status})")
    return ModelSource(name, name, "model hub", local_files_only=False)


def _hub_status(endpoint: str, repo_id: str, timeout: float) -> int | None:
    """The HTTP status the hub gives for the model's config, or None when it does not answer in time.

    The request runs in a daemon thread because a socket timeout does not bound DNS resolution,
    which on a machine without network can take far longer than `timeout`.
    """
    url = f"{endpoint}/{urllib.parse.quote(repo_id)}/resolve/main/config.json"
    result: list[int] = []

    def probe() -> None:
        request = urllib.request.Request(url, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                result.append(response.status)
        except urllib.error.HTTPError as error:
            result.append(error.code)
        except (OSError, ValueError):
            pass  # refused, unresolvable, timed out or a malformed endpoint: the hub is unreachable

    thread = threading.Thread(target=probe, name="aiqa-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else None
