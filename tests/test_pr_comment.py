"""The poster's script posts one verdict comment per pull request and updates it on each push,
against a loopback stand-in of GitHub's REST API (a real HTTP server on 127.0.0.1).

The event is tests/fixtures/github/workflow_run_fork_pr.json: a `workflow_run` (completed)
event of the check on a fork's pull request, field for field as GitHub sends it (trimmed to the
run, the repositories and the commit). For a fork GitHub leaves `pull_requests` empty, which is
why the check uploads the number and the script must not trust it.
"""

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from radibench.tools.pr_comment import BOT, MARKER

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "tests" / "fixtures" / "github" / "workflow_run_fork_pr.json"
REPO = "srdsam/RadiObject"
TOKEN = "ghs_standInToken0123456789abcdefABCDEF"
RUN = json.loads(EVENT.read_text())["workflow_run"]
PR = 42


class StandIn(ThreadingHTTPServer):
    """GitHub's endpoints the poster uses: a pull request, its issue comments (paged as GitHub
    pages them), creating and updating a comment. Requests without the token get GitHub's 401;
    `refuse_writes` answers POST and PATCH as GitHub does when the token may not comment."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.pulls = {
            PR: {
                "number": PR,
                "state": "open",
                "head": {
                    "ref": RUN["head_branch"],
                    "sha": RUN["head_sha"],
                    "repo": {"full_name": RUN["head_repository"]["full_name"]},
                },
            },
            7: {
                "number": 7,
                "state": "open",
                "head": {"ref": "docs", "sha": "1" * 40, "repo": {"full_name": REPO}},
            },
        }
        self.comments: dict[int, list[dict]] = {PR: [], 7: []}
        self.requests: list[str] = []
        self.refuse_writes = None  # None, or the message a refused write carries

    def comment(self, number, body, login):
        cid = 1000 + sum(len(c) for c in self.comments.values())
        url = f"https://github.com/{REPO}/pull/{number}#issuecomment-{cid}"
        made = {"id": cid, "body": body, "user": {"login": login}, "html_url": url}
        self.comments[number].append(made)
        return made


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet: the test reads server.requests
        pass

    def reply(self, status, data):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def handle_any(self, method):
        server: StandIn = self.server
        url = urlsplit(self.path)
        server.requests.append(f"{method} {url.path}")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"message": "Bad credentials", "status": "401"})
        body = None
        if method in ("POST", "PATCH"):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if server.refuse_writes is not None:
                return self.reply(403, {"message": server.refuse_writes, "status": "403"})
        base = f"/repos/{REPO}"
        if method == "GET" and (m := re.fullmatch(rf"{base}/pulls/(\d+)", url.path)):
            pull = server.pulls.get(int(m[1]))
            return self.reply(200, pull) if pull else self.reply(404, {"message": "Not Found"})
        if m := re.fullmatch(rf"{base}/issues/(\d+)/comments", url.path):
            comments = server.comments.get(int(m[1]))
            if comments is None:
                return self.reply(404, {"message": "Not Found"})
            if method == "GET":
                query = parse_qs(url.query)
                per_page = int(query.get("per_page", ["30"])[0])
                page = int(query.get("page", ["1"])[0])
                return self.reply(200, comments[(page - 1) * per_page : page * per_page])
            if method == "POST":
                return self.reply(201, server.comment(int(m[1]), body["body"], BOT))
        if method == "PATCH" and (m := re.fullmatch(rf"{base}/issues/comments/(\d+)", url.path)):
            for comment in (c for cs in server.comments.values() for c in cs):
                if comment["id"] == int(m[1]):
                    comment["body"] = body["body"]
                    return self.reply(200, comment)
        return self.reply(404, {"message": "Not Found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")


@pytest.fixture
def github():
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def poster(github, tmp_path):
    """Run the script as the poster workflow runs it, on an artifact written to tmp_path."""

    def run(number: str, verdict: str | None, event: Path = EVENT):
        artifact = tmp_path / "artifact"
        artifact.mkdir(exist_ok=True)
        (artifact / "pr-number").write_text(number)
        (artifact / "verdict.md").unlink(missing_ok=True)
        if verdict is not None:
            (artifact / "verdict.md").write_text(verdict)
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": f"http://127.0.0.1:{github.server_address[1]}",
        }
        files = ["--verdict", artifact / "verdict.md", "--pr-number", artifact / "pr-number"]
        return subprocess.run(
            [sys.executable, "-m", "radibench.tools.pr_comment", *map(str, files)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


FAILED = "## RadiObject performance check: FAILED\n\n- counts.PerBatch.track_tiles: 1.07x\n"
PASSED = "## RadiObject performance check: passed\n\nNo gated metric got worse.\n"


def test_the_first_push_creates_one_comment_and_the_next_updates_it(github, poster):
    for i in range(120):  # a busy thread: the comment to update is on the second page
        github.comment(PR, f"review comment {i}", "maintainer")
    github.comment(PR, f"{MARKER}\nquoted by a person, not the bot's", "contributor")

    first = poster("42\n", FAILED)  # `echo 42 > pr-number` ends with a newline
    assert first.returncode == 0, first.stderr
    assert "created https://github.com/srdsam/RadiObject/pull/42#issuecomment-" in first.stdout
    ours = [c for c in github.comments[PR] if c["user"]["login"] == BOT]
    assert len(ours) == 1
    assert ours[0]["body"].startswith(MARKER + "\n## RadiObject performance check: FAILED")
    assert RUN["html_url"] in ours[0]["body"] and RUN["head_sha"][:12] in ours[0]["body"]
    assert "ended `failure`" in ours[0]["body"]  # from the event, which the fork cannot write

    second = poster("42", PASSED)
    assert second.returncode == 0, second.stderr
    assert f"updated {ours[0]['html_url']}" in second.stdout
    ours_now = [c for c in github.comments[PR] if c["user"]["login"] == BOT]
    assert len(ours_now) == 1 and len(github.comments[PR]) == 122
    assert "performance check: passed" in ours_now[0]["body"]
    assert "FAILED" not in ours_now[0]["body"]
    person = github.comments[PR][120]
    assert person["body"] == f"{MARKER}\nquoted by a person, not the bot's"  # left alone
    assert f"PATCH /repos/{REPO}/issues/comments/{ours[0]['id']}" in github.requests


def test_a_check_that_wrote_no_verdict_says_so_on_the_pull_request(github, poster):
    done = poster("42", None)
    assert done.returncode == 0, done.stderr
    (comment,) = github.comments[PR]
    assert "no verdict" in comment["body"] and "`failure`" in comment["body"]
    assert RUN["html_url"] in comment["body"]


@pytest.mark.parametrize(
    "number", ["", "0", "-3", "4.2", "1e3", "42; curl evil", "42\n43", "０42", "12345678901"]
)
def test_a_malformed_pull_request_number_is_refused_before_any_request(github, poster, number):
    done = poster(number, FAILED)
    assert done.returncode == 1
    assert "is not a positive integer" in done.stderr
    assert github.requests == []


def test_a_number_naming_another_pull_request_is_refused(github, poster):
    done = poster("7", FAILED)  # a fork's artifact may name any pull request
    assert done.returncode == 1
    assert "pull request #7, whose head is srdsam/RadiObject:docs" in done.stderr
    assert "contributor/RadiObject:faster-patches" in done.stderr
    assert github.comments[7] == [] and github.comments[PR] == []


def test_a_number_naming_no_pull_request_fails_with_githubs_answer(github, poster):
    done = poster("99", FAILED)
    assert done.returncode == 1
    assert f"GET http://127.0.0.1:{github.server_address[1]}/repos/{REPO}/pulls/99" in done.stderr
    assert "HTTP 404 Not Found" in done.stderr


def test_an_outdated_verdict_does_not_overwrite_a_newer_one(github, poster):
    github.pulls[PR]["head"]["sha"] = "a" * 40  # the contributor pushed again meanwhile
    done = poster("42", FAILED)
    assert done.returncode == 0, done.stderr
    assert "not posting" in done.stdout and "aaaaaaaaaaaa" in done.stdout
    assert github.comments[PR] == []


@pytest.mark.parametrize(
    "message",
    [
        "Resource not accessible by integration",  # the token may not write pull requests
        f"rejected Authorization: Bearer {TOKEN}",  # a proxy echoing the request back
    ],
)
def test_an_http_error_fails_clearly_and_never_shows_the_token(github, poster, message):
    github.refuse_writes = message
    done = poster("42", FAILED)
    assert done.returncode == 1
    where = f"POST http://127.0.0.1:{github.server_address[1]}/repos/{REPO}/issues/42/comments"
    assert f"{where}: HTTP 403" in done.stderr
    assert message.split(":")[0] in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert github.comments[PR] == []


def test_an_event_that_is_not_a_pull_request_check_is_refused(github, poster, tmp_path):
    event = json.loads(EVENT.read_text())
    event["workflow_run"]["event"] = "push"
    path = tmp_path / "push.json"
    path.write_text(json.dumps(event))
    done = poster("42", FAILED, path)
    assert done.returncode == 1 and "not a workflow_run of a pull_request" in done.stderr
    assert github.requests == []


def test_the_workflow_pair_fits_the_check_and_the_script():
    """RadiObject's two workflows, pr-check.yml and this script agree on names and files."""
    import yaml

    def load(path):
        data = yaml.safe_load((ROOT / ".github" / path).read_text())
        return data, data[True]  # YAML 1.1 reads the key `on` as true

    check, check_on = load("workflows/pr-check.yml")
    caller, caller_on = load("radiobject-workflows/performance.yml")
    poster, poster_on = load("radiobject-workflows/performance-comment.yml")

    (job,) = caller["jobs"].values()
    assert "pull_request" in caller_on and job["uses"].startswith(
        "srdsam/radibench/.github/workflows/pr-check.yml@"
    )
    assert set(job["with"]) <= set(check_on["workflow_call"]["inputs"])
    assert job["with"]["pull-request"] == "${{ github.event.pull_request.number }}"
    assert poster_on["workflow_run"] == {"workflows": [caller["name"]], "types": ["completed"]}

    uploads = [
        s for s in check["jobs"]["continuous"]["steps"] if "upload-artifact" in s.get("uses", "")
    ]
    assert any(s["with"]["name"] == "pr-verdict" for s in uploads)
    (comment,) = poster["jobs"].values()
    download, post = comment["steps"][1:]
    assert download["with"]["name"] == "pr-verdict"
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert "python3 -m radibench.tools.pr_comment" in post["run"]
    assert '"$VERDICT/verdict.md"' in post["run"] and '"$VERDICT/pr-number"' in post["run"]
    assert comment["permissions"]["pull-requests"] == "write" and poster["permissions"] == {}
    assert "pull-requests" not in check["permissions"]  # the check never gets to comment
