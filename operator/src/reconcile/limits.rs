//! The sizes the API server allows for the text the operator writes, and the
//! one place that cuts messages to them. An Event whose note is too long is
//! refused whole (the user then sees nothing), and so is a status whose
//! condition message is; the messages are written with what matters first
//! (the object and the reason, then the API server's full answer), so the
//! cut keeps what matters.

use std::borrow::Cow;

/// Longest `note` of an events.k8s.io/v1 Event, in bytes.
pub const EVENT_NOTE_MAX_BYTES: usize = 1024;
/// Longest `message` of a metav1.Condition, in bytes.
pub const CONDITION_MESSAGE_MAX_BYTES: usize = 32 * 1024;

const ELLIPSIS: &str = "…";

/// `text` when it fits in `max_bytes`, else its longest prefix that ends on
/// a character boundary and leaves room for a closing `…` (3 bytes).
pub fn fit(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let mut end = max_bytes.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{ELLIPSIS}", &text[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_is_cut_to_the_limit() {
        assert_eq!(
            fit("Secret shop/pg not found", 1024),
            "Secret shop/pg not found"
        );
        let exact = "a".repeat(1024);
        assert_eq!(fit(&exact, 1024), exact.as_str());
        let long = format!("apply Deployment store-a: {}", "x".repeat(5000));
        let cut = fit(&long, EVENT_NOTE_MAX_BYTES);
        assert_eq!(cut.len(), EVENT_NOTE_MAX_BYTES);
        assert!(cut.starts_with("apply Deployment store-a: "));
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // 'é' is 2 bytes and '緑' 3: every cut point lands inside one somewhere.
        for filler in ["é", "緑", "😀"] {
            let text = filler.repeat(2000);
            let cut = fit(&text, EVENT_NOTE_MAX_BYTES);
            assert!(cut.len() <= EVENT_NOTE_MAX_BYTES, "{filler}");
            assert!(
                cut.len() > EVENT_NOTE_MAX_BYTES - 4 - ELLIPSIS.len(),
                "{filler}"
            );
        }
    }
}
