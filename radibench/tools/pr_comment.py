"""Post the performance verdict on its pull request: one comment, updated on every push.

The check runs the pull request's code, which for a fork is untrusted and gets no token that
can comment; it uploads verdict.md and the pull request's number as an artifact. The poster
workflow runs in the base repository on `workflow_run` (completed), with a token that can
comment, and runs this script on that artifact. Nothing from the artifact runs: the number must
be a plain positive integer naming a pull request whose head branch is the one the check ran
on, and whose head is still the commit it judged (an older push's verdict never overwrites a
newer one). The comment this script owns starts with MARKER and is written by `--author`; it is
updated in place, else created. Standard library only, so the poster installs nothing.

Environment: GITHUB_TOKEN (never printed), GITHUB_REPOSITORY (the base repository),
GITHUB_EVENT_PATH (the workflow_run event), GITHUB_API_URL (default https://api.github.com).
Exit 0 when posted or deliberately skipped (an outdated verdict), 1 on refused input or an
HTTP error, with a message that says which.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

DESCRIPTION = __doc__.splitlines()[0]
MARKER = "<!-- radibench-performance-check -->"
BOT = "github-actions[bot]"  # who GITHUB_TOKEN's comments are written by
MAX_BODY = 65536  # GitHub's limit on a comment's length
PER_PAGE = 100


class CannotPost(Exception):
    """Why the verdict cannot be posted: untrusted input that fails its check, or a request
    GitHub did not accept."""


def pull_request_number(text: str) -> int:
    """The artifact's pull-request number: untrusted (a fork's check wrote it), so digits only."""
    value = text.strip()
    if not re.fullmatch(r"[1-9][0-9]{0,9}", value):
        shown = value[:40] + ("..." if len(value) > 40 else "")
        raise CannotPost(f"the artifact's pull-request number {shown!r} is not a positive integer")
    return int(value)


class GitHub:
    """The few REST calls the poster makes, against `api` (GitHub's, or a test's stand-in)."""

    def __init__(self, api: str, repository: str, token: str):
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise CannotPost(f"GITHUB_REPOSITORY {repository!r} is not owner/name")
        self.api, self.repository, self._token = api.rstrip("/"), repository, token

    def request(self, method: str, path: str, body: dict | None = None):
        url = f"{self.api}/repos/{self.repository}{path}"
        request = urllib.request.Request(
            url,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "radibench-pr-comment",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:2000]
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("message", detail)  # GitHub says why here
            raise CannotPost(f"{method} {url}: HTTP {exc.code} {detail}") from None
        except urllib.error.URLError as exc:
            raise CannotPost(f"{method} {url}: {exc.reason}") from None

    def comments(self, number: int):
        for page in range(1, 1000):
            query = f"per_page={PER_PAGE}&page={page}"
            found = self.request("GET", f"/issues/{number}/comments?{query}")
            yield from found
            if len(found) < PER_PAGE:
                return


def outdated(github: GitHub, number: int, run: dict) -> str | None:
    """Why the verdict is outdated (None: post it); CannotPost if pull request `number` is not
    the one the check ran on (a fork's artifact may name any number)."""
    head = github.request("GET", f"/pulls/{number}")["head"]
    theirs = f"{(head.get('repo') or {}).get('full_name')}:{head['ref']}"  # repo: null if deleted
    ours = f"{(run.get('head_repository') or {}).get('full_name')}:{run['head_branch']}"
    if theirs != ours:
        raise CannotPost(
            f"the artifact names pull request #{number}, whose head is {theirs}, but the check "
            f"ran on {ours}"
        )
    if head["sha"] != run["head_sha"]:
        return (
            f"the verdict is for {run['head_sha'][:12]} but pull request #{number}'s head is now "
            f"{head['sha'][:12]}: the newer push's check will post"
        )
    return None


def comment_body(verdict: str | None, run: dict) -> str:
    """MARKER, then the verdict (or why there is none), within GitHub's length limit."""
    link = f"[the check's run]({run['html_url']})"
    if verdict is None or not verdict.strip():
        text = (
            "## RadiObject performance check: no verdict\n\n"
            f"The check ended `{run.get('conclusion')}` before it wrote a verdict: see {link}.\n"
        )
    else:
        text = (
            f"{verdict.rstrip()}\n\nCommit `{run['head_sha'][:12]}`: {link} ended "
            f"`{run.get('conclusion')}`.\n"
        )
    body = f"{MARKER}\n{text}"
    if len(body) > MAX_BODY:
        tail = f"\n\n(truncated: the whole verdict is in {link}'s artifacts)\n"
        body = body[: MAX_BODY - len(tail)] + tail
    return body


def post(github: GitHub, number: int, body: str, author: str = BOT) -> str:
    """Update this script's comment on pull request `number`, else create it."""
    for comment in github.comments(number):
        if comment["body"].startswith(MARKER) and comment["user"]["login"] == author:
            github.request("PATCH", f"/issues/comments/{comment['id']}", {"body": body})
            return f"updated {comment['html_url']}"
    created = github.request("POST", f"/issues/{number}/comments", {"body": body})
    return f"created {created['html_url']}"


def run(args, environ=os.environ) -> int:
    try:
        token = environ.get("GITHUB_TOKEN", "")
        if not token:
            raise CannotPost("GITHUB_TOKEN is not set")
        if not environ.get("GITHUB_EVENT_PATH"):
            raise CannotPost("GITHUB_EVENT_PATH is not set (run it from the poster workflow)")
        event = json.loads(Path(environ["GITHUB_EVENT_PATH"]).read_text())
        workflow_run = event.get("workflow_run")
        if not workflow_run or workflow_run.get("event") != "pull_request":
            raise CannotPost("the event is not a workflow_run of a pull_request check")
        number = pull_request_number(args.pr_number.read_text())
        verdict = args.verdict.read_text() if args.verdict.is_file() else None
        github = GitHub(
            environ.get("GITHUB_API_URL", "https://api.github.com"),
            environ.get("GITHUB_REPOSITORY", ""),
            token,
        )
        skip = outdated(github, number, workflow_run)
        if skip:
            print(f"pr_comment: not posting: {skip}")
            return 0
        done = post(github, number, comment_body(verdict, workflow_run), args.author)
        print(f"pr_comment: {done}")
        return 0
    except (CannotPost, OSError, KeyError, ValueError) as exc:
        message = str(exc) if isinstance(exc, CannotPost) else f"{type(exc).__name__}: {exc}"
        token = environ.get("GITHUB_TOKEN")
        if token:  # a server or proxy may echo the request back: the token never leaves
            message = message.replace(token, "***")
        print(f"pr_comment: {message}", file=sys.stderr)
        return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pr_comment", description=DESCRIPTION)
    parser.add_argument("--verdict", type=Path, required=True, help="the check's verdict.md")
    parser.add_argument(
        "--pr-number", type=Path, required=True, help="file holding the pull request's number"
    )
    parser.add_argument("--author", default=BOT, help="login that writes the comment")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
