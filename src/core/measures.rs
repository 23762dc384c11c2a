//! Agreement measures between two actors over the topics both took a stance on: pure arithmetic
//! on a [`Tally`] (a 3 x 3 table of the pair's polarities plus a count of identical stances). No
//! I/O, no serde, no clock.
//!
//! Stances are compared on the polarity scale of [`Stance::polarity`] (+1, 0, -1), so the
//! measures work for votes (yes, abstain, no) and for any other topic kind (support / neutral /
//! oppose, affirm / doubt / deny, ratified / signed... / withdrawn) alike.
//!
//! Sources of the formulas:
//! - `agree`: the share of common topics with the same stance: the simple agreement index of the
//!   R package `unvotes` (Robinson, `vignettes/unvotes.Rmd`, "percentage of votes agreeing").
//! - `agree_voeten`: 1 for the same vote, 0.5 when one abstains and the other votes yes or no,
//!   0 for yes against no, averaged: the agreement score of Voeten's UN General Assembly voting
//!   data (Bailey, Strezhnev and Voeten 2017, "Estimating Dynamic State Preferences from United
//!   Nations Voting Data", J. Conflict Resolution 61(2); the `agree` variable of the Dataverse
//!   files). On the polarity scale this is `1 - |x1 - x2| / 2` per topic.
//! - `s`: Signorino and Ritter's S (1999, "Tau-b or Not Tau-b", Int. Studies Quarterly 43(1)),
//!   unweighted, with absolute distances: `1 - 2 * mean(|x1 - x2|) / d_max`
//!   with `d_max = 2`, the width of the polarity scale; from -1 (always opposite) to 1.
//! - `pi`: Scott's pi (1955, "Reliability of content analysis", Public Opinion Quarterly
//!   19(3)): `(p_o - p_e) / (1 - p_e)`, `p_o` the share of common topics on the same polarity,
//!   `p_e = sum_k ((n_a,k + n_b,k) / 2n)^2` from the pair's pooled shares of +1, 0, -1.
//! - `kappa`: Cohen's kappa (1960, "A coefficient of agreement for nominal scales", Educational
//!   and Psychological Measurement 20(1)): as `pi`, with `p_e = sum_k (n_a,k / n) (n_b,k / n)`
//!   from each actor's own shares.
//!
//! `pi` and `kappa` are undefined (`None`) when `p_e = 1`, i.e. both actors gave one and the same
//! polarity on every common topic; every measure is `None` for a tally with no common topic.

use super::domain::Stance;

/// An agreement measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Share of common topics with the same stance, in [0, 1].
    Agree,
    /// Voeten's agreement score, in [0, 1].
    AgreeVoeten,
    /// Signorino and Ritter's S, in [-1, 1].
    S,
    /// Scott's pi, in [-1, 1].
    Pi,
    /// Cohen's kappa, in [-1, 1].
    Kappa,
}

impl Measure {
    /// Every measure, in the order of output columns.
    pub const ALL: [Measure; 5] = [
        Measure::Agree,
        Measure::AgreeVoeten,
        Measure::S,
        Measure::Pi,
        Measure::Kappa,
    ];

    /// The column name: `agree`, `agree_voeten`, `s`, `pi`, `kappa`.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Agree => "agree",
            Measure::AgreeVoeten => "agree_voeten",
            Measure::S => "s",
            Measure::Pi => "pi",
            Measure::Kappa => "kappa",
        }
    }

    /// Parses a column name; `None` for any other text.
    pub fn parse(text: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The range of values the measure can take: (lowest, highest), both inclusive.
    pub fn range(self) -> (f64, f64) {
        match self {
            Measure::Agree | Measure::AgreeVoeten => (0.0, 1.0),
            Measure::S | Measure::Pi | Measure::Kappa => (-1.0, 1.0),
        }
    }
}

/// The three polarities as table indexes: -1 -> 0, 0 -> 1, +1 -> 2.
fn index(s: Stance) -> usize {
    (s.polarity() + 1) as usize
}

/// What two actors' stances on their common topics add up to: `counts[i][j]` is the number of
/// topics on which the first actor's polarity is `i - 1` and the second's `j - 1`; `same` the
/// number on which both took the very same stance (which, for votes, is the same polarity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    counts: [[u32; 3]; 3],
    same: u32,
}

impl Tally {
    /// An empty tally (no common topic).
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Counts one common topic: `a` is the first actor's stance, `b` the second's.
    pub fn add(&mut self, a: Stance, b: Stance) {
        self.counts[index(a)][index(b)] += 1;
        self.same += u32::from(a == b);
    }

    /// The tally of an actor with itself, from how many stances of each polarity it took: the
    /// diagonal table.
    pub fn with_itself(stances: impl IntoIterator<Item = Stance>) -> Tally {
        let mut t = Tally::new();
        for s in stances {
            t.add(s, s);
        }
        t
    }

    /// Number of common topics.
    pub fn common(&self) -> u64 {
        self.counts.iter().flatten().map(|n| u64::from(*n)).sum()
    }

    /// The counts table, `counts[i][j]` for polarities `i - 1` and `j - 1`.
    pub fn counts(&self) -> [[u32; 3]; 3] {
        self.counts
    }

