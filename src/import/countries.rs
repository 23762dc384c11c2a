//! Country-code schemes: a state given as ISO 3166-1 alpha-2, alpha-3 or numeric, a Correlates
//! of War (COW) numeric or alpha code, a Gleditsch-Ward (GW) number, or a name, becomes one state
//! actor: id and country its ISO 3166-1 alpha-3 code (a dissolved state: its ISO 3166-3
//! four-letter code as id, its former alpha-3 code as country, as `import unvotes` does).
//!
//! The scheme is always explicit: the same letters mean different states in different schemes
//! (COW `SWZ` is Switzerland, ISO `SWZ` is Eswatini; COW `AUS` is Austria, ISO `AUS` Australia),
//! so a code is only ever read in the scheme it was given in.
//!
//! Sources: ISO 3166-1 and ISO 3166-3 from the `rust_iso3166` crate; COW and GW codes from the
//! shipped table `state_codes.csv` beside this file (its header says where it comes from).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::core::{ActorId, Country};

/// A country-code scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ISO 3166-1 alpha-2 (`CH`).
    Iso2,
    /// ISO 3166-1 alpha-3 (`CHE`), or ISO 3166-3 former alpha-3 (`YUG`).
    Iso3,
    /// ISO 3166-1 numeric (`756`, leading zeros optional).
    IsoNumeric,
    /// Correlates of War state number (`225`).
    Cow,
    /// Correlates of War state abbreviation (`SWZ` = Switzerland).
    CowAlpha,
    /// Gleditsch-Ward state number (`225`; Germany `260`, Serbia `340`, Yemen `678`).
    Gw,
    /// A country name as ISO 3166-1 or the COW list spells it (case and punctuation ignored).
    Name,
}

impl Scheme {
    /// Parses a scheme's name: `iso2`, `iso3`, `iso-numeric`, `cow`, `cow-alpha`, `gw`, `name`.
    pub fn parse(text: &str) -> Option<Scheme> {
        Some(match text {
            "iso2" => Scheme::Iso2,
            "iso3" => Scheme::Iso3,
            "iso-numeric" => Scheme::IsoNumeric,
            "cow" => Scheme::Cow,
            "cow-alpha" => Scheme::CowAlpha,
            "gw" => Scheme::Gw,
            "name" => Scheme::Name,
            _ => return None,
        })
    }

    /// The schemes' names, for help and errors.
    pub const NAMES: &'static str = "iso2, iso3, iso-numeric, cow, cow-alpha, gw, name";
}

/// A state as a code stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The actor id: ISO 3166-1 alpha-3, or the ISO 3166-3 code of a dissolved state.
    pub actor: ActorId,
    /// The country: ISO 3166-1 alpha-3, or the former alpha-3 code of a dissolved state.
    pub country: Country,
    /// Its name, as the scheme's table gives it.
    pub name: String,
}

/// One row of `state_codes.csv`.
struct Coded {
    cow: Option<u32>,
    cow_alpha: String,
    gw: Option<u32>,
    iso3: String,
    name: String,
}

fn table() -> &'static [Coded] {
    static TABLE: OnceLock<Vec<Coded>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("state_codes.csv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("cow,"))
            .filter_map(|l| {
                let f: Vec<&str> = l.splitn(5, ',').collect();
                let [cow, cow_alpha, gw, iso3, name] = f[..] else {
                    return None;
                };
                Some(Coded {
                    cow: cow.parse().ok(),
                    cow_alpha: cow_alpha.to_string(),
                    gw: gw.parse().ok(),
                    iso3: iso3.to_string(),
                    name: name.to_string(),
                })
            })
            .collect()
    })
}

/// Letters and digits only, lower case: the form names are compared in.
fn name_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn names() -> &'static HashMap<String, String> {
    static NAMES: OnceLock<HashMap<String, String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut m = HashMap::new();
        for c in rust_iso3166::ALL {
            m.insert(name_key(c.name), c.alpha3.to_string());
        }
        for c in table().iter().filter(|c| !c.iso3.is_empty()) {
            m.entry(name_key(&c.name)).or_insert_with(|| c.iso3.clone());
        }
        for (name, iso3) in NAME_ALIASES {
            m.entry(name_key(name)).or_insert_with(|| iso3.to_string());
        }
        m
    })
}

