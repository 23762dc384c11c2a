//! `import icews`, `import gdelt`, `import plover`: coded event data on the import engine.
//! Records are written here, small; the shared samples are read by the `real` module.

use std::path::Path;
use std::time::Duration;

use stancelog::core::{Day, EventBody, PloverType, StanceDeclared};
use stancelog::import::coded::{
    self, CodedOptions, Format, plover_of_cameo_root, quad_of_cameo_root, quad_of_plover,
};
use stancelog::import::{ImportReport, NoProgress};
use stancelog::store::Log;

use crate::backends::on_both_backends;
use crate::import_mapping::write;
use crate::support::{empty_log, run_log, stderr};

fn import(log: &Path, file: &Path, format: Format, from_data: bool) -> ImportReport {
    try_import(log, file, format, from_data).unwrap()
}

/// Imports `file` into `log` (recorded 2030-01-01) on the current test backend.
fn try_import(
    log: &Path,
    file: &Path,
    format: Format,
    from_data: bool,
) -> stancelog::Result<ImportReport> {
    let opts = CodedOptions {
        dataset: None,
        now: Day::parse("2030-01-01").unwrap().midnight_utc(),
        wait: Duration::from_secs(5),
        dry_run: false,
        recorded_from_data: from_data,
    };
    crate::backends::on_log(log, |target| {
        coded::import(target, file, format, &opts, &NoProgress)
    })
}

