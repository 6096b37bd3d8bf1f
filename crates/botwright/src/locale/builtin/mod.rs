//! The built-in strings: the prompts' retries, yes/no words, confirm buttons, list separators,
//! number words, validation errors and the default error message, in English (`en`), Spanish
//! (`es`), German (`de`), French (`fr`) and Portuguese (`pt`).
//!
//! They live in Fluent files, `crates/botwright/locales/<lang>/builtin.ftl` (translators edit
//! those), embedded at compile time; this crate's tests check that each parses and that every
//! language has exactly English's ids with the same placeholders.
//!
//! All ids are global; an application overrides any of them per locale by defining the same id
//! (in a Fluent file, a v3 `index.json` or `BotBuilder.json`, or in code). Texts use `%s`
//! placeholders; the arguments callers pass are listed below, and a Fluent override receives
//! them as `$arg1`, `$arg2`.
//!
//! | id | use | arguments |
//! |----|-----|-----------|
//! | `default_text`, `default_number`, `default_confirm`, `default_choice`, `default_time`, `default_file` | a prompt's retry when the answer is not understood | – |
//! | `default_error` | sent when a turn fails | – |
//! | `list_or` | between the two items of a two-item list ("a or b") | – |
//! | `list_or_more` | before the last item of a longer list ("a, b, or c"; the other items are joined with `, `) | – |
//! | `confirm_yes`, `confirm_no` | a confirm prompt's button titles | – |
//! | `yes_words`, `no_words` | answers a confirm prompt accepts, separated by vertical bars, lower case, accented and unaccented forms | – |
//! | `number_words` | numbers 0 to 10 as words: a vertical bar between numbers, `/` between forms of one number | – |
//! | `ordinal_words` | "first" to "tenth": a vertical bar between positions, `/` between forms | – |
//! | `number_min_error` | a number below the minimum | the minimum |
//! | `number_max_error` | a number above the maximum | the maximum |
//! | `number_range_error` | a number outside a range | the minimum, the maximum |
//! | `number_integer_error` | a number that should be whole | – |
//! | `text_min_length_error` | a text shorter than allowed | the minimum length |
//! | `text_max_length_error` | a text longer than allowed | the maximum length |

use fluent_syntax::ast::{Entry, Expression, InlineExpression, PatternElement};
use std::sync::OnceLock;

/// The Fluent source of each built-in locale (`crates/botwright/locales/<lang>/builtin.ftl`),
/// embedded at compile time.
pub const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../../../locales/en/builtin.ftl")),
    ("es", include_str!("../../../locales/es/builtin.ftl")),
    ("de", include_str!("../../../locales/de/builtin.ftl")),
    ("fr", include_str!("../../../locales/fr/builtin.ftl")),
    ("pt", include_str!("../../../locales/pt/builtin.ftl")),
];

/// The built-in messages of one locale, `(id, text)`, in the file's order.
pub type Messages = Vec<(&'static str, String)>;

/// The built-in messages per locale: `(locale, [(id, text)])`, read from [`SOURCES`] once.
///
/// # Panics
/// When an embedded file is not valid Fluent or uses more than text and string literals (a
/// build defect, caught by this crate's tests).
pub fn locales() -> &'static [(&'static str, Messages)] {
    static LOCALES: OnceLock<Vec<(&'static str, Messages)>> = OnceLock::new();
    LOCALES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(locale, source)| match messages(source) {
                Ok(messages) => (*locale, messages),
                Err(reason) => panic!("built-in strings of {locale}: {reason}"),
            })
            .collect()
    })
}

/// The messages of a built-in Fluent file: each a plain text (text and string literals only;
/// placeholders are `%s`).
pub fn messages(source: &'static str) -> Result<Messages, String> {
    let resource = fluent_syntax::parser::parse(source).map_err(|(_, errors)| format!("{errors:?}"))?;
    let mut messages = Vec::new();
    for entry in resource.body {
        let Entry::Message(message) = entry else { continue };
        let id = message.id.name;
        let pattern = message.value.ok_or_else(|| format!("`{id}` has no value"))?;
        let mut text = String::new();
        for element in pattern.elements {
            match element {
                PatternElement::TextElement { value } => text.push_str(value),
                PatternElement::Placeable {
                    expression: Expression::Inline(InlineExpression::StringLiteral { value }),
                } => text.push_str(&value.replace("\\\"", "\"").replace("\\\\", "\\")),
                _ => return Err(format!("`{id}` holds more than text (built-in strings use %s placeholders)")),
            }
        }
        messages.push((id, text));
    }
    Ok(messages)
}

