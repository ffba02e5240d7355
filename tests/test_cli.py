"""`radibench report/status/check-results/check-html` parse their options as the tools' own
commands do."""

from pathlib import Path

import pytest

from radibench import cli

FIXTURE = Path(__file__).parent / "fixtures" / "asv_results"


@pytest.mark.parametrize("command", ["report", "status", "check-results", "check-html"])
def test_tool_help_is_the_tools_own(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main([command, "--help"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: radibench {command} ")


def test_tool_exit_codes_pass_through(tmp_path, capsys):
    assert cli.main(["check-results", str(FIXTURE)]) == 0
    assert cli.main(["check-results", str(tmp_path / "missing")]) == 1
    assert cli.main(["status", str(FIXTURE / "fixture-machine"), "-b", "storage"]) == 0
    assert cli.main(["status", str(tmp_path / "missing")]) == 2
    assert cli.main(["report", "--results-dir", str(FIXTURE), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").is_file()