fn stances(log: &Path) -> Vec<StanceDeclared> {
    Log::open(log)
        .unwrap()
        .history()
        .events()
        .filter_map(|e| match e.body {
            EventBody::StanceDeclared(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// (actor, recipient, topic, stance, event, date) of a stance.
fn summary(s: &StanceDeclared) -> String {
    format!(
        "{} -> {} on {}: {} ({}) {}",
        s.actor,
        s.recipient.as_ref().map_or("-", |r| r.as_str()),
        s.topic,
        s.stance,
        s.event.map_or("-".to_string(), |e| e.to_string()),
        s.date
    )
}

const ICEWS_HEAD: &str = "Event ID\tEvent Date\tSource Name\tSource Sectors\tSource Country\tEvent Text\tCAMEO Code\tIntensity\tTarget Name\tTarget Sectors\tTarget Country\tStory ID\tSentence Number\tPublisher\tCity\tDistrict\tProvince\tCountry\tLatitude\tLongitude";

on_both_backends! {
#[test]
fn icews_refusals_are_at_physical_lines_past_blank_lines() {
    let (dir, log) = empty_log();
    let ok = "1\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0";
    let bad = "5\t2018-06-02\tJapan\tNA\tJapan\tBad\t99\t0\tChina\tNA\tChina\t14\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0";
    let text = format!("{ICEWS_HEAD}\n{ok}\n\n\n{bad}\n");
    let r = import(&log, &write(dir.path(), "icews.tab", &text), Format::Icews, false);
    assert_eq!(r.refused.iter().map(|x| x.line).collect::<Vec<_>>(), [5]);
}
}

on_both_backends! {
/// Regression: a coded record's stance that does not fit its topic's kind (a topic the log
/// holds as a membership) was refused pointing to `--stance-map` and `--topic-kind`, which the
/// coded importers do not have; now the refusal says where the stance came from and why.
#[test]
fn a_coded_stance_on_a_topic_of_another_kind_is_refused_saying_why() {
    let (dir, log) = empty_log();
    let topic = br#"{"type":"topic.registered","topic":"CHN/cameo-04","title":"Club","kind":"membership"}"#;
    let o = run_log(&log, &["append", "-"], Some(topic));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let row = "1\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0";
    let text = format!("{ICEWS_HEAD}\n{row}\n");
    let r = import(&log, &write(dir.path(), "icews.tab", &text), Format::Icews, false);
    let reasons: Vec<(u64, &str)> = r.refused.iter().map(|x| (x.line, x.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [(2, "the event's quad class: stance `support` does not fit membership topic `CHN/cameo-04` (use one of: member, not_member; coded events go to policy topics; the log registered this one as another kind, which an import does not change)")]
    );
    assert_eq!(r.appended, 0);
}
}

/// Regression: an error that stops a coded import (text not UTF-8) named the csv crate's
/// record count (line 3: the blank lines not counted, a CR-only file one line), not the
/// physical line; now line 5 with LF, CRLF and CR line ends alike, for ICEWS and GDELT.
#[test]
fn coded_read_errors_name_the_physical_line() {
    let (dir, log) = empty_log();
    let ok = "1\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0";
    let gdelt_ok = gdelt_row(58, &[(1, "20180601")]);
    for (format, head, row) in [
        (Format::Icews, Some(ICEWS_HEAD), ok),
        (Format::Gdelt, None, gdelt_ok.as_str()),
    ] {
        for end in ["\n", "\r\n", "\r"] {
            let mut text = String::new();
            if let Some(h) = head {
                text += h;
                text += end;
            }
            text += row;
            text += end;
            let blank = if head.is_some() { 2 } else { 3 };
            text += &end.repeat(blank);
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(b"J\xe9N\t2018-06-02\n");
            let file = dir.path().join("bad.tab");
            std::fs::write(&file, &bytes).unwrap();
            let e = try_import(&log, &file, format, false)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("{}:5: not UTF-8 text", file.display())),
                "{format:?} {end:?}: {e}"
            );
        }
    }
}

on_both_backends! {
#[test]
fn icews_source_is_the_actor_target_the_recipient_and_outlets_are_citations() {
    let (dir, log) = empty_log();
    let rows = [
        "1\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0",
        "2\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t11\t1\tNHK\tNA\tNA\tNA\tJapan\t0\t0",
        "3\t2018-06-02\tForeign Affairs (Japan)\tExecutive,Foreign Ministry,Government\tJapan\tAccuse\t112\t-2\tChina\tNA\tChina\t12\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0",
        "4\t2018-06-02\tJapan\tNA\tJapan\tDemand\t1011\t-5\tChina\tNA\tChina\t13\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0",
        "5\t2018-06-02\tJapan\tNA\tJapan\tBad\t99\t0\tChina\tNA\tChina\t14\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0",
    ];
    let text = format!("{ICEWS_HEAD}\n{}\n", rows.join("\n"));
    let file = write(dir.path(), "icews.tab", &text);
    let r = import(&log, &file, Format::Icews, false);
    // Actors JPN, CHN, foreign-affairs-japan; 3 topics; 3 stances; one citation (NHK).
    assert_eq!((r.appended, r.cited, r.refused.len()), (10, 1, 1), "{r:?}");
    assert_eq!(r.refused[0].line, 6);
    assert!(
        r.refused[0].reason.contains("CAMEO code `99`"),
        "{:?}",
        r.refused
    );
    let got: Vec<String> = stances(&log).iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "JPN -> CHN on CHN/cameo-04: support (consult) 2018-06-01",
            "foreign-affairs-japan -> CHN on CHN/cameo-11: oppose (accuse) 2018-06-02",
            "JPN -> CHN on CHN/cameo-10: oppose (request) 2018-06-02",
        ]
    );
    let l = Log::open(&log).unwrap();
    let h = l.history();
    let fa = h
        .actor(&stancelog::core::ActorId::new("foreign-affairs-japan").unwrap())
        .unwrap();
    assert_eq!(
        (fa.kind.as_str(), fa.country.as_str(), fa.sector.as_str()),
        ("agency", "JPN", "GOV")
    );
    let t = h
        .topic(&stancelog::core::TopicId::new("CHN/cameo-10").unwrap())
        .unwrap();
    assert_eq!(t.title, "China: demand (CAMEO 10)");
    let first = &stances(&log)[0];
    assert_eq!(
        first.cite.title.as_deref(),
        Some("ICEWS event 1: Consult (CAMEO 040, intensity 1), story 10")
    );
    // Again, renamed: nothing new.
    let again = import(
        &log,
        &write(dir.path(), "copy.tab", &text),
        Format::Icews,
        false,
    );
    assert_eq!((again.appended, again.already_present), (0, 4));
}
}

/// A GDELT row of `n` fields (57, 58 or 61) with these values.
fn gdelt_row(n: usize, values: &[(usize, &str)]) -> String {
    let mut f = vec![String::new(); n];
    for (i, v) in values {
        f[*i] = v.to_string();
    }
    f.join("\t")
}

on_both_backends! {
#[test]
fn gdelt_1_and_2_rows_by_their_field_count_with_dateadded_as_recorded_time() {
    let (dir, log) = empty_log();
    let common = |id: &'static str,
                  a1: &'static str,
                  a2: &'static str,
                  code: &'static str,
                  quad: &'static str| {
        vec![
            (0, id),
            (1, "20160728"),
            (5, a1),
            (6, "NAME"),
            (7, if a1.len() == 3 { a1 } else { "USA" }),
            (12, if a1.len() == 3 { "" } else { "GOV" }),
            (15, a2),
            (17, a2),
            (26, code),
            (28, &code[..2]),
            (29, quad),
            (30, "-2.0"),
            (31, "4"),
        ]
    };
    let mut r1 = common("1", "USAGOV", "CHN", "112", "3");
    r1.extend([(56, "20160728"), (57, "http://news.example.org/a")]);
    let mut r2 = common("2", "RUS", "UKR", "190", "4");
    r2.extend([(59, "20160729103000"), (60, "https://example.com/b?x=1")]);
    let mut r3 = common("3", "USA", "", "040", "1");
    r3.push((56, "20160728"));
    let mut r4 = common("4", "USAGOV", "CHN", "112", "3");
    r4.extend([(56, "20160728"), (57, "http://other.example.net/c")]);
    let text = [
        gdelt_row(58, &r1),
        gdelt_row(58, &r4),
        gdelt_row(61, &r2),
        gdelt_row(57, &r3),
        gdelt_row(40, &[]),
        gdelt_row(58, &r1).replace("20160728\thttp", "20160727\thttp"),
    ]
    .join("\n");
    let file = write(dir.path(), "events.tsv", &format!("{text}\n"));
    let r = import(&log, &file, Format::Gdelt, true);
    // Line 2 is line 1 in another outlet: a citation. Line 4 has no Actor2Code: skipped.
    // Line 5 has 40 fields: refused. Line 6 is line 1 again, so already present, though
    // GDELT added it on a day before the row before it (only a row adding an event needs a
    // recorded time the log can still take).
    assert_eq!(r.skipped, 1);
    assert_eq!(r.already_present, 1);
    assert_eq!(r.refused.iter().map(|x| x.line).collect::<Vec<_>>(), [5]);
    assert_eq!(r.cited, 1, "{r:?}");
    let got: Vec<String> = stances(&log).iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "USAGOV -> CHN on CHN/cameo-11: oppose (accuse) 2016-07-28",
            "RUS -> UKR on UKR/cameo-19: oppose (assault) 2016-07-28",
        ]
    );
    let s = &stances(&log)[0];
    assert_eq!(s.cite.publication, "news.example.org");
    assert_eq!(
        s.cite.title.as_deref(),
        Some("GDELT 1.0 event 1: CAMEO 112, Goldstein -2.0, quad class 3, 4 mention(s)")
    );
    let l = Log::open(&log).unwrap();
    let recorded: Vec<String> = l
        .history()
        .events()
        .filter(|e| e.body.type_name() == "stance.declared")
        .map(|e| stancelog::store::format_recorded_at(&e.recorded_at))
        .collect();
    assert_eq!(
        recorded,
        ["2016-07-28T00:00:00.000000Z", "2016-07-29T10:30:00.000000Z"]
    );
    let usagov = l
        .history()
        .actor(&stancelog::core::ActorId::new("USAGOV").unwrap())
        .unwrap()
        .clone();
    assert_eq!(
        (usagov.kind.as_str(), usagov.country.as_str()),
        ("agency", "USA")
    );
}
}

