"""A campaign is checked before it is sent (issue 23): dry run, numbers, duplicates, opt-outs,
columns, fix-and-resend, totals across runs, and the small things a new user met."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx, RecordedRequest, Respond
from tests.cli.test_send_bulk_cli import fake, people, read, write_csv

__all__ = ["fake"]  # the fixture, used by name

SENDER = ["--from", "+18445550001"]


def dry_rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(out.splitlines()))


def test_dry_run_reports_what_the_live_run_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Malformed numbers are listed per row with the reason, are not counted as billable
    SMS, and the dry run exits 1 as the live run would."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to"],
        [["+13125550001"], ["(312) 555-0002"], ["+1312555000a"], ["+13125550004"]],
    )
    assert main(["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--dry-run"]) == 1
    captured = capsys.readouterr()
    rows = dry_rows(captured.out)
    assert [r["status"] for r in rows] == ["send", "failed", "failed", "send"]
    refused = rows[1]
    assert refused["error_code"] == "invalid_argument"
    assert "E.164" in refused["reason"]
    assert "--default-region" in refused["reason"]
    assert refused["parts"] == ""
    assert "4 rows: 2 to send, 2 failed, 0 skipped" in captured.err
    assert "2 messages: 2 SMS in 2 parts" in captured.err
    assert "2 rows cannot be sent as written (rows 2, 3)" in captured.err


def test_dry_run_names_what_forced_ucs2_and_estimates_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The characters that made a text UCS-2 are named with their rows; with a price per
    part the dry run gives a cost, and without one it gives none."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "name"],
        [["+13125550001", "Ann"], ["+13125550002", "Zoë"], ["+13125550003", "O\u2019Neil"]],
    )
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}", "--dry-run"]
    assert main([*command, "--price-per-part", "0.004"]) == 0
    captured = capsys.readouterr()
    assert [r["non_gsm"] for r in dry_rows(captured.out)] == ["", "ë", "\u2019"]
    assert "'ë' (U+00EB) in row 2; '\u2019' (U+2019) in row 3" in captured.err
    assert "estimated cost: 3 parts x 0.004 = 0.012" in captured.err
    assert main(command) == 0
    assert "cost" not in capsys.readouterr().err


def test_duplicates_are_warned_about_and_can_be_skipped(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recipient listed twice is named in a warning and sent twice by default; with
    --skip-duplicates the later row is 'skipped' with its reason and the run exits 0."""
    recipients = write_csv(
        tmp_path / "r.csv", ["to"], [["+13125550001"], ["+13125550002"], ["+13125550001"]]
    )
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi"]
    assert main([*command, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert dry_rows(captured.out)[2]["note"] == "same recipient as row 1"
    assert "1 duplicate recipient (row 3 repeats row 1)" in captured.err
    assert "--skip-duplicates" in captured.err
    out = tmp_path / "o.csv"
    assert main([*command, "--skip-duplicates", "--out", str(out)]) == 0
    assert len(fake.messages) == 2
    err = capsys.readouterr().err
    assert "1 duplicate recipient (row 3 repeats row 1): is skipped" in err
    assert "3 rows: 2 sent, 0 failed, 1 skipped" in err
    skipped = (
        read(out)[2]
        if read(out)[2]["row"] == "3"
        else next(r for r in read(out) if r["row"] == "3")
    )
    assert (skipped["status"], skipped["error_code"]) == ("skipped", "duplicate_recipient")
    assert skipped["error_title"] == "same recipient as row 1"


def test_default_region_makes_numbers_e164_and_refuses_what_it_cannot_read(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--default-region US sends "(312) 555-0002" as +13125550002; a number it cannot read is
    a failed row with the reason, never a guess."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to"],
        [["(312) 555-0002"], ["13125550003"], ["+13125550004"], ["555-01"]],
    )
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--default-region", "US"]
    assert main([*command, "--out", str(out)]) == 1
    sent = sorted(r.json["to"] for r in fake.requests if r.json)
    assert sent == ["+13125550002", "+13125550003", "+13125550004"]
    by_row = {r["row"]: r for r in read(out)}
    assert by_row["1"]["to"] == "+13125550002"
    assert (by_row["4"]["status"], by_row["4"]["error_code"]) == ("failed", "invalid_argument")
    assert "'555-01' cannot be read as a phone number" in by_row["4"]["error_title"]
    assert "2 numbers made E.164" in capsys.readouterr().err


def test_a_bad_default_region_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--default-region XX exits 2 naming the flag."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["3125550002"]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--dry-run"]
    assert main([*command, "--default-region", "XX"]) == 2
    assert "--default-region must be a two-letter region code" in capsys.readouterr().err