/// Short names that event data sets (ICEWS, POLECAT) use where ISO 3166-1 spells a state
/// otherwise (ISO: "United States of America", "Côte d'Ivoire", "Palestine, State of").
const NAME_ALIASES: &[(&str, &str)] = &[
    ("United States", "USA"),
    ("United Kingdom", "GBR"),
    ("Russia", "RUS"),
    ("Cote d'Ivoire", "CIV"),
    ("Palestinian Territory, Occupied", "PSE"),
    ("Occupied Palestinian Territory", "PSE"),
    ("Palestine", "PSE"),
    ("Democratic Republic of Congo", "COD"),
    ("Congo, The Democratic Republic of the", "COD"),
    ("Republic of Congo", "COG"),
    ("Vatican City", "VAT"),
    ("Holy See (Vatican City State)", "VAT"),
    ("Macau", "MAC"),
    ("Micronesia", "FSM"),
    ("Burma", "MMR"),
    ("Timor-Leste", "TLS"),
    ("Cabo Verde", "CPV"),
    ("Czechia", "CZE"),
    ("North Macedonia", "MKD"),
    ("Macedonia, the former Yugoslav Republic of", "MKD"),
    ("Korea, Republic of", "KOR"),
    ("Korea, Democratic People's Republic of", "PRK"),
    ("Iran, Islamic Republic of", "IRN"),
    ("Syrian Arab Republic", "SYR"),
    ("Lao People's Democratic Republic", "LAO"),
    ("Tanzania, United Republic of", "TZA"),
    ("Moldova, Republic of", "MDA"),
    ("Venezuela, Bolivarian Republic of", "VEN"),
    ("Bolivia, Plurinational State of", "BOL"),
    ("Viet Nam", "VNM"),
    ("Brunei Darussalam", "BRN"),
    ("Russian Federation", "RUS"),
    ("Swaziland", "SWZ"),
    ("Kosovo", USER_KOSOVO),
];

/// The state an ISO 3166-1 alpha-3 or ISO 3166-3 former alpha-3 code stands for.
fn from_iso3(code: &str, name: Option<&str>) -> Option<State> {
    if let Some(c) = rust_iso3166::from_alpha3(code) {
        return Some(State {
            actor: ActorId::new(c.alpha3).ok()?,
            country: Country::new(c.alpha3).ok()?,
            name: name.unwrap_or(c.name).to_string(),
        });
    }
    if code == USER_KOSOVO {
        return Some(State {
            actor: ActorId::new(code).ok()?,
            country: Country::new(code).ok()?,
            name: name.unwrap_or("Kosovo").to_string(),
        });
    }
    let former = rust_iso3166::iso3166_3::ALL
        .iter()
        .find(|f| f.former.alpha3 == code)?;
    Some(State {
        actor: ActorId::new(former.code).ok()?,
        country: Country::new(code).ok()?,
        name: name.unwrap_or(former.name).to_string(),
    })
}

/// Kosovo's code: not assigned by ISO 3166-1, but the user-assigned `XKX` that the European
/// Commission, the IMF and others use.
pub const USER_KOSOVO: &str = "XKX";