on_both_backends! {
#[test]
fn plover_records_give_type_and_quad_class_directly() {
    let (dir, log) = empty_log();
    let text = "Event ID\tEvent Date\tEvent Type\tEvent Mode\tEvent Intensity\tQuad Code\tActor Name\tActor Country\tRecipient Name\tRecipient Country\tSource\n\
        e1\t2023-03-01\tSANCTION\twithdraw\t-7\t4: Material Conflict\tUnited States\tUnited States\tRussia\tRussia\tReuters\n\
        e2\t2023-03-02\tAID\t\t6\t\tEuropean Commission\tBelgium\tUkraine\tUkraine\tAFP\n\
        e3\t2023-03-02\tGOSSIP\t\t0\t\tUnited States\tUnited States\tRussia\tRussia\tAFP\n\
        e4\t2023-03-02\tCONSULT\t\t1\t\t\t\tRussia\tRussia\tAFP\n\
        e5\t20230301xyz\tAID\t\t6\t\tEuropean Commission\tBelgium\tUkraine\tUkraine\tAFP\n";
    let file = write(dir.path(), "polecat.tsv", text);
    let r = import(&log, &file, Format::Plover, false);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.refused.iter().map(|x| x.line).collect::<Vec<_>>(), [4, 6]);
    assert!(r.refused[0].reason.contains("GOSSIP"), "{:?}", r.refused);
    // A date cell longer than a day is quoted whole (it was quoted cut to 10 characters).
    assert!(
        r.refused[1]
            .reason
            .starts_with("Event Date `20230301xyz`, its first 10 characters: "),
        "{:?}",
        r.refused
    );
    let got: Vec<String> = stances(&log).iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "USA -> RUS on RUS/sanction: oppose (sanction) 2023-03-01",
            "european-commission -> UKR on UKR/aid: support (aid) 2023-03-02",
        ]
    );
}
}