def test_check_optouts_skips_who_sent_stop(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check-optouts reads messaging_optouts (every page) and skips those recipients."""
    opted_out = fake.optout_items[-1]["to"]  # on the last page of 20
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"], [opted_out]])
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--check-optouts"]
    assert main([*command, "--out", str(out)]) == 0
    assert [r.json["to"] for r in fake.requests if r.method == "POST" and r.json] == [
        "+13125550001"
    ]
    (skipped,) = [r for r in read(out) if r["status"] == "skipped"]
    assert skipped["error_code"] == "opted_out"
    assert skipped["error_title"].startswith("opted out (STOP to +1312555")


def test_columns_fill_every_send_argument(fake: FakeTelnyx, tmp_path: Path) -> None:
    """send_at, webhook_url, media_urls, subject, type and messaging_profile_id columns each
    go into the request as the library argument would send them."""
    profile = "4000eba1-a0c0-4563-9925-b25e842a7cb6"
    header = ["to", "send_at", "webhook_url", "media_urls", "subject", "type"]
    header.append("messaging_profile_id")
    row = ["+13125550001", "2099-12-24T14:00:00Z", "https://e.x/hook", "https://e.x/a.png"]
    row += ["Hello", "mms", profile]
    recipients = write_csv(tmp_path / "r.csv", header, [row])
    out = tmp_path / "o.csv"
    assert main(["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]) == 0
    (body,) = [r.json for r in fake.requests if r.json]
    assert body["send_at"] == "2099-12-24T14:00:00+00:00"
    assert body["webhook_url"] == "https://e.x/hook"
    assert body["media_urls"] == ["https://e.x/a.png"]
    assert (body["subject"], body["type"], body["messaging_profile_id"]) == (
        "Hello",
        "MMS",
        profile,
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("send_at", "tomorrow", "send_at must be an ISO 8601 date"),
        ("send_at", "2099-12-24T14:00:00", "send_at must be timezone-aware"),
        ("type", "FAX", "type must be SMS or MMS"),
        ("webhook_url", "ftp://e.x/hook", "webhook_url must be an http:// or https:// URL"),
        ("media_urls", "e.x/a.png", "every item of media_urls must be an http"),
    ],
)
def test_a_bad_cell_is_a_failed_row_with_its_reason(
    fake: FakeTelnyx, tmp_path: Path, column: str, value: str, reason: str
) -> None:
    """A cell the argument cannot take fails its row (invalid_argument, the reason without a
    row prefix) and the other rows are sent."""
    recipients = write_csv(
        tmp_path / "r.csv", ["to", column], [["+13125550001", ""], ["+13125550002", value]]
    )
    out = tmp_path / "o.csv"
    assert main(["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]) == 1
    (failed,) = [r for r in read(out) if r["status"] == "failed"]
    assert (failed["row"], failed["error_code"], failed["attempts"]) == (
        "2",
        "invalid_argument",
        "0",
    )
    assert failed["error_title"].startswith(reason)
    assert len(fake.messages) == 1


def test_a_row_refused_before_sending_is_sent_by_a_resume_once_corrected(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    """A bad number corrected in the CSV is sent by --resume; the rows sent before are not
    sent again."""
    rows = people(4)
    rows[2][0] = "312-555-0002"
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]
    assert main(command) == 1
    assert len(fake.messages) == 3
    rows[2][0] = "+13125550002"
    write_csv(recipients, ["to", "name"], rows)
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 4
    assert {r["status"] for r in read(out)} == {"sent"}


def refuse(number: str) -> object:
    def hook(request: RecordedRequest) -> Respond | None:
        if request.json and request.json.get("to") == number:
            return Respond(422, json={"errors": [{"code": "40310", "title": "Invalid 'to'"}]})
        return None

    return hook


def test_failed_rows_are_resent_with_corrected_data_via_only_failed_from(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row Telnyx refused, corrected in the CSV: --resume is refused naming the row as
    results.csv does and the flag to use; --only-failed-from sends that row only, and the new
    results hold every row with totals across runs."""
    rows = people(5)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}"]
    fake.fault_hook = refuse(rows[3][0])  # type: ignore[assignment]
    assert main([*command, "--out", str(out)]) == 1
    fake.fault_hook = None
    first_ids = {r["row"]: r["message_id"] for r in read(out)}
    rows[3][0] = "+13125559999"
    write_csv(recipients, ["to", "name"], rows)
    capsys.readouterr()
    assert main([*command, "--out", str(out), "--resume", "--retry-failed"]) == 2
    err = capsys.readouterr().err
    assert "row 4 of" in err
    assert "--only-failed-from" in err
    assert "journal" not in err.split("To send", 1)[1]  # no flag that does not exist
    again = tmp_path / "o2.csv"
    assert main([*command, "--only-failed-from", str(out), "--out", str(again)]) == 0
    assert len(fake.messages) == 5
    resent = {r["row"]: r for r in read(again)}
    assert resent["4"]["status"] == "sent"
    assert resent["4"]["to"] == "+13125559999"
    for n in ("1", "2", "3", "5"):
        assert resent[n]["status"] == "sent"
        assert resent[n]["error_code"] == "sent_earlier"
        assert resent[n]["message_id"] == first_ids[n]
    summary = "5 rows: 1 sent now; 4 were sent by an earlier run; 0 failed, 0 skipped"
    assert summary in capsys.readouterr().err


