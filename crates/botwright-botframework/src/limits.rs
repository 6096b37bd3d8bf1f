//! Bounded reads of what other services answer, and bounded error texts.
//!
//! A channel, the token service or the identity service may answer with a huge or endless body;
//! the connector and the clients for tokens and keys stop reading at a cap
//! ([`BotFrameworkConfig::max_response_bytes`](crate::BotFrameworkConfig::max_response_bytes)),
//! so memory stays bounded whatever comes. Error bodies kept in error texts are cut by
//! [`truncate_text`] to [`MAX_ERROR_TEXT_BYTES`].

/// How many connector requests may be in flight at once by default.
pub const DEFAULT_MAX_REQUESTS_IN_FLIGHT: usize = 32;

/// The largest response body read from a channel, the token service or the identity service
/// by default: 1 MiB. Reading stops there (an endless body cannot exhaust memory).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The most bytes of a service's error body kept in an error text.
pub const MAX_ERROR_TEXT_BYTES: usize = 512;

/// A body read up to a cap.
#[derive(Debug)]
pub(crate) struct CappedBody {
    /// The bytes read, at most the cap.
    pub(crate) bytes: Vec<u8>,
    /// Whether the body went on past the cap (reading stopped there).
    pub(crate) truncated: bool,
}

/// Reads `response`'s body, at most `cap` bytes; what comes after is not read.
pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<CappedBody, reqwest::Error> {
    let mut bytes =
        Vec::with_capacity(response.content_length().map_or(0, |n| n.min(cap as u64) as usize).min(64 * 1024));
    while let Some(chunk) = response.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(CappedBody { bytes, truncated: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(CappedBody { bytes, truncated: false })
}

/// `text` cut to at most `max` bytes at a char boundary, with `…` when something was cut.
///
/// ```
/// use botwright_botframework::limits::truncate_text;
/// assert_eq!(truncate_text("short", 512), "short");
/// assert_eq!(truncate_text("ééé", 3), "é…");
/// ```
pub fn truncate_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An error body as text for error messages: lossy UTF-8, cut to [`MAX_ERROR_TEXT_BYTES`].
pub(crate) fn error_text(bytes: &[u8], truncated: bool) -> String {
    let cut = &bytes[..bytes.len().min(MAX_ERROR_TEXT_BYTES)];
    let text = truncate_text(&String::from_utf8_lossy(cut), MAX_ERROR_TEXT_BYTES);
    if (truncated || bytes.len() > MAX_ERROR_TEXT_BYTES) && !text.ends_with('…') {
        format!("{text}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_cut_at_a_char_boundary() {
        let long = "€".repeat(1000);
        let text = error_text(long.as_bytes(), false);
        assert!(text.len() <= MAX_ERROR_TEXT_BYTES + '…'.len_utf8());
        assert!(text.ends_with('…'));
        assert!(text.trim_end_matches('…').chars().all(|c| c == '€'));
        assert_eq!(error_text(b"{\"error\":1}", false), "{\"error\":1}");
        assert_eq!(error_text(b"abc", true), "abc…");
        assert_eq!(truncate_text("", 0), "");
        assert_eq!(truncate_text("€", 0), "…");
    }
}
