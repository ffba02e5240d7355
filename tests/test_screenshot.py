"""`make screenshot`: the README's picture of the dashboard, taken in real headless Chromium.

Why: the picture is regenerated whenever html/ is published again; a broken dashboard (asv's
error page, a script error, a missing file, a request leaving the machine) must stop it, not
become the README's picture.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pytest

from radibench.tools import screenshot

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def chromium():
    if not screenshot.CHROMIUM.exists():
        pytest.fail(f"{screenshot.CHROMIUM} is missing: run .ci/install-browser (CI runs it)")


def test_the_committed_dashboard_gives_a_picture(tmp_path):
    out = tmp_path / "dashboard.png"
    assert screenshot.main(["--html", str(ROOT / "html"), "--out", str(out)]) == 0
    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (1000, 1400)
    assert pixels[..., :3].std() > 0.05, "the picture looks blank"


@pytest.mark.parametrize(
    ("page", "named"),
    [
        ("<script>throw new Error('broken plugin')</script>", "script error: broken plugin"),
        ('<script src="missing.js"></script>', "HTTP 404"),
        ('<img src="https://cdn.example.org/x.png">', "request off this machine"),
    ],
)
def test_a_broken_page_writes_no_picture(tmp_path, capsys, page, named):
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text(f"<!doctype html><html><body>{page}</body></html>")
    out = tmp_path / "dashboard.png"
    out.write_bytes(b"the old picture")
    assert screenshot.main(["--html", str(html), "--out", str(out)]) == 1
    assert named in capsys.readouterr().err
    assert out.read_bytes() == b"the old picture"


def test_an_unpublished_folder_is_refused_before_the_browser_starts(tmp_path, capsys):
    assert screenshot.main(["--html", str(tmp_path), "--out", str(tmp_path / "x.png")]) == 1
    assert "publish the dashboard first" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