def test_only_failed_from_needs_every_row_in_its_place(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A corrected file with a row removed or moved is refused: the row numbers would point
    at other people."""
    rows = people(3)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi"]
    assert main([*command, "--out", str(out)]) == 0
    write_csv(recipients, ["to", "name"], [rows[1], rows[0], rows[2]])
    again = ["--only-failed-from", str(out), "--out", str(tmp_path / "o2.csv")]
    assert main([*command, *again]) == 2
    assert "keep every row in its place" in capsys.readouterr().err
    write_csv(recipients, ["to", "name"], rows[:2])
    assert main([*command, *again]) == 2
    assert "has 3 rows but" in capsys.readouterr().err
    assert main([*command, "--only-failed-from", str(out), "--out", str(out)]) == 2
    assert "is the --only-failed-from file" in capsys.readouterr().err
    assert len(fake.messages) == 3


def test_a_resumed_run_gives_totals_across_runs(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary of a resume counts the earlier run's failures, and exits 1 because of
    them, as it says."""
    rows = people(3)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]
    fake.fault_hook = refuse(rows[0][0])  # type: ignore[assignment]
    assert main(command) == 1
    assert "3 rows: 2 sent, 1 failed, 0 skipped; 3 requests" in capsys.readouterr().err
    fake.fault_hook = None
    assert main([*command, "--resume"]) == 1
    err = capsys.readouterr().err
    assert "3 rows: 0 sent now; 2 were sent by an earlier run; 1 failed (1 in an earlier" in err
    assert "0 requests" in err


