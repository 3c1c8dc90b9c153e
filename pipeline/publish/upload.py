"""Upload an output folder to a Hub dataset repository with `huggingface_hub`.

The token comes from huggingface_hub's own lookup (HF_TOKEN, then the saved login) and is
handed to `HfApi` only: it is never printed, logged or written, and is scrubbed from any
error text. Failures become one `PublishError` line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.manifest import output_files

# Remote shards not in this upload are deleted, so the card's `data/<config>/<split>-*`
# globs never pick up shards of an earlier, larger version.
REMOTE_SHARDS = ["data/*/*.parquet"]


class PublishError(Exception):
    """One line for the user: what failed and what to do."""


@dataclass(frozen=True)
class PlannedFile:
    local: Path
    path_in_repo: str
    bytes: int


def upload_plan(out: Path) -> list[PlannedFile]:
    """Exactly the files that go up: what the manifest lists, plus manifest.json itself
    (work folders and hidden files, such as upload caches, stay local)."""
    files = output_files(out)
    manifest = out / "manifest.json"
    if manifest.is_file():
        files = sorted([*files, manifest])
    return [PlannedFile(p, p.relative_to(out).as_posix(), p.stat().st_size) for p in files]


def remote_url(repo_id: str, revision: str | None, path_in_repo: str) -> str:
    return f"hf://datasets/{repo_id}@{revision or 'main'}/{path_in_repo}"


def describe_plan(
    plan: list[PlannedFile], repo_id: str, revision: str | None, private: bool
) -> str:
    lines = [
        f"dataset repo {repo_id} ({'private' if private else 'public'}), "
        f"revision {revision or 'main'}: {len(plan)} files, "
        f"{sum(f.bytes for f in plan)} bytes"
    ]
    width = max((len(f.path_in_repo) for f in plan), default=0)
    for f in plan:
        url = remote_url(repo_id, revision, f.path_in_repo)
        lines.append(f"  {f.path_in_repo:<{width}}  {f.bytes:>12} bytes  -> {url}")
    return "\n".join(lines)


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _first_line(exc: BaseException, token: str | None) -> str:
    text = str(exc).strip().splitlines()
    return _scrub(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "), token)


def upload(
    out: Path,
    plan: list[PlannedFile],
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
) -> str:
    """Create the repo (and branch) if needed and upload the planned files; return the
    commit URL. Re-running after an interruption resumes (already committed files and
    uploaded chunks are skipped by huggingface_hub)."""
    from huggingface_hub import HfApi, constants, get_token
    from huggingface_hub.errors import HfHubHTTPError

    try:
        token = get_token()
    except Exception as exc:  # e.g. a configured OIDC exchange that failed
        raise PublishError(f"cannot get a Hugging Face token: {type(exc).__name__}") from None
    if not token:
        raise PublishError(
            "no Hugging Face token found: set HF_TOKEN or log in with `hf auth login`"
        )
    api = HfApi(token=token)
    endpoint = constants.ENDPOINT
    step = "checking the token"
    try:
        api.whoami()
        step = f"creating dataset repo {repo_id}"
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision:
            step = f"creating branch {revision}"
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        step = "uploading"
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=out,
            revision=revision,
            allow_patterns=[f.path_in_repo for f in plan],
            delete_patterns=REMOTE_SHARDS,
            commit_message=f"Upload MSG dataset ({len(plan)} files)",
        )
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        hint = " (the token is invalid or lacks write access)" if status in (401, 403) else ""
        raise PublishError(
            f"the Hub at {endpoint} refused {step}{hint}: {_first_line(exc, token)}"
        ) from None
    except Exception as exc:  # connection refused, DNS, timeouts, TLS: one line, no traceback
        raise PublishError(
            f"cannot reach the Hub at {endpoint} while {step}: {_first_line(exc, token)}"
        ) from None
    return _scrub(str(getattr(info, "commit_url", info)), token)
