//! Quoting a bad value in an error message.

/// Most characters of a value an error message quotes.
pub const QUOTE_CHARS_MAX: usize = 100;

/// `value` in backticks for an error message: whole if it has at most [`QUOTE_CHARS_MAX`]
/// characters, else its first [`QUOTE_CHARS_MAX`] characters, an ellipsis, and its length in
/// bytes (so a 900 KB id gives a short message, not a 900 KB line).
///
/// # Example
/// ```
/// use stancelog::core::quoted;
/// assert_eq!(quoted("kor-mofa"), "`kor-mofa`");
/// let long = "a".repeat(1000);
/// assert_eq!(quoted(&long), format!("`{}…` (1000 bytes)", "a".repeat(100)));
/// ```
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTE_CHARS_MAX) {
        None => format!("`{value}`"),
        Some((cut, _)) => format!("`{}…` ({} bytes)", &value[..cut], value.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_cut_at_a_character_and_its_length_given() {
        assert_eq!(quoted(""), "``");
        let hundred = "한".repeat(100);
        assert_eq!(quoted(&hundred), format!("`{hundred}`"));
        let more = "한".repeat(101);
        assert_eq!(quoted(&more), format!("`{hundred}…` (303 bytes)"));
    }
}
