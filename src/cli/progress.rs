//! Progress bars on standard error, shown only when it is a terminal (indicatif hides them
//! otherwise), so scripted runs and tests print nothing extra.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;

use stancelog::import::Progress;

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
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = match total {
            Some(_) => ProgressStyle::with_template(
                "{msg:>12} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})",
            ),
            None => ProgressStyle::with_template("{msg:>12} {spinner} {human_pos} ({per_sec})"),
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
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