    /// The value of a measure; `None` where it is undefined (no common topic; for `pi` and
    /// `kappa`, chance agreement of 1).
    pub fn measure(&self, m: Measure) -> Option<f64> {
        let n = self.common() as f64;
        if n == 0.0 {
            return None;
        }
        let mut distance = 0.0; // sum of |x1 - x2| over common topics
        for (i, row) in self.counts.iter().enumerate() {
            for (j, c) in row.iter().enumerate() {
                distance += f64::from(*c) * i.abs_diff(j) as f64;
            }
        }
        let diagonal: f64 = (0..3).map(|k| f64::from(self.counts[k][k])).sum();
        let rows = |k: usize| f64::from(self.counts[k].iter().sum::<u32>());
        let cols = |k: usize| f64::from(self.counts.iter().map(|r| r[k]).sum::<u32>());
        let chance_corrected = |p_e: f64| {
            let p_o = diagonal / n;
            // Chance agreement 1 means both gave one same polarity throughout: undefined.
            (p_e < 1.0).then(|| (p_o - p_e) / (1.0 - p_e))
        };
        match m {
            Measure::Agree => Some(f64::from(self.same) / n),
            Measure::AgreeVoeten => Some(1.0 - distance / n / 2.0),
            Measure::S => Some(1.0 - 2.0 * (distance / n) / 2.0),
            Measure::Pi => chance_corrected(
                (0..3)
                    .map(|k| ((rows(k) + cols(k)) / (2.0 * n)).powi(2))
                    .sum(),
            ),
            Measure::Kappa => chance_corrected((0..3).map(|k| rows(k) / n * cols(k) / n).sum()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Stance::{Abstain, No, Yes};

    fn tally(pairs: &[(Stance, Stance)]) -> Tally {
        let mut t = Tally::new();
        for (a, b) in pairs {
            t.add(*a, *b);
        }
        t
    }

    fn close(got: Option<f64>, want: f64) {
        let got = got.expect("defined");
        assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
    }

    /// Four votes: (yes, yes), (yes, abstain), (no, yes), (abstain, abstain), by hand:
    /// agree = 2/4; Voeten = (1 + 0.5 + 0 + 1) / 4 = 0.625; distances 0, 1, 2, 0, mean 0.75,
    /// S = 1 - 2 * 0.75 / 2 = 0.25; p_o = 2/4.
    /// Shares of (no, abstain, yes): a = (1, 1, 2)/4, b = (0, 2, 2)/4;
    /// kappa p_e = (0 + 2 + 4) / 16 = 0.375, kappa = (0.5 - 0.375) / 0.625 = 0.2;
    /// pooled = (1, 3, 4)/8, pi p_e = (1 + 9 + 16) / 64 = 26/64, pi = (32/64 - 26/64) / (38/64)
    /// = 6/38.
    #[test]
    fn a_hand_computed_tally_of_four_votes() {
        let t = tally(&[(Yes, Yes), (Yes, Abstain), (No, Yes), (Abstain, Abstain)]);
        assert_eq!(t.common(), 4);
        close(t.measure(Measure::Agree), 0.5);
        close(t.measure(Measure::AgreeVoeten), 0.625);
        close(t.measure(Measure::S), 0.25);
        close(t.measure(Measure::Kappa), 0.2);
        close(t.measure(Measure::Pi), 6.0 / 38.0);
    }

    /// Always opposite, yes against no: agree 0, Voeten 0, S -1; p_o = 0, shares a = (0,0,1),
    /// b = (1,0,0): kappa p_e = 0, kappa = 0; pooled (1/2, 0, 1/2), pi p_e = 1/2, pi = -1.
    #[test]
    fn always_opposite_votes() {
        let t = tally(&[(Yes, No), (Yes, No), (Yes, No)]);
        close(t.measure(Measure::Agree), 0.0);
        close(t.measure(Measure::AgreeVoeten), 0.0);
        close(t.measure(Measure::S), -1.0);
        close(t.measure(Measure::Kappa), 0.0);
        close(t.measure(Measure::Pi), -1.0);
    }

    /// Two topics, (yes, yes) and (no, no): everything 1 (p_e = 1/2 for both pi and kappa).
    #[test]
    fn full_agreement_on_mixed_votes_is_one() {
        let t = tally(&[(Yes, Yes), (No, No)]);
        for m in Measure::ALL {
            close(t.measure(m), 1.0);
        }
    }

    /// One polarity throughout on both sides: chance agreement 1, so pi and kappa are undefined;
    /// the others are 1.
    #[test]
    fn pi_and_kappa_are_undefined_when_chance_agreement_is_one() {
        let t = tally(&[(Yes, Yes), (Yes, Yes)]);
        assert_eq!(t.measure(Measure::Pi), None);
        assert_eq!(t.measure(Measure::Kappa), None);
        close(t.measure(Measure::Agree), 1.0);
        close(t.measure(Measure::S), 1.0);
    }

    #[test]
    fn nothing_in_common_is_undefined() {
        for m in Measure::ALL {
            assert_eq!(Tally::new().measure(m), None);
        }
    }

    /// `neutral` and `abstain` share polarity 0 but are not the same stance: `agree` counts
    /// stances, the others polarities.
    #[test]
    fn agree_compares_stances_and_the_others_polarities() {
        let t = tally(&[
            (Stance::Neutral, Stance::Abstain),
            (Stance::Support, Stance::Support),
        ]);
        close(t.measure(Measure::Agree), 0.5);
        close(t.measure(Measure::AgreeVoeten), 1.0);
        close(t.measure(Measure::S), 1.0);
    }

    #[test]
    fn with_itself_is_the_diagonal() {
        let t = Tally::with_itself([Yes, No, Abstain, Yes]);
        assert_eq!(t.counts(), [[1, 0, 0], [0, 1, 0], [0, 0, 2]]);
        for m in Measure::ALL {
            close(t.measure(m), 1.0);
        }
    }

    #[test]
    fn measure_names_round_trip() {
        for m in Measure::ALL {
            assert_eq!(Measure::parse(m.as_str()), Some(m));
        }
        assert_eq!(Measure::parse("tau"), None);
    }
}
