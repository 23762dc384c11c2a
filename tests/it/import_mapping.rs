//! `import csv` mappings, given / when / then: ids that follow content, constant stances and
//! topics, dates from parts and formats, several stances per row, membership spells, skipped
//! rows, per-row actor and topic columns, country-code schemes, TOML mapping files, dry runs.
//! Sheets are written here, small, so each test shows its whole input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use stancelog::core::{At, Day, EventBody, Filter};
use stancelog::import::sheet::{self, Spec};
use stancelog::import::{ImportReport, NoProgress};
use stancelog::store::Log;

use crate::support::{empty_log, json, run_log, stderr};

/// A sheet with this text at `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A mapping from TOML text (the same keys as the flags).
pub fn spec(toml: &str) -> Spec {
    Spec::from_toml("test", toml).unwrap()
}

/// Imports `file` into `log` (recorded 2030-01-01), writing.
pub fn import(log: &Path, file: &Path, spec: &Spec) -> ImportReport {
    let now = Day::parse("2030-01-01").unwrap().midnight_utc();
    crate::backends::on_log(log, |target| {
        sheet::import(
            target,
            file,
            spec,
            now,
            Duration::from_secs(5),
            false,
            &NoProgress,
        )
    })
    .unwrap()
}

/// Positions as of `day`: (actor, topic, stance) in (actor, topic) order.
pub fn positions(log: &Path, day: &str) -> Vec<(String, String, String)> {
    let log = Log::open(log).unwrap();
    log.history()
        .positions_at(At::day(Day::parse(day).unwrap()), &Filter::default())
        .iter()
        .map(|p| {
            (
                p.actor.to_string(),
                p.stance.topic.to_string(),
                p.stance.stance.to_string(),
            )
        })
        .collect()
}

fn triple(a: &str, t: &str, s: &str) -> (String, String, String) {
    (a.to_string(), t.to_string(), s.to_string())
}

fn counts(r: &ImportReport) -> (u64, u64, usize) {
    (r.appended, r.already_present, r.refused.len())
}

const VOTES: &str = "country,motion,vote,date\n\
KOR,m1,Y,2024-01-01\n\
JPN,m1,N,2024-01-01\n\
KOR,m2,N,2024-02-01\n";

const VOTES_SPEC: &str = r#"
actor-col = "country"
topic-col = "motion"
stance-col = "vote"
stance-map = ["Y=support,N=oppose"]
date-col = "date"
register = true
"#;

mod ids {
    use super::*;

    /// Given a sheet imported once: 2 actors + 2 topics + 3 stances.
    fn given() -> (tempfile::TempDir, PathBuf) {
        let (dir, log) = empty_log();
        let r = import(
            &log,
            &write(dir.path(), "votes.csv", VOTES),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (7, 0, 0));
        (dir, log)
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_renamed_copy_appends_nothing() {
        let (dir, log) = given();
        let r = import(
            &log,
            &write(dir.path(), "copy of votes.csv", VOTES),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (0, 3, 0));
    }
    }