on_both_backends! {
#[test]
fn a_plover_country_as_code_or_name_gives_one_actor_in_any_row_order() {
    let head = "Event ID\tEvent Date\tEvent Type\tEvent Mode\tEvent Intensity\tQuad Code\tActor Name\tActor Country\tRecipient Name\tRecipient Country\tSource";
    let e1 = "e1\t2023-03-05\taccuse\t\t-3\t3\tRussia\tRUS\tFrance\tFRA\tReuters";
    let e2 = "e2\t2023-03-06\taccuse\t\t-3\t3\tRussia\tRussia\tFrance\tFrance\tReuters";
    let (dir, log) = empty_log();
    let file = write(dir.path(), "pl.tsv", &format!("{head}\n{e1}\n{e2}\n"));
    let r = import(&log, &file, Format::Plover, false);
    // RUS, FRA, the topic and two stances.
    assert_eq!((r.appended, r.refused.len()), (5, 0), "{r:?}");
    let sorted = write(dir.path(), "pl-rev.tsv", &format!("{head}\n{e2}\n{e1}\n"));
    let r = import(&log, &sorted, Format::Plover, false);
    assert_eq!((r.appended, r.already_present), (0, 2), "{r:?}");
    let got: Vec<String> = stances(&log).iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "RUS -> FRA on FRA/accuse: oppose (accuse) 2023-03-05",
            "RUS -> FRA on FRA/accuse: oppose (accuse) 2023-03-06",
        ]
    );
}
}

