//! Which locale a user gets, and which locales a lookup tries.

use std::borrow::Cow;
use unic_langid::LanguageIdentifier;

/// A locale tag in the form used as a table key: trimmed, lower case, `-` between parts
/// (`pt_BR` and `PT-br` both become `pt-br`).
///
/// ```
/// assert_eq!(botwright::locale::normalize_locale(" pt_BR "), "pt-br");
/// ```
pub fn normalize_locale(locale: &str) -> String {
    normalized(locale).into_owned()
}

/// [`normalize_locale`] without allocating when the tag is already normalized.
pub(crate) fn normalized(locale: &str) -> Cow<'_, str> {
    let trimmed = locale.trim();
    if trimmed.bytes().any(|b| b == b'_' || b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.replace('_', "-").to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// A language tag in its canonical form (`pt-BR`, `zh-Hant-TW`), or `None` when `tag` is empty or
/// not a language tag.
pub(crate) fn canonical(tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() {
        return None;
    }
    tag.parse::<LanguageIdentifier>().ok().filter(|id| id.language.as_str() != "und").map(|id| id.to_string())
}

/// The locale to speak to a user in: the user's stored preference, else the locale of the
/// activity being answered, else the bot's default.
///
/// A candidate that is empty or not a language tag (channels send what they like) is skipped. The
/// result is in canonical form (`pt-BR`); lookups do not care about case.
///
/// ```
/// use botwright::locale::resolve_locale;
/// assert_eq!(resolve_locale(Some("es"), Some("en-US"), "en"), "es");
/// assert_eq!(resolve_locale(None, Some("pt_br"), "en"), "pt-BR");
/// assert_eq!(resolve_locale(Some(""), Some("not a locale!"), "de"), "de");
/// ```
pub fn resolve_locale(preferred: Option<&str>, activity: Option<&str>, default: &str) -> String {
    preferred
        .and_then(canonical)
        .or_else(|| activity.and_then(canonical))
        .or_else(|| canonical(default))
        .unwrap_or_else(|| normalize_locale(default))
}

/// `locale` and its shorter forms, longest first: `zh-hant-tw`, `zh-hant`, `zh`.
pub(crate) fn truncations(locale: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(locale).filter(|l| !l.is_empty());
    std::iter::from_fn(move || {
        let current = next?;
        next = current.rfind('-').map(|i| &current[..i]).filter(|l| !l.is_empty());
        Some(current)
    })
}

/// The locales a lookup tries, in order, possibly with repeats: `locale` and its shorter forms,
/// then `default` and its shorter forms. Both must be normalized.
pub(crate) fn chain<'a>(locale: &'a str, default: &'a str) -> impl Iterator<Item = &'a str> {
    truncations(locale).chain(truncations(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncations_strip_one_subtag_at_a_time() {
        assert_eq!(truncations("zh-hant-tw").collect::<Vec<_>>(), ["zh-hant-tw", "zh-hant", "zh"]);
        assert_eq!(truncations("pt").collect::<Vec<_>>(), ["pt"]);
        assert_eq!(truncations("").count(), 0);
    }

    #[test]
    fn resolution_prefers_the_stored_preference_then_the_activity_then_the_default() {
        assert_eq!(resolve_locale(Some("de-AT"), Some("fr"), "en"), "de-AT");
        assert_eq!(resolve_locale(None, Some("fr-ca"), "en"), "fr-CA");
        assert_eq!(resolve_locale(Some("  "), None, "en-GB"), "en-GB");
        assert_eq!(resolve_locale(Some("12345678901"), Some(""), "es"), "es");
    }
}