    crate::backends::on_both_backends! {
    /// Regression: a copy saved with a UTF-8 byte order mark (Excel's "CSV UTF-8") had
    /// another default data set (the mark was part of the first name the fingerprint read),
    /// so every row was appended again.
    #[test]
    fn a_copy_saved_with_a_byte_order_mark_appends_nothing() {
        let (dir, log) = given();
        let marked = format!("\u{feff}{VOTES}");
        let r = import(
            &log,
            &write(dir.path(), "votes.csv", &marked),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (0, 3, 0));
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_copy_saved_with_crlf_appends_nothing() {
        let (dir, log) = given();
        let crlf = VOTES.replace('\n', "\r\n");
        let r = import(
            &log,
            &write(dir.path(), "votes.csv", &crlf),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (0, 3, 0));
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_reordered_copy_appends_nothing() {
        let (dir, log) = given();
        let mut lines: Vec<&str> = VOTES.lines().collect();
        lines[1..].reverse();
        let text = lines.join("\n") + "\n";
        let r = import(
            &log,
            &write(dir.path(), "votes.csv", &text),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (0, 3, 0));
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_row_inserted_at_the_top_appends_only_it() {
        let (dir, log) = given();
        let text = VOTES.replacen("date\n", "date\nCHN,m1,N,2024-01-01\n", 1);
        let r = import(
            &log,
            &write(dir.path(), "votes.csv", &text),
            &spec(VOTES_SPEC),
        );
        // CHN's registration and its stance.
        assert_eq!(counts(&r), (2, 3, 0));
        assert_eq!(positions(&log, "2024-12-31").len(), 4);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_extended_copy_appends_exactly_the_new_rows() {
        let (dir, log) = given();
        let text = format!("{VOTES}JPN,m2,Y,2024-02-01\nKOR,m1,Y,2024-03-01\n");
        let r = import(
            &log,
            &write(dir.path(), "votes-2.csv", &text),
            &spec(VOTES_SPEC),
        );
        assert_eq!(counts(&r), (2, 3, 0));
        assert_eq!(
            positions(&log, "2024-12-31"),
            vec![
                triple("JPN", "m1", "oppose"),
                triple("JPN", "m2", "support"),
                triple("KOR", "m1", "support"),
                triple("KOR", "m2", "oppose"),
            ]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn two_sheets_with_one_name_never_collide() {
        let (dir, log) = given();
        let other = tempfile::tempdir().unwrap();
        let text = "country,motion,vote,date\nUSA,m1,Y,2024-01-01\nKOR,m1,N,2024-01-01\n";
        let file = write(other.path(), "votes.csv", text);
        // Another data set: its own ids, even for KOR on m1 that day.
        let mut s = spec(VOTES_SPEC);
        s.dataset = Some("other-desk".to_string());
        let r = import(&log, &file, &s);
        // USA's registration and two stances.
        assert_eq!(counts(&r), (3, 0, 0));
        // The same data set: KOR's other vote on m1 that day is named, not appended.
        let r = import(&log, &file, &spec(VOTES_SPEC));
        assert_eq!(counts(&r), (1, 0, 1));
        assert_eq!(r.refused[0].line, 3);
        assert!(
            r.refused[0]
                .reason
                .contains("stance was support, is oppose"),
            "{:?}",
            r.refused
        );
        let _ = dir;
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn line_numbers_are_physical_lines_with_crlf_cr_and_quoted_breaks() {
        let (dir, log) = empty_log();
        let text = "country,motion,vote,date\r\nKOR,m1,Y,2024-01-01\r\n\"a\r\nb\",m1,Y,2024-01-01\r\n,m1,Y,2024-01-01\r\n";
        let r = import(&log, &write(dir.path(), "a.csv", text), &spec(VOTES_SPEC));
        let lines: Vec<u64> = r.refused.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![3, 5]);
        let cr = "country,motion,vote,date\rKOR,m1,Y,2024-01-01\r,m1,Y,2024-01-01\r";
        let r = import(&log, &write(dir.path(), "cr.csv", cr), &spec(VOTES_SPEC));
        assert_eq!(
            r.refused.iter().map(|x| x.line).collect::<Vec<_>>(),
            vec![3]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn blank_lines_keep_line_numbers_physical() {
        let (dir, log) = empty_log();
        let text = "country,motion,vote,date\nKOR,m1,Y,2024-01-01\n\n\n\nJPN,m1,Y,2024-13-01\n";
        let r = import(&log, &write(dir.path(), "b.csv", text), &spec(VOTES_SPEC));
        assert_eq!(r.refused.iter().map(|x| x.line).collect::<Vec<_>>(), vec![6]);
        let crlf = text.replace('\n', "\r\n").replace("JPN", "CHN");
        let r = import(&log, &write(dir.path(), "c.csv", &crlf), &spec(VOTES_SPEC));
        assert_eq!(r.refused.iter().map(|x| x.line).collect::<Vec<_>>(), vec![6]);
        // Regression: an error that stops the import (text not UTF-8) named the first blank
        // line before its row (line 3), with LF and CRLF line ends alike.
        for (name, end) in [("u.csv", "\n"), ("v.csv", "\r\n")] {
            let mut bytes = format!("country,motion,vote,date{end}KOR,m1,Y,2024-01-01{end}{end}{end}{end}")
                .into_bytes();
            bytes.extend_from_slice(b"J\xe9N,m1,Y,2024-01-01\n");
            let file = dir.path().join(name);
            std::fs::write(&file, &bytes).unwrap();
            let e = crate::backends::on_log(&log, |target| sheet::import(
                target,
                &file,
                &spec(VOTES_SPEC),
                Day::parse("2030-01-01").unwrap().midnight_utc(),
                Duration::from_secs(5),
                true,
                &NoProgress,
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains(&format!("{}:6:", file.display())), "{e}");
        }
    }
    }

    const MOTIONS: &str =
        "country,motion,vote,date\nUSA,m1,Y,2020-05-03\nFRA,m1,N,2020-05-03\nGBR,m1,X,2020-05-03\n";

    fn motions_spec(extra: &str) -> Spec {
        spec(&format!(
            "actor-col = \"country\"\ntopic-col = \"motion\"\ntopic-kind = \"vote\"\nstance-col = \"vote\"\ndate-col = \"date\"\nregister = true\n{extra}"
        ))
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_fixed_stance_map_appends_only_the_rows_it_now_takes() {
        let (dir, log) = empty_log();
        let file = write(dir.path(), "sm.csv", MOTIONS);
        let r = import(&log, &file, &motions_spec("stance-map = [\"Y=yes,N=no\"]\n"));
        // USA, FRA and m1 registered, two stances; GBR's `X` refused.
        assert_eq!(counts(&r), (5, 0, 1));
        let r = import(
            &log,
            &file,
            &motions_spec("stance-map = [\"Y=yes,N=no,X=abstain\"]\n"),
        );
        // GBR's registration and its stance; USA's and FRA's are the same events.
        assert_eq!(counts(&r), (2, 2, 0));
        assert_eq!(
            positions(&log, "2020-12-31"),
            vec![
                triple("FRA", "m1", "no"),
                triple("GBR", "m1", "abstain"),
                triple("USA", "m1", "yes"),
            ]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_changed_skip_if_appends_only_the_rows_newly_taken() {
        let (dir, log) = empty_log();
        let file = write(dir.path(), "sm.csv", MOTIONS);
        let map = "stance-map = [\"Y=yes,N=no,X=abstain\"]\n";
        let r = import(&log, &file, &motions_spec(&format!("{map}skip-if = [\"vote=X\"]\n")));
        assert_eq!((counts(&r), r.skipped), ((5, 0, 0), 1));
        let r = import(&log, &file, &motions_spec(map));
        assert_eq!((counts(&r), r.skipped), ((2, 2, 0), 0));
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn one_statement_in_two_outlets_is_one_stance_and_a_citation() {
        let (dir, log) = empty_log();
        let text = "who,what,when,outlet\nKOR,m1,2024-01-01,Yonhap\nKOR,m1,2024-01-01,KBS\nKOR,m1,2024-01-01,Yonhap\n";
        let s = spec(
            "actor-col = \"who\"\ntopic-col = \"what\"\nstance = \"support\"\ndate-col = \"when\"\ncite-col = \"outlet\"\nregister = true\n",
        );
        let r = import(&log, &write(dir.path(), "s.csv", text), &s);
        assert_eq!((r.appended, r.cited, r.already_present), (4, 1, 1));
        let log = Log::open(&log).unwrap();
        let types: Vec<&str> = log.history().events().map(|e| e.body.type_name()).collect();
        assert_eq!(
            types,
            [
                "actor.registered",
                "topic.registered",
                "stance.declared",
                "stance.cited"
            ]
        );
    }
    }
}

mod features {
    use super::*;

    crate::backends::on_both_backends! {
    #[test]
    fn a_constant_stance_and_a_constant_topic_with_title_and_kind() {
        let (dir, log) = empty_log();
        let text = "Code,Ratified on\nFRA,2016-10-05\nIND,2016-10-02\n";
        let s = spec(
            r#"
actor-col = "Code"
stance = "ratified"
date-col = "Ratified on"
topic = "paris"
topic-title = "Paris Agreement"
topic-kind = "treaty"
register = true
"#,
        );
        let r = import(&log, &write(dir.path(), "t.csv", text), &s);
        assert_eq!(counts(&r), (5, 0, 0));
        let l = Log::open(&log).unwrap();
        let t = l
            .history()
            .topic(&stancelog::core::TopicId::new("paris").unwrap())
            .unwrap()
            .clone();
        assert_eq!(
            (t.title.as_str(), t.kind.as_str()),
            ("Paris Agreement", "treaty")
        );
        assert_eq!(
            positions(&log, "2016-10-03"),
            vec![triple("IND", "paris", "ratified")]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn dates_from_year_month_and_day_columns_are_never_invented() {
        let (dir, log) = empty_log();
        let text = "state,y,m,d\nFRA,1949,4,4\nDEU,1955,5,-9\nESP,1982,,\nPRT,NA,1,1\n";
        let s = spec(
            "actor-col = \"state\"\ntopic = \"nato\"\nstance = \"support\"\nyear-col = \"y\"\nmonth-col = \"m\"\nday-col = \"d\"\nregister = true\n",
        );
        let r = import(&log, &write(dir.path(), "d.csv", text), &s);
        assert_eq!(r.refused.len(), 1);
        assert_eq!(
            (r.refused[0].line, r.refused[0].reason.as_str()),
            (
                5,
                "column `y` (--year-col): year `NA` marks a missing value (as NA, N/A, ., NaN and negative numbers do): the row has no date"
            )
        );
        let l = Log::open(&log).unwrap();
        let dates: Vec<String> = l
            .history()
            .events()
            .filter_map(|e| match e.body {
                EventBody::StanceDeclared(s) => Some(format!("{} {}", s.actor, s.date)),
                _ => None,
            })
            .collect();
        assert_eq!(dates, ["FRA 1949-04-04", "DEU 1955-05", "ESP 1982"]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn date_formats_in_strftime_style_name_the_refused_value() {
        for (format, cell, want) in [
            ("%d/%m/%Y", "05/10/2016", "2016-10-05"),
            ("%d %b %Y", "5 Oct 2016", "2016-10-05"),
            ("%Y-%m-%d %H:%M:%S", "2016-10-05 13:45:00", "2016-10-05"),
            ("%m/%Y", "10/2016", "2016-10"),
        ] {
            let d = sheet::DateFormat::parse(format)
                .unwrap()
                .date(cell)
                .unwrap();
            assert_eq!(d.to_string(), want, "{format}");
        }
        let e = sheet::DateFormat::parse("%d/%m/%Y")
            .unwrap()
            .date("2016-10-05")
            .unwrap_err();
        assert!(
            e.contains("`2016-10-05` does not match --date-format `%d/%m/%Y`"),
            "{e}"
        );
        let (dir, log) = empty_log();
        let text = "who,when\nFRA,05/10/2016\nIND,2016-10-02\n";
        let s = spec(
            "actor-col = \"who\"\ntopic = \"t\"\nstance = \"support\"\ndate-col = \"when\"\ndate-format = \"%d/%m/%Y\"\nregister = true\n",
        );
        let r = import(&log, &write(dir.path(), "f.csv", text), &s);
        assert_eq!(r.refused[0].line, 3);
        assert!(
            r.refused[0]
                .reason
                .contains("column `when` (--date-col): date `2016-10-02`"),
            "{}",
            r.refused[0].reason
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn date_formats_read_as_they_did_before_the_move_to_jiff() {
        // Values chrono 0.4.45 read; jiff's strtime must read them the same.
        for (format, cell, want) in [
            ("%d/%m/%Y", "1/3/2024", "2024-03-01"),
            ("%d/%m/%Y", " 1/3/2024", "2024-03-01"),
            ("%d %b %Y", "21 OCT 2024", "2024-10-21"),
            ("%d %b %Y", "21  Oct 2024", "2024-10-21"),
            ("%d %b %Y", "21\tOct 2024", "2024-10-21"),
            ("%d %B %Y", "21 october 2024", "2024-10-21"),
            // %B takes an abbreviated name too, as chrono's did.
            ("%d %B %Y", "21 Oct 2024", "2024-10-21"),
            ("%B %-d, %Y", "October 1, 2024", "2024-10-01"),
            ("%e %b %Y", " 5 Oct 2024", "2024-10-05"),
            ("%e %b %Y", "5 Oct 2024", "2024-10-05"),
            ("%-d/%-m/%Y", "5/3/2024", "2024-03-05"),
            ("%_d %b %Y", " 5 Oct 2024", "2024-10-05"),
            ("%h %d, %Y", "Oct 21, 2024", "2024-10-21"),
            ("%A, %d %B %Y", "Monday, 21 October 2024", "2024-10-21"),
            ("%Y", "0024", "0024"),
            ("%m/%Y", "1/2024", "2024-01"),
            (
                "%Y-%m-%dT%H:%M:%S%:z",
                "2024-10-21T15:30:00+09:00",
                "2024-10-21",
            ),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                "2024-10-21T15:30:00+0900",
                "2024-10-21",
            ),
            (
                "%Y-%m-%dT%H:%M:%S%.f",
                "2024-10-21T15:30:00.123",
                "2024-10-21",
            ),
            ("%Y-%m-%d %I:%M %p", "2024-10-21 03:30 pm", "2024-10-21"),
            ("%Y-%m-%d %T", "2024-10-21 15:30:00", "2024-10-21"),
            ("%F", "2024-10-21", "2024-10-21"),
            ("%Y%m%d", "20241021", "2024-10-21"),
            ("%Y%%", "2024%", "2024"),
        ] {
            let d = sheet::DateFormat::parse(format).unwrap().date(cell);
            assert_eq!(
                d.map(|d| d.to_string()),
                Ok(want.to_string()),
                "{format} {cell}"
            );
        }
        for (format, cell) in [
            ("%d %b %Y", "21 October 2024"),
            ("%d/%m/%Y", "001/03/2024"),
            ("%d/%m/%Y", "21/13/2024"),
            ("%d/%m/%Y", "31/02/2024"),
            ("%d/%m/%Y", "1/3/2024 "),
            ("%Y", "-44"),
            ("%d-%b-%Y", "21-Sept-2024"),
            // Regression (brk30 item 2): years 24, 924 and -24 were read as they were.
            ("%Y", "24"),
            ("%d/%m/%Y", "05/01/924"),
            ("%d/%m/%Y", "05/01/-24"),
            ("%d/%m/%Y", "05/01/-2024"),
        ] {
            let e = sheet::DateFormat::parse(format)
                .unwrap()
                .date(cell)
                .unwrap_err();
            assert!(
                e.starts_with(&format!(
                    "`{cell}` does not match --date-format `{format}`"
                )),
                "{e}"
            );
            assert!(!e.contains("strptime"), "{e}");
        }
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_date_format_jiff_or_a_date_cannot_read_is_refused_naming_the_specifier() {
        for (format, why) in [
            (
                "%d/%m/%y",
                "%y is a two-digit year or century: the century would be a guess",
            ),
            ("%D", "%D is a two-digit year"),
            ("%C%y", "%C is a two-digit year"),
            ("%j %Y", "%j (a day of the year or a week) is not read"),
            ("%Y %U", "%U (a day of the year or a week) is not read"),
            (
                "%Y-%m-%d %Z",
                "%Z is not supported; a date format takes %Y %m %d",
            ),
            ("%s", "%s is not supported"),
            ("%Q", "%Q is not supported"),
            ("%Y %q", "%q is not supported"),
            ("%Y%", "`%` ends the format; write %% for a percent sign"),
            ("%Y %3d", "%3d is not supported"),
            ("%Y %^b", "%^ is not supported"),
            ("%Y %é", "%é is not supported"),
        ] {
            let e = sheet::DateFormat::parse(format).unwrap_err();
            assert!(e.starts_with(&format!("`{format}`: ")), "{e}");
            assert!(e.contains(why), "{format}: {e}");
        }
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_signature_and_a_ratification_column_give_two_stances_with_the_instrument() {
        let (dir, log) = empty_log();
        let text = "Code,Signature,Ratification,Kind\n\
                    FRA,2016-04-22,2016-10-05,Approval\n\
                    USA,2016-04-22,2021-01-20,Acceptance\n\
                    IRN,2016-04-22,,\n\
                    PSE,,2016-04-22,Accession\n";
        let s = spec(
            r#"
actor-col = "Code"
topic = "paris"
topic-kind = "treaty"
event = ["signed=Signature", "ratified=Ratification"]
instrument-col = "Kind"
register = true
"#,
        );
        let r = import(&log, &write(dir.path(), "p.csv", text), &s);
        // 4 actors, 1 topic, 4 signatures... 3 signatures, 3 ratifications.
        assert_eq!(counts(&r), (11, 0, 0));
        assert_eq!(
            positions(&log, "2020-12-31"),
            vec![
                triple("FRA", "paris", "ratified"),
                triple("IRN", "paris", "signed"),
                triple("PSE", "paris", "ratified"),
                triple("USA", "paris", "signed"),
            ]
        );
        let l = Log::open(&log).unwrap();
        let instruments: Vec<String> = l
            .history()
            .events()
            .filter_map(|e| match e.body {
                EventBody::StanceDeclared(s) => s.instrument.map(|i| format!("{} {i}", s.actor)),
                _ => None,
            })
            .collect();
        assert_eq!(
            instruments,
            ["FRA approval", "USA acceptance", "PSE accession"]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn skipped_rows_are_reported_as_skipped_not_refused() {
        let (dir, log) = empty_log();
        let text = "country,motion,vote,date\nKOR,m1,Y,2024-01-01\nJPN,m1,absent,2024-01-01\nUSA,m1,absent,2024-01-01\n";
        let mut s = spec(VOTES_SPEC);
        s.skip_if = vec!["vote=absent".to_string()];
        let r = import(&log, &write(dir.path(), "v.csv", text), &s);
        assert_eq!(counts(&r), (3, 0, 0));
        assert_eq!(r.skipped, 2);
        assert_eq!(
            r.skipped_why.iter().collect::<Vec<_>>(),
            vec![(
                &"--skip-if vote=absent".to_string(),
                &2
            )]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn per_row_actor_name_kind_country_and_topic_title_columns() {
        let (dir, log) = empty_log();
        let text = "id,name,kind,country,topic,title,s,d\n\
                    kim,Kim Yong-hyun,person,KOR,t1,Troops abroad,support,2024-10-01\n\
                    nato,NATO,organization,IGO,t1,Troops abroad,oppose,2024-10-01\n\
                    x,Somebody,person,FRN,t1,Troops abroad,oppose,2024-10-01\n\
                    y,Someone,persn,KOR,t1,Troops abroad,oppose,2024-10-01\n";
        let s = spec(
            r#"
actor-col = "id"
actor-name-col = "name"
actor-kind-col = "kind"
actor-country-col = "country"
topic-col = "topic"
topic-title-col = "title"
stance-col = "s"
date-col = "d"
register = true
"#,
        );
        let r = import(&log, &write(dir.path(), "a.csv", text), &s);
        assert_eq!(r.refused.len(), 2);
        // A bad kind names its column (it named no column).
        assert!(
            r.refused[1]
                .reason
                .starts_with("column `kind` (--actor-kind-col): `persn` is not an actor kind"),
            "{}",
            r.refused[1].reason
        );
        // COW's France, not ISO's: the country is checked against ISO 3166, not only its shape.
        assert!(
            r.refused[0]
                .reason
                .contains("`FRN` is not an ISO 3166-1 alpha-3 code"),
            "{}",
            r.refused[0].reason
        );
        let l = Log::open(&log).unwrap();
        let h = l.history();
        let kim = h
            .actor(&stancelog::core::ActorId::new("kim").unwrap())
            .unwrap();
        assert_eq!(
            (kim.name.as_str(), kim.kind.as_str(), kim.country.as_str()),
            ("Kim Yong-hyun", "person", "KOR")
        );
        let nato = h
            .actor(&stancelog::core::ActorId::new("nato").unwrap())
            .unwrap();
        assert_eq!(
            (nato.kind.as_str(), nato.country.as_str()),
            ("organization", "IGO")
        );
        let t = h
            .topic(&stancelog::core::TopicId::new("t1").unwrap())
            .unwrap();
        assert_eq!(t.title, "Troops abroad");
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn country_schemes_are_explicit_so_cow_swz_is_switzerland_and_iso_swz_eswatini() {
        let (dir, log) = empty_log();
        let text = "code,d\nSWZ,2000-01-01\nAUS,2000-01-01\n";
        let file = write(dir.path(), "c.csv", text);
        let base = "actor-col = \"code\"\ntopic = \"t\"\nstance = \"support\"\ndate-col = \"d\"\nregister = true\n";
        let mut cow = spec(base);
        cow.country_scheme = Some("cow-alpha".to_string());
        cow.dataset = Some("cow".to_string());
        import(&log, &file, &cow);
        let mut iso = spec(base);
        iso.country_scheme = Some("iso3".to_string());
        iso.dataset = Some("iso".to_string());
        import(&log, &file, &iso);
        let l = Log::open(&log).unwrap();
        let names: Vec<(String, String)> = l
            .history()
            .actors()
            .keys()
            .map(|a| (a.to_string(), l.history().actor(a).unwrap().name.clone()))
            .collect();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            names,
            vec![
                s("AUS", "Australia"),
                s("AUT", "Austria"),
                s("CHE", "Switzerland"),
                s("SWZ", "Eswatini"),
            ]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn numeric_schemes_cow_gw_and_iso() {
        let (dir, log) = empty_log();
        let text = "code,d\n255,2000-01-01\n260,2000-01-01\n267,2000-01-01\n";
        let file = write(dir.path(), "n.csv", text);
        let base = "actor-col = \"code\"\ntopic = \"t\"\nstance = \"support\"\ndate-col = \"d\"\nregister = true\n";
        let mut gw = spec(base);
        gw.country_scheme = Some("gw".to_string());
        let r = import(&log, &file, &gw);
        // GW 260 is Germany; GW 255 is Germany (Prussia) too: one actor, one key, other...
        // the same stance, so already present; GW 267 (Baden) has no ISO code: refused.
        assert_eq!(counts(&r), (3, 1, 1));
        assert!(
            r.refused[0].reason.contains("Baden"),
            "{}",
            r.refused[0].reason
        );
        assert_eq!(
            positions(&log, "2000-01-01"),
            vec![triple("DEU", "t", "support")]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_dry_run_writes_nothing_and_says_what_would_be_appended() {
        let (dir, log) = empty_log();
        let file = write(dir.path(), "votes.csv", VOTES);
        let now = Day::parse("2030-01-01").unwrap().midnight_utc();
        let r = crate::backends::on_log(&log, |target| sheet::import(
            target,
            &file,
            &spec(VOTES_SPEC),
            now,
            Duration::from_secs(5),
            true,
            &NoProgress,
        ))
        .unwrap();
        assert!(r.dry_run);
        assert_eq!(counts(&r), (7, 0, 0));
        assert_eq!(std::fs::read(&log).unwrap(), Vec::<u8>::new());
        // What it shows is what an import then appends, in order, id for id.
        let stored = import(&log, &file, &spec(VOTES_SPEC));
        assert_eq!(counts(&stored), (7, 0, 0));
        let appended: Vec<stancelog::store::Record> = Log::open(&log)
            .unwrap()
            .history()
            .events()
            .map(|e| {
                let mut r = stancelog::store::Record::from_body(&e.body);
                r.id = Some(e.id.hyphenated().to_string());
                r
            })
            .collect();
        assert_eq!(appended.len(), 7);
        assert_eq!(r.would_append, appended);
        assert!(stored.would_append.is_empty());
    }
    }
}

mod spells {
    use super::*;

    const SPEC: &str = r#"
actor-col = "state"
topic = "nato"
topic-title = "NATO membership"
from-col = "from"
until-col = "until"
open-value = ["9999-12-31"]
register = true
"#;

    fn run(rows: &[&str], until: &str) -> (tempfile::TempDir, PathBuf) {
        let (dir, log) = empty_log();
        let text = format!("state,from,until\n{}\n", rows.join("\n"));
        let mut s = spec(SPEC);
        s.until = Some(until.to_string());
        let r = import(&log, &write(dir.path(), "m.csv", &text), &s);
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        (dir, log)
    }

    fn at(log: &Path, day: &str) -> Vec<String> {
        positions(log, day)
            .into_iter()
            .map(|(a, _, s)| format!("{a} {s}"))
            .collect()
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_inclusive_end_is_the_last_day_of_membership() {
        let (_d, log) = run(
            &["FRA,1949-04-04,1966-07-01", "USA,1949-04-04,9999-12-31"],
            "inclusive",
        );
        assert_eq!(at(&log, "1966-07-01"), ["FRA member", "USA member"]);
        assert_eq!(at(&log, "1966-07-02"), ["FRA not_member", "USA member"]);
        assert_eq!(at(&log, "1949-04-03"), Vec::<String>::new());
        let l = Log::open(&log).unwrap();
        let t = l
            .history()
            .topic(&stancelog::core::TopicId::new("nato").unwrap())
            .unwrap()
            .clone();
        assert_eq!(t.kind.as_str(), "membership");
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_exclusive_end_is_the_first_day_out() {
        let (_d, log) = run(&["FRA,1949-04-04,1966-07-01"], "exclusive");
        assert_eq!(at(&log, "1966-06-30"), ["FRA member"]);
        assert_eq!(at(&log, "1966-07-01"), ["FRA not_member"]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_inclusive_end_of_a_month_or_year_takes_effect_the_period_after() {
        let (_d, log) = run(&["FRA,1949-04,1966-06", "DEU,1955,1990"], "inclusive");
        assert_eq!(at(&log, "1966-06-30"), ["DEU member", "FRA member"]);
        assert_eq!(at(&log, "1966-07-01"), ["DEU member", "FRA not_member"]);
        assert_eq!(at(&log, "1990-12-31"), ["DEU member", "FRA not_member"]);
        assert_eq!(at(&log, "1991-01-01"), ["DEU not_member", "FRA not_member"]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_exit_and_a_reentry_on_one_day_leave_a_member_in_any_order_and_runs() {
        // Exclusive: the first spell ends on the day the second begins.
        let rows = ["FRA,1949-04-04,2009-04-04", "FRA,2009-04-04,9999-12-31"];
        for order in [[0, 1], [1, 0]] {
            let (_d, log) = run(&[rows[order[0]], rows[order[1]]], "exclusive");
            assert_eq!(at(&log, "2009-04-04"), ["FRA member"], "{order:?}");
            assert_eq!(at(&log, "2020-01-01"), ["FRA member"], "{order:?}");
            // In two runs.
            let (dir, log) = empty_log();
            let mut s = spec(SPEC);
            s.until = Some("exclusive".to_string());
            for i in order {
                let f = write(
                    dir.path(),
                    "m.csv",
                    &format!("state,from,until\n{}\n", rows[i]),
                );
                import(&log, &f, &s);
            }
            assert_eq!(at(&log, "2009-04-04"), ["FRA member"], "two runs {order:?}");
        }
        // Inclusive: the first spell's last day is the day before the second begins.
        let (_d, log) = run(
            &["FRA,2009-04-04,9999-12-31", "FRA,1949-04-04,2009-04-03"],
            "inclusive",
        );
        assert_eq!(at(&log, "2009-04-04"), ["FRA member"]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn spell_ends_from_year_month_day_columns_and_open_values() {
        let (dir, log) = empty_log();
        let text = "ccode,sy,sm,sd,ey,em,ed\n\
                    2,1816,1,1,2016,12,31\n\
                    255,1816,1,1,1945,5,8\n\
                    255,1990,10,3,2016,12,31\n";
        let s = spec(
            r#"
actor-col = "ccode"
country-scheme = "cow"
topic = "cow-system"
from-year-col = "sy"
from-month-col = "sm"
from-day-col = "sd"
until-year-col = "ey"
until-month-col = "em"
until-day-col = "ed"
open-value = ["2016"]
register = true
"#,
        );
        let r = import(&log, &write(dir.path(), "states.csv", text), &s);
        // A topic, two actors, USA's entry, DEU's entry, exit and re-entry.
        assert_eq!(counts(&r), (7, 0, 0), "{:?}", r.refused);
        let at = |d| {
            positions(&log, d)
                .into_iter()
                .map(|(a, _, s)| format!("{a} {s}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(at("1945-05-08"), ["DEU member", "USA member"]);
        assert_eq!(at("1945-05-09"), ["DEU not_member", "USA member"]);
        assert_eq!(at("2024-01-01"), ["DEU member", "USA member"]);
    }
    }
}

/// Flags over a mapping file: a flag of a group of alternatives replaces the file's group, but
/// a month or day column alone adds to the file's year column (`--day-col` over a file's
/// year and month columns dropped them, then refused the day alone).
#[test]
fn a_flag_replaces_the_files_alternatives_but_a_day_column_adds_to_its_year() {
    let file = spec("actor-col = \"a\"\ntopic = \"t1\"\nyear-col = \"y\"\nmonth-col = \"m\"\n");
    let flag = |f: fn(&mut Spec)| {
        let mut s = Spec::default();
        f(&mut s);
        file.clone().overridden_by(s)
    };
    let s = flag(|s| s.day_col = Some("d".into()));
    assert_eq!(
        (
            s.year_col.as_deref(),
            s.month_col.as_deref(),
            s.day_col.as_deref()
        ),
        (Some("y"), Some("m"), Some("d"))
    );
    let s = flag(|s| s.date_col = Some("when".into()));
    assert_eq!(
        (s.date_col.as_deref(), s.year_col, s.month_col, s.day_col),
        (Some("when"), None, None, None)
    );
    let s = flag(|s| s.topic_col = Some("motion".into()));
    assert_eq!((s.topic_col.as_deref(), s.topic), (Some("motion"), None));
    assert_eq!(s.actor_col.as_deref(), Some("a"));
}

mod cli {
    use super::*;

    crate::backends::on_both_backends! {
    #[test]
    fn a_mapping_file_with_flags_over_it_and_exit_2_on_refused_rows() {
        let (dir, log) = empty_log();
        let file = write(
            dir.path(),
            "votes.csv",
            &format!("{VOTES}USA,m1,maybe,2024-01-01\n"),
        );
        let mapping = write(dir.path(), "votes.toml", VOTES_SPEC);
        let run = |extra: &[&str]| {
            let mut args = vec![
                "import",
                "csv",
                file.to_str().unwrap(),
                "--mapping",
                mapping.to_str().unwrap(),
                "--format",
                "json",
            ];
            args.extend_from_slice(extra);
            run_log(&log, &args, None)
        };
        let o = run(&["--dry-run"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("nothing was written (--dry-run)"),
            "{}",
            stderr(&o)
        );
        assert_eq!(json(&o)["appended"], 7);
        let shown = json(&o)["would_append"].as_array().unwrap().clone();
        assert_eq!(shown.len(), 7);
        assert_eq!(
            (&shown[0]["type"], &shown[0]["actor"], &shown[6]["type"], &shown[6]["date"]),
            (
                &serde_json::json!("actor.registered"),
                &serde_json::json!("KOR"),
                &serde_json::json!("stance.declared"),
                &serde_json::json!("2024-02-01")
            )
        );
        assert_eq!(std::fs::read(&log).unwrap(), Vec::<u8>::new());
        // A flag overrides the file: the map makes `maybe` neutral.
        let o = run(&["--stance-map", "Y=support,N=oppose,maybe=neutral"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(json(&o)["appended"], 9);
        // A flag replaces the file's alternatives to it: one stance over the file's stance
        // column, one date over its date column (refused as "give --stance-col or --stance,
        // not both"); every row then takes them, so `maybe` is no longer refused.
        let o = run(&["--stance", "oppose", "--date", "2025-03-01", "--dry-run"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let shown = json(&o)["would_append"].as_array().unwrap().clone();
        let stances: Vec<(&str, &str)> = shown
            .iter()
            .filter(|e| e["type"] == "stance.declared")
            .map(|e| (e["stance"].as_str().unwrap(), e["date"].as_str().unwrap()))
            .collect();
        assert_eq!(stances, [("oppose", "2025-03-01"); 4]);
        // A mapping key that is no flag is a usage error naming it.
        let bad = write(dir.path(), "bad.toml", "actor-column = \"x\"\n");
        let o = run_log(
            &log,
            &[
                "import",
                "csv",
                file.to_str().unwrap(),
                "--mapping",
                bad.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("actor-column"), "{}", stderr(&o));
        // A mapping that is not UTF-8 is bad input at its line (it was an I/O error, exit 1).
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"actor-col = \"actor\"\ntopic = \"caf\xe9\"\n").unwrap();
        let o = run_log(
            &log,
            &["import", "csv", file.to_str().unwrap(), "--mapping", latin1.to_str().unwrap()],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!(
                "stancelog: error: {}:2: not UTF-8 text: a TOML mapping is UTF-8\n",
                latin1.display()
            )
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn an_unsupported_date_format_is_refused_once_before_any_row_naming_the_flag() {
        let (dir, log) = empty_log();
        let file = write(
            dir.path(),
            "f.csv",
            "who,when\nFRA,05/10/16\nIND,02/10/16\nUSA,03/09/16\n",
        );
        let o = run_log(
            &log,
            &[
                "import",
                "csv",
                file.to_str().unwrap(),
                "--actor-col",
                "who",
                "--topic",
                "t",
                "--stance",
                "support",
                "--date-col",
                "when",
                "--date-format",
                "%d/%m/%y",
                "--register",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).trim_end(),
            "stancelog: error: --date-format: `%d/%m/%y`: %y is a two-digit year or century: the century would be a guess; write %Y (the year in full)"
        );
        assert_eq!(std::fs::read(&log).unwrap(), Vec::<u8>::new());
    }
    }
}

mod permutations {
    use proptest::prelude::*;

    use super::*;

    /// Imports `rows` (after `header`) in `runs` runs of consecutive slices, each its own
    /// file, into a new log; the positions on each of `days`.
    fn positions_after(
        header: &str,
        rows: &[String],
        runs: usize,
        s: &Spec,
        days: &[&str],
    ) -> Vec<Vec<(String, String, String)>> {
        let (dir, log) = empty_log();
        let per = rows.len().div_ceil(runs.max(1)).max(1);
        for (i, part) in rows.chunks(per).enumerate() {
            let text = format!("{header}\n{}\n", part.join("\n"));
            let f = write(dir.path(), &format!("run-{i}.csv"), &text);
            let r = import(&log, &f, s);
            assert!(r.refused.is_empty(), "{:?}", r.refused);
        }
        days.iter().map(|d| positions(&log, d)).collect()
    }

    /// Votes with one stance per (actor, topic, date), in any order.
    fn votes() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::btree_map((0..4usize, 0..3usize, 1..6u32), 0..3usize, 1..14).prop_map(
            |m| {
                m.into_iter()
                    .map(|((a, t, d), s)| {
                        let actor = ["KOR", "JPN", "USA", "CHN"][a];
                        let stance = ["Y", "N", "A"][s];
                        format!("{actor},m{t},{stance},2024-01-0{d}")
                    })
                    .collect()
            },
        )
    }

    /// Membership spells of three states, end-to-end or with gaps, ends exclusive, some open.
    fn spells() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec((0..3usize, 0..4u32, 0..3u32, any::<bool>()), 1..9).prop_map(
            |v| {
                let mut out = Vec::new();
                let mut next = [2000u32; 3];
                for (a, gap, len, open) in v {
                    let from = next[a] + gap;
                    let until = from + len + 1;
                    next[a] = until;
                    let end = if open {
                        "9999-12-31".to_string()
                    } else {
                        format!("{until}-01-01")
                    };
                    out.push(format!("{},{from}-01-01,{end}", ["FRA", "DEU", "ITA"][a]));
                }
                out
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn any_permutation_of_a_sheets_rows_in_any_runs_gives_the_same_positions(
            (rows, shuffled) in votes().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            runs in 1..4usize,
        ) {
            let s = spec(VOTES_SPEC.replace("Y=support,N=oppose", "Y=support,N=oppose,A=abstain").as_str());
            let days = ["2024-01-02", "2024-01-04", "2024-12-31"];
            let header = "country,motion,vote,date";
            let want = positions_after(header, &rows, 1, &s, &days);
            prop_assert_eq!(positions_after(header, &shuffled, runs, &s, &days), want);
        }

        #[test]
        fn any_permutation_of_membership_spells_in_any_runs_gives_the_same_positions(
            (rows, shuffled) in spells().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            runs in 1..4usize,
        ) {
            let mut s = spec("actor-col = \"state\"\ntopic = \"eu\"\nfrom-col = \"from\"\nuntil-col = \"until\"\nopen-value = [\"9999-12-31\"]\nregister = true\n");
            s.until = Some("exclusive".to_string());
            let days: Vec<String> = (2000..2040).map(|y| format!("{y}-01-01")).collect();
            let days: Vec<&str> = days.iter().map(String::as_str).collect();
            let header = "state,from,until";
            let want = positions_after(header, &rows, 1, &s, &days);
            prop_assert_eq!(positions_after(header, &shuffled, runs, &s, &days), want);
        }
    }
}

/// The README's mapping files on the real tables they are written for.
#[cfg(feature = "real-data")]
mod real {
    use super::*;

    /// The TOML block of the README that follows `after`.
    fn readme_toml(after: &str) -> String {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        let from = readme.find(after).expect("README section");
        let rest = &readme[from..];
        let start = rest.find("```toml\n").unwrap() + "```toml\n".len();
        rest[start..start + rest[start..].find("```").unwrap()].to_string()
    }

    crate::backends::on_both_backends! {
    #[test]
    fn the_readme_ratification_mapping_gives_each_partys_status_as_the_table_says() {
        let file = PathBuf::from(std::env::var_os("STANCELOG_DATA").unwrap())
            .join("treaty-ratifications/paris-agreement-entry-into-force.csv");
        let (_d, log) = empty_log();
        let r = import(&log, &file, &spec(&readme_toml("A ratification table")));
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        // Independently: each row's status on a day is `ratified` from its ratification date,
        // else `signed` from its signature date (ISO dates compare as text).
        let mut rdr = csv::Reader::from_path(&file).unwrap();
        for day in ["2016-06-30", "2016-12-31", "2018-12-31", "2023-01-01"] {
            let mut want: Vec<(String, String, String)> = rdr
                .records()
                .map(|x| x.unwrap())
                .filter_map(|x| {
                    let status = if !x[3].is_empty() && &x[3] <= day {
                        "ratified"
                    } else if !x[2].is_empty() && &x[2] <= day {
                        "signed"
                    } else {
                        return None;
                    };
                    Some(triple(&x[0], "paris-agreement", status))
                })
                .collect();
            want.sort();
            // (Positions are listed by country name; compared here as sets, by id.)
            let mut got = positions(&log, day);
            got.sort();
            assert_eq!(got, want, "{day}");
            rdr = csv::Reader::from_path(&file).unwrap();
        }
    }
    }
}

/// Rows and mappings refused (or skipped) with a message naming the column at fault.
mod refusals {
    use super::*;

    /// The reasons of the rows refused, in file order.
    fn reasons(r: &ImportReport) -> Vec<(u64, String)> {
        r.refused
            .iter()
            .map(|x| (x.line, x.reason.clone()))
            .collect()
    }

    crate::backends::on_both_backends! {
    /// Regression: an exclusive end of a month the spell starts inside (GBR from 1973-09-15
    /// until 1973-09) was appended as `not_member` from 1973-09-01, before `member` from
    /// 1973-09-15, so GBR read as a member for good; so did an empty spell (FRA, from and until
    /// 1973-09-01), its `not_member` ordered before the `member` of the same day.
    #[test]
    fn an_exclusive_end_whose_first_day_is_not_after_the_start_is_refused() {
        let (dir, log) = empty_log();
        let text = "c,s,e\nGBR,1973-09-15,1973-09\nFRA,1973-09-01,1973-09-01\nITA,1973-09-15,1973-10\n";
        let s = spec("actor-col = \"c\"\ntopic = \"un-m\"\nfrom-col = \"s\"\nuntil-col = \"e\"\nuntil = \"exclusive\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "x.csv", text), &s);
        assert_eq!(
            reasons(&r),
            vec![
                (2, "column `e` (--until-col): the spell ends 1973-09 (exclusive: not a member from 1973-09-01), no later than it starts (1973-09-15)".to_string()),
                (3, "column `e` (--until-col): the spell ends 1973-09-01 (exclusive: not a member from 1973-09-01), no later than it starts (1973-09-01)".to_string()),
            ]
        );
        // ITA's spell ends on 1973-10-01, its exclusive end.
        let at = |d: &str| positions(&log, d);
        assert_eq!(at("1973-09-30"), vec![triple("ITA", "un-m", "member")]);
        assert_eq!(at("1973-10-01"), vec![triple("ITA", "un-m", "not_member")]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_spell_ending_before_it_starts_is_refused_naming_the_end_and_both_dates() {
        let (dir, log) = empty_log();
        let text = "c,s,e\nDEU,1990-10-03,1955-05-06\nFRA,1949-04-04,\n";
        let s = spec("actor-col = \"c\"\ntopic = \"nato\"\nfrom-col = \"s\"\nuntil-col = \"e\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "s.csv", text), &s);
        assert_eq!(
            reasons(&r),
            vec![(2, "column `e` (--until-col): the spell ends 1955-05-06, before it starts (1990-10-03)".to_string())]
        );
        let parts = "c,sy,ey,em\nDEU,1990,1955,5\n";
        let s = spec("actor-col = \"c\"\ntopic = \"nato\"\nfrom-year-col = \"sy\"\nuntil-year-col = \"ey\"\nuntil-month-col = \"em\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "p.csv", parts), &s);
        assert_eq!(
            reasons(&r),
            vec![(2, "column `ey` (--until-year-col): the spell ends 1955-05, before it starts (1990)".to_string())]
        );
    }
    }

    crate::backends::on_both_backends! {
    /// Regression: an inclusive end on the last day there is was refused without naming the
    /// column it came from ("the spell's end 9999-12-31 has no day after it").
    #[test]
    fn an_inclusive_end_with_no_day_after_it_is_refused_naming_its_column_and_the_open_value() {
        let (dir, log) = empty_log();
        let text = "c,s,e\nDEU,1955-05-06,9999-12-31\n";
        let s = spec("actor-col = \"c\"\ntopic = \"nato\"\nfrom-col = \"s\"\nuntil-col = \"e\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "s.csv", text), &s);
        assert_eq!(
            reasons(&r),
            vec![(2, "column `e` (--until-col): the spell's end 9999-12-31 has no day after it, where an inclusive end takes effect (if `9999-12-31` means still a member, pass --open-value 9999-12-31)".to_string())]
        );
        let parts = "c,sy,ey\nDEU,1955,9999\n";
        let s = spec("actor-col = \"c\"\ntopic = \"nato\"\nfrom-year-col = \"sy\"\nuntil-year-col = \"ey\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "p.csv", parts), &s);
        assert_eq!(
            reasons(&r),
            vec![(2, "column `ey` (--until-year-col): the spell's end 9999 has no day after it, where an inclusive end takes effect (if `9999` means still a member, pass --open-value 9999)".to_string())]
        );
        // Named as open, it is: the actor is a member from its start on.
        let s = spec("actor-col = \"c\"\ntopic = \"nato\"\nfrom-col = \"s\"\nuntil-col = \"e\"\nregister = true\nopen-value = [\"9999-12-31\"]\n");
        let r = import(&log, &write(dir.path(), "s.csv", text), &s);
        assert_eq!(reasons(&r), vec![]);
        assert_eq!(positions(&log, "2024-01-01"), vec![triple("DEU", "nato", "member")]);
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_row_with_no_date_in_any_event_column_is_skipped_with_its_reason() {
        let (dir, log) = empty_log();
        let text = "c,s,r\nFRA,,\nDEU,2016-04-22,\n";
        let s = spec("actor-col = \"c\"\ntopic = \"paris\"\ntopic-kind = \"treaty\"\nevent = [\"signed=s\", \"ratified=r\"]\nregister = true\n");
        let r = import(&log, &write(dir.path(), "e.csv", text), &s);
        // FRA's row states nothing; DEU, paris and DEU's signature are appended.
        assert_eq!((counts(&r), r.skipped), ((3, 0, 0), 1));
        assert_eq!(
            r.skipped_why.into_iter().collect::<Vec<_>>(),
            vec![("no date in any --event column".to_string(), 1)]
        );
    }
    }

    crate::backends::on_both_backends! {
    #[test]
    fn cell_errors_name_their_column() {
        let (dir, log) = empty_log();
        let text = "a,t,v,y,m,d,i,r\n\
    USA,m1,ratified,2020,13,1,,2021-01-01\n\
    USA,m1,ratified,2020.0,1,1,,2021-01-01\n\
    USA,m1,ratified,2020,2,30,,2021-01-01\n\
    USA,m1,X,2020,2,3,,2021-01-01\n\
    USA,m1,ratified,2020,2,3,foo,2021-01-01\n\
    USA,m1,ratified,2020,2,3,,bar\n";
        let s = spec("actor-col = \"a\"\ntopic-col = \"t\"\ntopic-kind = \"treaty\"\nstance-col = \"v\"\nyear-col = \"y\"\nmonth-col = \"m\"\nday-col = \"d\"\ninstrument-col = \"i\"\nrecorded-col = \"r\"\nregister = true\n");
        let r = import(&log, &write(dir.path(), "p.csv", text), &s);
        let at = |line: u64, why: &str| (line, why.to_string());
        assert_eq!(
            reasons(&r),
            vec![
                at(2, "column `m` (--month-col): month `13` is not 1 to 12"),
                at(3, "column `y` (--year-col): year `2020.0` is not a number"),
                at(4, "column `d` (--day-col): `2020-02-30` is not a real calendar date"),
                at(5, "column `v` (--stance-col): stance `X` is not in --stance-map and is not a stance name"),
                at(6, "column `i` (--instrument-col): instrument `foo` is none of ratification, acceptance, approval, accession, provisional application"),
                at(7, "column `r` (--recorded-col): recorded time: `bar` is neither an RFC 3339 time nor a date (YYYY-MM-DD)"),
            ]
        );
    }
    }

    #[test]
    fn a_compact_date_is_quoted_as_written() {
        let e = sheet::parse_date("20160230").unwrap_err();
        assert_eq!(e, "`20160230` is not a real calendar date");
    }

    crate::backends::on_both_backends! {
    #[test]
    fn a_repeated_header_name_or_stance_map_key_is_refused_before_any_row() {
        let (dir, log) = empty_log();
        let dup = write(
            dir.path(),
            "dup.csv",
            "cc,motion,vote,vote,d\nUSA,m1,yes,no,2020-01-01\n",
        );
        let args = |extra: &[&'static str]| {
            let mut a = vec!["import", "csv", dup.to_str().unwrap(), "--actor-col", "cc"];
            a.extend_from_slice(&["--topic-col", "motion", "--topic-kind", "vote"]);
            a.extend_from_slice(&["--date-col", "d", "--register"]);
            a.extend_from_slice(extra);
            a
        };
        let o = run_log(&log, &args(&["--stance-col", "vote"]), None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("--stance-col `vote`: the header names 2 columns `vote` (columns 3, 4)"),
            "{}",
            stderr(&o)
        );
        let o = run_log(&log, &args(&["--stance-col", "3", "--stance-map", "yes=support,yes=oppose"]), None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("--stance-map: `yes` is mapped twice (to support and to oppose)"),
            "{}",
            stderr(&o)
        );
        // Nothing was appended: by column number the mapping is good.
        let o = run_log(&log, &args(&["--stance-col", "4"]), None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let stances = positions(&log, "2020-12-31");
        assert_eq!(stances, vec![triple("USA", "m1", "no")]);
    }
    }
}
