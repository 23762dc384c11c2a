//! `stancelog add stance --from-editor` (and `stancelog new`, the same under a short name): the
//! stance's fields from a commented template opened
//! in the user's editor. What is saved goes through the same path as the flags (and so as
//! `append`); text that is refused is kept in its file, and the error names the file, the line
//! and the field.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use stancelog::store::LogRef;
use std::process::Command;

use stancelog::Error;

use super::Failure;
use super::add::{StanceFields, stance_record};
use super::args::WriteArgs;
use super::common;

/// What `add stance --from-editor` and `new` were given.
pub struct Edit<'a> {
    /// Fields given as flags: they prefill the template.
    pub fields: &'a StanceFields,
    /// The event's id, if given.
    pub id: Option<&'a str>,
    /// A file kept from a refused try, opened instead of a fresh template.
    pub resume: Option<&'a Path>,
    /// The writing flags (`--dry-run`, `--expect-seq`, ...).
    pub write: &'a WriteArgs,
}

/// The template's keys, in order, with the comment shown above each.
const KEYS: &[(&str, &str)] = &[
    (
        "actor",
        "who: an actor id, name or alias (see `stancelog actors`)  [required]",
    ),
    (
        "topic",
        "on what: a topic id or title (see `stancelog topics`)  [required]",
    ),
    (
        "stance",
        "support, oppose, neutral, abstain (policy); affirm, deny, doubt (claim); yes, no, abstain (vote); signed, ratified, withdrawn (treaty)  [required]",
    ),
    (
        "date",
        "when it was stated: YYYY-MM-DD, or YYYY-MM / YYYY when the source gives no more  [required]",
    ),
    ("quote", "the verbatim quote, on one line"),
    (
        "event",
        "PLOVER event type: agree, consult, support, concede, cooperate, aid, retreat, request, accuse, reject, threaten, protest, sanction, mobilize, coerce, assault",
    ),
    ("recipient", "the actor it was addressed to or aimed at"),
    (
        "instrument",
        "stance `ratified` only: ratification, acceptance, approval, accession",
    ),
    (
        "cite-publication",
        "the outlet, agency, record or data set  [required]",
    ),
    ("cite-url", "address of the report"),
    ("cite-title", "title or headline of the report"),
    (
        "cite-published",
        "publication date: YYYY-MM-DD, YYYY-MM or YYYY",
    ),
    ("via", "the outlet this report relays, e.g. a news agency"),
];

/// Runs the editor on a template (prefilled from the flags given, or the file `--resume`
/// names), then records the stance saved.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written or the editor cannot run or fails;
/// [`Error::Usage`] for bad text (`FILE:LINE: key: what is wrong`), after which the text stays
/// in FILE; those of [`common::record_one`].
pub fn run(
    a: &Edit<'_>,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let file = match a.resume {
        Some(f) => f.to_path_buf(),
        None => {
            let f = std::env::temp_dir().join(format!(
                "stancelog-stance-{}-{}.txt",
                std::process::id(),
                now.as_microsecond()
            ));
            std::fs::write(&f, template(a.fields)).map_err(|e| Error::io(f.display(), e))?;
            f
        }
    };
    edit(&file)?;
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(file.display(), e))?;
    let kept = |e: Error| -> Failure {
        match e {
            Error::Usage(m) => Error::Usage(format!(
                "{m}\nstancelog: the text is kept in {f}; fix it with `stancelog add stance --from-editor --resume {f}`",
                f = file.display()
            ))
            .into(),
            other => other.into(),
        }
    };
    let (fields, lines) = parse(&file, &text).map_err(kept)?;
    if lines.is_empty() {
        let _ = std::fs::remove_file(&file);
        return Err(Error::Usage("no field filled in: nothing recorded".to_string()).into());
    }
    let name = |field: &str| {
        let key = common::flag_of(field).trim_start_matches("--").to_string();
        match lines.get(key.as_str()) {
            Some(line) => format!("{}:{line}: {key}", file.display()),
            None => format!("{}: {key}", file.display()),
        }
    };
    let result = common::record_one(a.write, target, now, out, &name, &|h| {
        stance_record(h, &fields, a.id, "stance.declared").map_err(|e| match e {
            Error::Usage(m) => Error::Usage(format!("{}: {m}", file.display())),
            other => other,
        })
    });
    match result {
        Ok(()) => {
            let _ = std::fs::remove_file(&file);
            Ok(())
        }
        Err(Failure::Error(e)) => Err(kept(e)),
        Err(other) => Err(other),
    }
}