/// The state `code` stands for in `scheme`.
///
/// # Errors
/// A reason in words naming the code and the scheme: not a code of the scheme, or a state the
/// scheme lists but ISO 3166 has no code for (Baden, Austria-Hungary: their rows are refused,
/// never given a guessed code).
pub fn resolve(scheme: Scheme, code: &str) -> Result<State, String> {
    let code = code.trim();
    let number = || code.parse::<u32>().ok();
    let listed = |c: Option<&Coded>, what: &str| match c {
        None => Err(format!("`{code}` is not a {what} code")),
        Some(c) if c.iso3.is_empty() => Err(format!(
            "{what} {code} ({}) has no ISO 3166 code: register its actor yourself",
            c.name
        )),
        Some(c) => from_iso3(&c.iso3, Some(&c.name))
            .ok_or_else(|| format!("{what} {code}: ISO code {} is not in ISO 3166", c.iso3)),
    };
    match scheme {
        Scheme::Iso2 => rust_iso3166::from_alpha2(code)
            .and_then(|c| from_iso3(c.alpha3, None))
            .ok_or_else(|| format!("`{code}` is not an ISO 3166-1 alpha-2 code")),
        Scheme::Iso3 => from_iso3(code, None).ok_or_else(|| {
            format!("`{code}` is not an ISO 3166-1 alpha-3 code (nor an ISO 3166-3 former one)")
        }),
        Scheme::IsoNumeric => number()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(rust_iso3166::from_numeric)
            .and_then(|c| from_iso3(c.alpha3, None))
            .ok_or_else(|| format!("`{code}` is not an ISO 3166-1 numeric code")),
        Scheme::Cow => listed(
            number().and_then(|n| table().iter().find(|c| c.cow == Some(n))),
            "COW",
        ),
        Scheme::CowAlpha => listed(table().iter().find(|c| c.cow_alpha == code), "COW alpha"),
        Scheme::Gw => listed(
            number().and_then(|n| table().iter().find(|c| c.gw == Some(n))),
            "Gleditsch-Ward",
        ),
        Scheme::Name => names()
            .get(&name_key(code))
            .and_then(|iso3| from_iso3(iso3, Some(code)))
            .ok_or_else(|| format!("`{code}` is not a country name of ISO 3166-1 or the COW list")),
    }
}

/// The non-state codes a `country` may hold besides ISO 3166 codes: `IGO` and `NGO` (the log
/// format's own), and `EUU`, the European Union as the UN Treaty Collection's tables and the
/// World Bank write it.
pub const NON_STATE: &[&str] = &["IGO", "NGO", "EUU"];

/// Whether `text` is a state's code: an ISO 3166-1 alpha-3 code, an ISO 3166-3 former alpha-3
/// code, or [`USER_KOSOVO`]; not a code of [`NON_STATE`] nor another user-assigned code (`XXX`).
pub fn is_state_code(text: &str) -> bool {
    rust_iso3166::from_alpha3(text).is_some()
        || rust_iso3166::iso3166_3::ALL
            .iter()
            .any(|f| f.former.alpha3 == text)
        || text == USER_KOSOVO
}