/// The ids of the built-in messages (every built-in locale has each of them).
pub fn ids() -> impl Iterator<Item = &'static str> {
    locales().iter().find(|(locale, _)| *locale == "en").into_iter().flat_map(|(_, m)| m.iter().map(|(id, _)| *id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn table(locale: &str) -> &'static Messages {
        locales().iter().find(|(l, _)| *l == locale).map(|(_, m)| m).unwrap()
    }

    fn get(locale: &str, id: &str) -> &'static str {
        table(locale).iter().find(|(i, _)| *i == id).map(|(_, t)| t.as_str()).unwrap()
    }

    /// Every embedded file is valid Fluent with only text in its messages (a Fluent error would
    /// otherwise surface as a panic when the strings are first used).
    #[test]
    fn every_file_parses_as_fluent() {
        for (locale, source) in SOURCES {
            let messages = messages(source).unwrap_or_else(|e| panic!("{locale}: {e}"));
            assert_eq!(messages.len(), source.lines().filter(|l| l.contains(" = ")).count(), "{locale}");
        }
        assert_eq!(get("en", "list_or"), " or ", "leading and trailing spaces survive");
        assert_eq!(get("en", "list_or_more"), ", or ");
    }

    #[test]
    fn every_language_has_every_english_id_and_no_other() {
        let english: HashSet<&str> = ids().collect();
        assert!(english.len() >= 21, "{english:?}");
        for (locale, messages) in locales() {
            let ids: HashSet<&str> = messages.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids.len(), messages.len(), "{locale} defines an id twice");
            for id in &english {
                assert!(ids.contains(id), "{locale} lacks `{id}`");
            }
            for id in &ids {
                assert!(english.contains(id), "{locale} has `{id}`, which English lacks");
            }
            for (id, text) in messages {
                assert!(!text.trim().is_empty(), "{locale} `{id}` is empty");
            }
        }
    }

    #[test]
    fn placeholders_match_the_english_ones() {
        for (locale, messages) in locales() {
            for (id, text) in messages {
                assert_eq!(text.matches("%s").count(), get("en", id).matches("%s").count(), "{locale} `{id}`");
                assert_eq!(text.matches('%').count(), text.matches("%s").count(), "{locale} `{id}`: stray %");
            }
        }
    }

    #[test]
    fn yes_and_no_words_are_lower_case_and_disjoint() {
        for (locale, _) in locales() {
            let yes: HashSet<&str> = get(locale, "yes_words").split('|').collect();
            let no: HashSet<&str> = get(locale, "no_words").split('|').collect();
            assert!(yes.is_disjoint(&no), "{locale}: {:?}", yes.intersection(&no).collect::<Vec<_>>());
            for word in yes.iter().chain(&no) {
                assert_eq!(*word, word.to_lowercase(), "{locale}: `{word}`");
                assert_eq!(*word, word.trim(), "{locale}: `{word}`");
                assert!(!word.is_empty(), "{locale}: empty word");
            }
            let confirm_yes = get(locale, "confirm_yes").to_lowercase();
            let confirm_no = get(locale, "confirm_no").to_lowercase();
            assert!(yes.contains(confirm_yes.as_str()), "{locale}: button `{confirm_yes}` is not a yes word");
            assert!(no.contains(confirm_no.as_str()), "{locale}: button `{confirm_no}` is not a no word");
        }
    }

    #[test]
    fn accented_yes_and_no_words_have_unaccented_forms() {
        assert!(get("es", "yes_words").split('|').any(|w| w == "sí"));
        assert!(get("es", "yes_words").split('|').any(|w| w == "si"));
        assert!(get("pt", "no_words").split('|').any(|w| w == "não"));
        assert!(get("pt", "no_words").split('|').any(|w| w == "nao"));
        for (locale, _) in locales() {
            for id in ["yes_words", "no_words"] {
                let words: HashSet<&str> = get(locale, id).split('|').collect();
                for word in &words {
                    let plain = unaccented(word);
                    assert!(words.contains(plain.as_str()), "{locale} `{id}`: `{word}` lacks `{plain}`");
                }
            }
        }
    }

    #[test]
    fn number_and_ordinal_words_have_their_positions() {
        for (locale, _) in locales() {
            assert_eq!(get(locale, "number_words").split('|').count(), 11, "{locale}: 0 to 10");
            assert_eq!(get(locale, "ordinal_words").split('|').count(), 10, "{locale}: first to tenth");
        }
    }

    fn unaccented(word: &str) -> String {
        word.chars()
            .map(|c| match c {
                'á' | 'à' | 'â' | 'ã' => 'a',
                'é' | 'è' | 'ê' => 'e',
                'í' | 'î' => 'i',
                'ó' | 'ô' | 'õ' | 'ö' => 'o',
                'ú' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                other => other,
            })
            .collect()
    }
}
