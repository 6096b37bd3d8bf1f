//! The languages the recognizers know words for.

/// A language with built-in number and ordinal words; anything else is read as English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    English,
    Spanish,
    German,
    French,
    Portuguese,
}

impl Language {
    /// Reads the primary subtag of a BCP 47 tag (`"en"`, `"es-MX"`, `"pt_BR"`, `"DE"`);
    /// unknown or empty tags fall back to English.
    pub(crate) fn from_tag(tag: &str) -> Language {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("es") {
            Language::Spanish
        } else if primary.eq_ignore_ascii_case("de") {
            Language::German
        } else if primary.eq_ignore_ascii_case("fr") {
            Language::French
        } else if primary.eq_ignore_ascii_case("pt") {
            Language::Portuguese
        } else {
            Language::English
        }
    }

    /// Whether a decimal comma is the norm (`3,5`), with `.` grouping thousands (`1.000`).
    pub(crate) fn decimal_comma(self) -> bool {
        !matches!(self, Language::English)
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn tags_map_to_languages() {
        let table = [
            ("en", Language::English),
            ("en-US", Language::English),
            ("es", Language::Spanish),
            ("es-MX", Language::Spanish),
            ("ES", Language::Spanish),
            ("de-DE", Language::German),
            ("fr_CA", Language::French),
            ("pt-BR", Language::Portuguese),
            ("it", Language::English),
            ("", Language::English),
            ("  ", Language::English),
            ("-", Language::English),
        ];
        for (tag, expected) in table {
            assert_eq!(Language::from_tag(tag), expected, "tag {tag:?}");
        }
    }
}