/// Checks a `country` value: an ISO 3166-1 alpha-3 code, an ISO 3166-3 former alpha-3 code, a
/// non-state code of [`NON_STATE`] (`IGO`, `NGO`, `EUU`), or a code of ISO 3166-1's user-assigned ranges (`AAA`-`AAZ`,
/// `QMA`-`QZZ`, `XAA`-`XZZ`, `ZZA`-`ZZZ`; e.g. `XKX` for Kosovo, `XXX` for unknown).
///
/// # Errors
/// A reason in words: the shape is wrong, or the code is none of those (`FRN`, COW's France, is
/// refused: ISO's France is `FRA`).
pub fn check_country(text: &str) -> Result<Country, String> {
    let c = Country::new(text).map_err(|e| e.to_string())?;
    let b = text.as_bytes();
    let user_assigned = (b[0] == b'A' && b[1] == b'A')
        || (b[0] == b'Q' && b[1] >= b'M')
        || b[0] == b'X'
        || (b[0] == b'Z' && b[1] == b'Z');
    let ok = is_state_code(text) || NON_STATE.contains(&text) || user_assigned;
    if ok {
        Ok(c)
    } else {
        Err(format!(
            "`{text}` is not an ISO 3166-1 alpha-3 code, an ISO 3166-3 former code, IGO, NGO, or a user-assigned code (XAA-XZZ and the other ISO ranges)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(scheme: Scheme, code: &str) -> String {
        resolve(scheme, code)
            .map(|s| s.actor.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn the_same_letters_are_different_states_in_different_schemes() {
        assert_eq!(id(Scheme::CowAlpha, "SWZ"), "CHE");
        assert_eq!(id(Scheme::Iso3, "SWZ"), "SWZ");
        assert_eq!(resolve(Scheme::Iso3, "SWZ").unwrap().name, "Eswatini");
        assert_eq!(id(Scheme::CowAlpha, "SWA"), "SWZ");
        assert_eq!(id(Scheme::CowAlpha, "AUS"), "AUT");
        assert_eq!(id(Scheme::Iso3, "AUS"), "AUS");
        assert_eq!(id(Scheme::CowAlpha, "CZE"), "CSHH");
        assert_eq!(id(Scheme::Iso3, "CZE"), "CZE");
    }

    #[test]
    fn numbers_of_cow_gw_and_iso() {
        assert_eq!(id(Scheme::Cow, "225"), "CHE");
        assert_eq!(id(Scheme::Cow, "255"), "DEU");
        assert_eq!(id(Scheme::Gw, "260"), "DEU");
        assert_eq!(id(Scheme::Cow, "260"), "DEU");
        assert_eq!(id(Scheme::Gw, "340"), "SRB");
        assert_eq!(id(Scheme::Gw, "678"), "YEM");
        assert_eq!(id(Scheme::Cow, "265"), "DDDE");
        assert_eq!(resolve(Scheme::Cow, "265").unwrap().country.as_str(), "DDR");
        assert_eq!(id(Scheme::IsoNumeric, "756"), "CHE");
        assert_eq!(id(Scheme::IsoNumeric, "040"), "AUT");
        assert_eq!(id(Scheme::Iso2, "CH"), "CHE");
        assert!(id(Scheme::Cow, "267").contains("no ISO 3166 code"));
        assert!(id(Scheme::Cow, "999").contains("not a COW code"));
    }

    #[test]
    fn micro_states_have_other_numbers_in_cow_and_gw() {
        // Gleditsch-Ward numbers its Pacific micro-states 970-973; COW gives 970 to Nauru.
        let gw = ["970", "971", "972", "973"].map(|c| id(Scheme::Gw, c));
        assert_eq!(gw, ["KIR", "NRU", "TON", "TUV"]);
        let cow = ["946", "970", "955", "947"].map(|c| id(Scheme::Cow, c));
        assert_eq!(cow, ["KIR", "NRU", "TON", "TUV"]);
        assert_eq!(id(Scheme::Gw, "946"), "`946` is not a Gleditsch-Ward code");
    }

    #[test]
    fn historical_states_of_both_lists_are_known_and_refused_for_want_of_an_iso_code() {
        for (scheme, code) in [
            (Scheme::Cow, "280"),
            (Scheme::Gw, "329"),
            (Scheme::Cow, "337"),
            (Scheme::Gw, "564"),
            (Scheme::Cow, "273"),
        ] {
            let got = id(scheme, code);
            assert!(got.contains("no ISO 3166 code"), "{code}: {got}");
        }
        assert!(id(Scheme::Cow, "564").contains("not a COW code"));
    }

    #[test]
    fn names_of_iso_and_cow() {
        assert_eq!(id(Scheme::Name, "Switzerland"), "CHE");
        assert_eq!(id(Scheme::Name, "eswatini"), "SWZ");
        assert_eq!(id(Scheme::Name, "Swaziland (Eswatini)"), "SWZ");
        assert!(id(Scheme::Name, "Atlantis").contains("not a country name"));
    }

    #[test]
    fn country_is_checked_against_iso_not_only_its_shape() {
        assert!(check_country("FRA").is_ok());
        assert!(check_country("YUG").is_ok());
        assert!(check_country("IGO").is_ok());
        assert!(check_country("XKX").is_ok());
        assert!(check_country("XXX").is_ok());
        assert!(check_country("FRN").unwrap_err().contains("not an ISO"));
        assert!(check_country("fra").is_err());
    }
}