on_both_backends! {
/// Regression (a new user's tryout): an ICEWS row cut short (10 of 20 fields) was imported with
/// its missing cells read as empty, and cells off the scale were copied into the citation's
/// title (GDELT's QuadClass `7` even replaced by the root's class, so the title stated a value
/// the row does not hold). Each is now refused, naming the column.
#[test]
fn coded_rows_cut_short_or_off_the_scale_are_refused_naming_the_column() {
    let (dir, log) = empty_log();
    let row = |id: &str, intensity: &str| {
        format!("{id}\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t{intensity}\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0")
    };
    let cut: String = row("2", "1").split('\t').take(10).collect::<Vec<_>>().join("\t");
    let text = [ICEWS_HEAD.to_string(), row("1", "-10"), cut, row("3", "x"), row("4", "10.5")];
    let file = write(dir.path(), "i.tab", &format!("{}\n", text.join("\n")));
    let r = import(&log, &file, Format::Icews, false);
    let reasons = |r: &ImportReport| -> Vec<(u64, String)> {
        r.refused.iter().map(|x| (x.line, x.reason.clone())).collect()
    };
    assert_eq!(
        reasons(&r),
        [
            (3, "has 10 fields where the header has 20".to_string()),
            (4, "Intensity `x` is not a number".to_string()),
            (5, "Intensity `10.5` is outside the Goldstein scale (-10 to 10)".to_string()),
        ]
    );
    assert_eq!(stances(&log).len(), 1);

    let gdelt = |id: &'static str,
                 day: &'static str,
                 root: &'static str,
                 quad: &'static str,
                 goldstein: &'static str| {
        let cells = [(0, id), (1, day), (5, "USA"), (15, "CHN"), (26, "051"), (28, root)];
        let more = [(29, quad), (30, goldstein), (31, "4"), (56, "20180601")];
        gdelt_row(58, &[&cells[..], &more[..]].concat())
    };
    // A header line on top (the codebook's names: GDELT's files have none) is skipped.
    let names: Vec<String> = (0..58).map(|i| if i == 0 { "globaleventid".into() } else { format!("c{i}") }).collect();
    let text = [
        names.join("\t"),
        gdelt("10", "20180601", "05", "1", "3.5"),
        gdelt("11", "20180601", "05", "7", "3.5"),
        gdelt("12", "20180601", "21", "1", "3.5"),
        gdelt("13", "20180601", "05", "1", "abc"),
        gdelt("14", "20180601", "05", "1", "-10.5"),
        gdelt("15", "2018-06-01", "05", "1", "3.5"),
    ]
    .join("\n");
    let file = write(dir.path(), "g.tsv", &format!("{text}\n"));
    let r = import(&log, &file, Format::Gdelt, false);
    assert_eq!(r.skipped_why.keys().collect::<Vec<_>>(), ["a header line (GLOBALEVENTID ...)"]);
    assert_eq!(
        reasons(&r),
        [
            (3, "QuadClass `7` is not 1 to 4".to_string()),
            (4, "EventRootCode `21` is not the root of EventCode (`05`)".to_string()),
            (5, "GoldsteinScale `abc` is not a number".to_string()),
            (6, "GoldsteinScale `-10.5` is outside the Goldstein scale (-10 to 10)".to_string()),
            (7, "SQLDATE `2018-06-01` is not a date YYYYMMDD".to_string()),
        ]
    );
    let titles: Vec<String> = stances(&log)
        .iter()
        .filter_map(|s| s.cite.title.clone())
        .collect();
    assert_eq!(
        titles,
        [
            "ICEWS event 1: Consult (CAMEO 040, intensity -10), story 10",
            "GDELT 1.0 event 10: CAMEO 051, Goldstein 3.5, quad class 1, 4 mention(s)",
        ]
    );
    // An empty file says so (it said "no `Event Date` column: not a icews file (the header
    // has: )").
    let empty = write(dir.path(), "empty.tab", "");
    let o = run_log(&log, &["import", "icews", empty.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty.tab:1: the file is empty: icews data starts with its header line (Event ID, Event Date, Source Name, ...)"),
        "{}",
        stderr(&o)
    );
    // A file without rows is refused as a sheet's is (exit 2), not taken for an import of
    // nothing (a header-only ICEWS file and an empty GDELT file exited 0).
    let header_only = write(dir.path(), "head.tab", &format!("{ICEWS_HEAD}\n"));
    let o = run_log(&log, &["import", "icews", header_only.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}:1: no rows: the file holds only a header\n",
            header_only.display()
        )
    );
    let o = run_log(&log, &["import", "gdelt", empty.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}: the file is empty: no rows\n",
            empty.display()
        )
    );
}
}

on_both_backends! {
#[test]
fn the_cameo_crosswalk_covers_every_root_with_its_quad_class() {
    let roots: Vec<String> = (1..=20).map(|n| format!("{n:02}")).collect();
    let quads: Vec<u8> = roots
        .iter()
        .map(|r| quad_of_cameo_root(r).unwrap())
        .collect();
    assert_eq!(
        quads,
        [1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4]
    );
    assert_eq!(plover_of_cameo_root("01"), None);
    // The PLOVER type's own quad class agrees with the CAMEO root's, but for appeal (02: CAMEO
    // verbal cooperation, PLOVER request verbal conflict), yield (08: material cooperation,
    // concede verbal), investigate (09: material cooperation in GDELT's classes, accuse
    // verbal conflict) and protest (14: verbal conflict in GDELT's, material in PLOVER's). The
    // stance of CAMEO data follows the CAMEO root's class.
    for r in &roots[1..] {
        let t = plover_of_cameo_root(r).unwrap();
        if !["02", "08", "09", "14"].contains(&r.as_str()) {
            assert_eq!(quad_of_plover(t), quad_of_cameo_root(r).unwrap(), "{r} {t}");
        }
    }
    assert_eq!(plover_of_cameo_root("10"), Some(PloverType::Request));
    assert_eq!(quad_of_cameo_root("21"), None);
}
}