/// The commented template, each key filled with the flag given for it, if any.
fn template(f: &StanceFields) -> String {
    let given = |key: &str| -> Option<&String> {
        match key {
            "actor" => f.actor.as_ref(),
            "topic" => f.topic.as_ref(),
            "stance" => f.stance.as_ref(),
            "date" => f.date.as_ref(),
            "quote" => f.quote.as_ref(),
            "event" => f.event.as_ref(),
            "recipient" => f.recipient.as_ref(),
            "instrument" => f.instrument.as_ref(),
            "cite-publication" => f.cite.cite_publication.as_ref(),
            "cite-url" => f.cite.cite_url.as_ref(),
            "cite-title" => f.cite.cite_title.as_ref(),
            "cite-published" => f.cite.cite_published.as_ref(),
            _ => f.cite.via.as_ref(),
        }
    };
    let mut t = String::from(
        "# A stance for stancelog. Fill in `key: value` lines; a key left empty is left out.\n\
         # Lines starting with # are ignored. Save and quit to record it; save it with no value\n\
         # filled in to record nothing.\n",
    );
    for (key, help) in KEYS {
        t.push_str(&format!(
            "\n# {help}\n{key}: {}\n",
            given(key).map_or("", |v| v)
        ));
    }
    t
}

/// Reads `key: value` lines into the fields, with the line each key is on.
///
/// # Errors
/// [`Error::Usage`] naming `file` and the line of an unknown key, a key given twice, or a line
/// without `:`.
fn parse(file: &Path, text: &str) -> Result<(StanceFields, BTreeMap<String, usize>), Error> {
    let mut f = StanceFields::default();
    let mut lines = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: String| Error::Usage(format!("{}:{}: {m}", file.display(), i + 1));
        let Some((key, value)) = line.split_once(':') else {
            return Err(at(format!("`{line}` is not a `key: value` line")));
        };
        let (key, value) = (key.trim(), value.trim());
        if !KEYS.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err(at(format!(
                "unknown key `{key}` (known: {})",
                known.join(", ")
            )));
        }
        if value.is_empty() {
            continue;
        }
        if let Some(first) = lines.insert(key.to_string(), i + 1) {
            return Err(at(format!("`{key}` given twice (first on line {first})")));
        }
        let v = Some(value.to_string());
        match key {
            "actor" => f.actor = v,
            "topic" => f.topic = v,
            "stance" => f.stance = v,
            "date" => f.date = v,
            "quote" => f.quote = v,
            "event" => f.event = v,
            "recipient" => f.recipient = v,
            "instrument" => f.instrument = v,
            "cite-publication" => f.cite.cite_publication = v,
            "cite-url" => f.cite.cite_url = v,
            "cite-title" => f.cite.cite_title = v,
            "cite-published" => f.cite.cite_published = v,
            _ => f.cite.via = v,
        }
    }
    Ok((f, lines))
}

/// Runs `$VISUAL`, else `$EDITOR`, else `vi`, on `file`, through `sh` so that an editor given
/// with arguments (`code --wait`) works, as git does.
fn edit(file: &PathBuf) -> Result<(), Error> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string());
    stancelog::allocator::huge_pages_back_on();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file)
        .status()
        .map_err(|e| Error::io(format!("the editor `{editor}`"), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "the editor `{editor}` failed ({status}); nothing recorded; the text is kept in {}",
            file.display()
        )))
    }
}