def test_counts_are_said_in_the_singular_for_one(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One row, one message, one part, one request."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi"]
    assert main([*command, "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "1 row: 1 to send" in err
    assert "1 message: 1 SMS in 1 part" in err
    assert main([*command, "--out", str(tmp_path / "o.csv")]) == 0
    assert "1 row: 1 sent, 0 failed, 0 skipped; 1 request." in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version."""
    from telnyx_messaging import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"telnyx-messaging {__version__}"


def test_a_semicolon_separated_csv_gets_a_hint(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV saved with ';' is refused with a hint naming --delimiter, which then works."""
    path = tmp_path / "r.csv"
    path.write_text("to;name\n+13125550001;Ann\n", encoding="utf-8")
    command = ["send-bulk", str(path), *SENDER, "--text", "Hi {name}"]
    assert main(command) == 2
    assert "pass --delimiter ';'" in capsys.readouterr().err
    assert main([*command, "--delimiter", ";", "--out", str(tmp_path / "o.csv")]) == 0
    (message,) = fake.messages.values()
    assert message["text"] == "Hi Ann"


def test_a_missing_api_key_names_the_flag_and_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a key, send-bulk says TELNYX_API_KEY or --api-key (not AsyncClient(...)), and
    --api-key is then taken."""
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    assert main(["send-bulk", str(recipients), *SENDER, "--text", "Hi"]) == 2
    err = capsys.readouterr().err
    assert "TELNYX_API_KEY" in err
    assert "--api-key" in err
    assert "AsyncClient" not in err


def test_api_key_flag_is_used(
    fake: FakeTelnyx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--api-key sends with that key when the variable is not set."""
    monkeypatch.delenv("TELNYX_API_KEY")
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--api-key", fake.api_key]
    assert main([*command, "--out", str(tmp_path / "o.csv")]) == 0
    assert len(fake.messages) == 1


def test_phonenumbers_is_imported_only_with_default_region(tmp_path: Path) -> None:
    """The optional extra is not loaded by the package, the CLI or a run without
    --default-region."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    code = (
        "import sys\n"
        "import telnyx_messaging.recipients\n"
        "from telnyx_messaging._cli.main import main\n"
        f"main(['send-bulk', {str(recipients)!r}, '--from', '+1', '--text', 'Hi', '--dry-run'])\n"
        "assert 'phonenumbers' not in sys.modules\n"
        f"main(['send-bulk', {str(recipients)!r}, '--from', '+1', '--text', 'Hi', '--dry-run',"
        " '--default-region', 'US'])\n"
        "assert 'phonenumbers' in sys.modules\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_dry_run_prices_mms_apart_and_says_what_is_not_priced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An MMS is priced per message with --price-per-mms; a kind left without a price is
    named, never priced at an invented rate."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "media_urls"],
        [["+13125550001", "https://e.x/a.png"], ["+13125550002", ""]],
    )
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--dry-run"]
    assert main([*command, "--price-per-part", "0.004", "--price-per-mms", "0.02"]) == 0
    assert "1 part x 0.004 + 1 MMS x 0.02 = 0.024" in capsys.readouterr().err
    assert main([*command, "--price-per-part", "0.004"]) == 0
    assert "= 0.004 (MMS not priced: pass --price-per-mms)" in capsys.readouterr().err
    assert main([*command, "--price-per-mms", "0.02"]) == 0
    assert "= 0.02 (SMS not priced: pass --price-per-part)" in capsys.readouterr().err


def test_dry_run_with_check_optouts_reports_them_skipped(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dry run fetches opt-outs too (it then needs the key) and shows those rows skipped."""
    opted_out = fake.optout_items[0]["to"]
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"], [opted_out]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--dry-run"]
    assert main([*command, "--check-optouts"]) == 0
    rows = dry_rows(capsys.readouterr().out)
    assert [(r["status"], r["error_code"]) for r in rows] == [
        ("send", ""),
        ("skipped", "opted_out"),
    ]
    assert not fake.messages


def test_only_failed_from_counts_agree_in_progress_summary_and_results(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows sent by the earlier run are the same number in the progress line, the summary
    and the results file, each saying which were sent now and which before."""
    rows = people(5)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}"]
    fake.fault_hook = refuse(rows[1][0])  # type: ignore[assignment]
    assert main([*command, "--out", str(out)]) == 1
    fake.fault_hook = None
    rows[1][0] = "+13125559999"
    write_csv(recipients, ["to", "name"], rows)
    capsys.readouterr()
    again = tmp_path / "o2.csv"
    assert main([*command, "--only-failed-from", str(out), "--out", str(again)]) == 0
    err = capsys.readouterr().err
    assert "5/5: 1 sent now, 4 sent by an earlier run, 0 failed, 0 skipped;" in err
    assert "5 rows: 1 sent now; 4 were sent by an earlier run; 0 failed, 0 skipped" in err
    results = sorted(read(again), key=lambda r: int(r["row"]))
    assert [r["status"] for r in results] == ["sent"] * 5
    assert [r["error_code"] for r in results] == ["sent_earlier", "", *["sent_earlier"] * 3]
    assert "not sent" not in err


def test_every_number_made_e164_is_counted_a_skipped_duplicate_too(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cell rewritten and then skipped as a duplicate is still a number made E.164; the
    warning says how many of those rows are not sent."""
    recipients = write_csv(
        tmp_path / "r.csv", ["to"], [["(312) 555-0002"], ["312 555 0002"], ["3125550003"]]
    )
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--default-region", "US"]
    assert main([*command, "--skip-duplicates", "--out", str(tmp_path / "o.csv")]) == 0
    assert len(fake.messages) == 2
    err = capsys.readouterr().err
    assert "3 numbers made E.164 (1 of those rows not sent: see the results)" in err
    # A dry run says the same in the conditional, grammatically.
    command = [*command, "--skip-duplicates", "--dry-run", "--out", str(tmp_path / "d.csv")]
    main(command)
    err = capsys.readouterr().err
    assert "3 numbers made E.164 (1 of those rows would not be sent: see the report)" in err


def test_an_empty_to_fails_its_row_only(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with an empty 'to' is a failed row saying so; the other rows are sent."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "name"],
        [["+13125550001", "A"], [" ", "B"], ["+13125550003", "C"]],
    )
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}"]
    assert main([*command, "--dry-run"]) == 1
    assert [r["status"] for r in dry_rows(capsys.readouterr().out)] == ["send", "failed", "send"]
    assert main([*command, "--out", str(out)]) == 1
    assert len(fake.messages) == 2
    by_row = {r["row"]: r for r in read(out)}
    assert (by_row["2"]["status"], by_row["2"]["error_code"]) == ("failed", "invalid_argument")
    assert "'to' is empty" in by_row["2"]["error_title"]
    assert "3 rows: 2 sent, 1 failed, 0 skipped" in capsys.readouterr().err