on_both_backends! {
#[test]
fn the_cli_imports_coded_data_and_exits_2_on_refused_records() {
    let (dir, log) = empty_log();
    let text = format!(
        "{ICEWS_HEAD}\n1\t2018-06-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0\n"
    );
    let file = write(dir.path(), "i.tab", &text);
    let o = run_log(&log, &["import", "icews", file.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bad = write(
        dir.path(),
        "bad.tab",
        &format!(
            "{ICEWS_HEAD}\n1\t2018-13-01\tJapan\tNA\tJapan\tConsult\t040\t1\tChina\tNA\tChina\t10\t1\tKyodo\tNA\tNA\tNA\tJapan\t0\t0\n"
        ),
    );
    let o = run_log(&log, &["import", "icews", bad.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run_log(&log, &["import", "plover", file.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a plover file"), "{}", stderr(&o));
}
}

/// The shared samples: every row imported, cited, skipped or refused, as an independent count
/// of the file says.
#[cfg(feature = "real-data")]
mod real {
    use std::path::PathBuf;

    use super::*;

    fn data(p: &str) -> PathBuf {
        PathBuf::from(std::env::var_os("STANCELOG_DATA").expect("STANCELOG_DATA")).join(p)
    }

    fn rows(p: &str, header: bool) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(data(p)).unwrap();
        text.lines()
            .skip(usize::from(header))
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn the_icews_sample_imports_whole_and_again_appends_nothing() {
        let rows = rows("icews-sample/events.2018.sample.tab", true);
        assert_eq!(rows.len(), 3_705);
        let (_d, log) = empty_log();
        let file = data("icews-sample/events.2018.sample.tab");
        let r = import(&log, &file, Format::Icews, false);
        assert!(
            r.refused.is_empty(),
            "{:?}",
            &r.refused[..3.min(r.refused.len())]
        );
        assert_eq!(r.skipped, 0);
        let stances = stances(&log);
        // Every row is a stance, a citation of one, or the same report again.
        assert_eq!(
            stances.len() as u64 + r.cited + r.already_present,
            rows.len() as u64
        );
        // The event type and stance of every stance follow its row's CAMEO root.
        for s in &stances {
            let title = s.cite.title.as_deref().unwrap();
            let code = title
                .split("CAMEO ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            let root = &code[..2];
            assert_eq!(s.event, plover_of_cameo_root(root), "{title}");
            let quad = quad_of_cameo_root(root).unwrap();
            assert_eq!(
                s.stance.polarity(),
                if quad <= 2 { 1 } else { -1 },
                "{title}"
            );
        }
        let again = import(&log, &file, Format::Icews, false);
        assert_eq!((again.appended, again.refused.len()), (0, 0));
    }

    #[test]
    fn the_gdelt_sample_skips_rows_without_two_actors_and_agrees_with_its_quad_classes() {
        let rows = rows("gdelt-1.0-sample/events.tsv", false);
        assert_eq!(rows.len(), 710);
        // GDELT's own QuadClass agrees with the crosswalk of its root code on every row.
        for r in &rows {
            assert_eq!(
                quad_of_cameo_root(&r[28]).map(|q| q.to_string()),
                Some(r[29].clone())
            );
        }
        let without = rows
            .iter()
            .filter(|r| r[5].is_empty() || r[15].is_empty())
            .count();
        let (_d, log) = empty_log();
        let r = import(
            &log,
            &data("gdelt-1.0-sample/events.tsv"),
            Format::Gdelt,
            false,
        );
        assert!(
            r.refused.is_empty(),
            "{:?}",
            &r.refused[..3.min(r.refused.len())]
        );
        assert_eq!(r.skipped as usize, without);
        assert_eq!(without, 239);
        let n = stances(&log).len() as u64;
        assert_eq!(
            n + r.cited + r.already_present,
            (rows.len() - without) as u64
        );
    }

    #[test]
    fn the_plover_codebook_types_all_have_a_quad_class_and_the_recipient_rule() {
        let rows = rows("plover-codebook/types.csv", false);
        let types: Vec<String> = rows
            .iter()
            .skip(1)
            .map(|r| r[0].split(',').next().unwrap().to_string())
            .collect();
        assert_eq!(types.len(), 16);
        for t in types {
            let t = PloverType::parse(&t).unwrap();
            assert!((1..=4).contains(&quad_of_plover(t)));
        }
    }
}
