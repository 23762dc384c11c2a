//! Progress bars on standard error, shown only when it is a terminal (indicatif hides them
//! otherwise), so scripted runs and tests print nothing extra.

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::cell::RefCell;

use stancelog::import::Progress;

/// The rate as a whole number of events per second, with thousands separators (`41,203/s`):
/// indicatif's own `{per_sec}` shows fractions (`41203.4816/s`).
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{}/s", rate_text(state.per_sec()));
}

fn rate_text(per_sec: f64) -> String {
    let whole = if per_sec.is_finite() && per_sec > 0.0 {
        per_sec.round() as u64
    } else {
        0
    };
    HumanCount(whole).to_string()
}

/// A progress bar per import stage.
pub struct Bar {
    bar: RefCell<Option<ProgressBar>>,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            bar: RefCell::new(None),
        }
    }
}

impl Progress for Bar {
    fn start(&self, stage: &str, total: Option<u64>) {
        let target = if super::common::quiet() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(total, target);
        let style = match total {
            Some(_) => ProgressStyle::with_template(
                "{msg:>12} [{bar:40}] {human_pos}/{human_len} ({rate}, {eta})",
            ),
            None => ProgressStyle::with_template("{msg:>12} {spinner} {human_pos} ({rate})"),
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> ").with_key("rate", rate));
        }
        bar.set_message(stage.to_string());
        if let Some(old) = self.bar.replace(Some(bar)) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.borrow().as_ref() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_a_whole_number_of_events_per_second() {
        assert_eq!(rate_text(41_203.481_6), "41,203");
        assert_eq!(rate_text(0.4), "0");
        assert_eq!(rate_text(2.5), "3");
        assert_eq!(rate_text(f64::NAN), "0");
    }
}
