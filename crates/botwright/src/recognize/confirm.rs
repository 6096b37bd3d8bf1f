//! Yes or no in a reply, from localized word lists.

use super::fold::folded_eq;

/// Emoji read as "yes" whatever the word lists say.
const YES_EMOJI: &[char] = &['👍', '👌', '✅', '✔', '☑'];
/// Emoji read as "no" whatever the word lists say.
const NO_EMOJI: &[char] = &['👎', '❌', '✖', '🚫'];

/// Reads a yes or a no at the start of a reply.
///
/// `yes_words` and `no_words` are the localized answers, each entry one word or phrase or
/// several separated by `|` (`"yes|y|yep|sure|ok|true|1"`, `"sí|si|claro|vale"`). An entry
/// matches when the reply starts with its words, whole words only, ignoring case, accents and
/// punctuation around them: with `"sí|si|claro"`, "SI", "sí", "¡Sí, claro!" are yes. Entries
/// may be phrases ("of course") or symbols. A leading 👍 👌 ✅ ✔ ☑ is always yes and
/// 👎 ❌ ✖ 🚫 always no (skin tones and variation selectors ignored).
///
/// When both lists match, the longer match wins ("no" against "no problem" as a yes phrase);
/// an equally long match on both sides, or none, is `None`, as is an empty reply.
///
/// ```
/// use botwright::recognize::parse_confirm;
///
/// let yes = vec!["yes|y|yep|sure|ok|true|1".to_string()];
/// let no = vec!["no|n|nope|false|0".to_string()];
/// assert_eq!(parse_confirm("Yes please", &yes, &no), Some(true));
/// assert_eq!(parse_confirm("nope", &yes, &no), Some(false));
/// assert_eq!(parse_confirm("maybe", &yes, &no), None);
/// assert_eq!(parse_confirm("👍", &yes, &no), Some(true));
///
/// let si = vec!["sí|si|claro|vale".to_string()];
/// assert_eq!(parse_confirm("Sí, claro", &si, &no), Some(true));
/// ```
pub fn parse_confirm(text: &str, yes_words: &[String], no_words: &[String]) -> Option<bool> {
    let yes = longest_match(text, yes_words, YES_EMOJI);
    let no = longest_match(text, no_words, NO_EMOJI);
    match (yes, no) {
        (0, 0) => None,
        (yes, no) if yes > no => Some(true),
        (yes, no) if no > yes => Some(false),
        _ => None,
    }
}

/// How many tokens at the start of `text` the longest matching entry covers (0 for none).
fn longest_match(text: &str, entries: &[String], emoji: &[char]) -> usize {
    let mut best = 0;
    if let Some(first) = Tokens::new(text).next() {
        let mut chars = first.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && emoji.contains(&c)
        {
            best = 1;
        }
    }
    for alternative in entries.iter().flat_map(|entry| entry.split('|')) {
        let mut expected = Tokens::new(alternative).peekable();
        if expected.peek().is_none() {
            continue;
        }
        let mut actual = Tokens::new(text);
        let mut len = 0;
        let matched = expected.all(|word| {
            len += 1;
            actual.next().is_some_and(|got| folded_eq(got, word))
        });
        if matched {
            best = best.max(len);
        }
    }
    best
}

/// Whether `c` separates tokens without being one: whitespace, punctuation, emoji modifiers.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '¡' | '¿'
                | '«'
                | '»'
                | '\u{2018}'..='\u{201F}'
                | '\u{2010}'..='\u{2015}'
                | '…'
                | '·'
                | '\u{FE0E}'
                | '\u{FE0F}'
                | '\u{200D}'
                | '\u{1F3FB}'..='\u{1F3FF}'
                | '。'
                | '、'
                | '！'
                | '？'
                | '，'
        )
}

/// Whether `c` belongs in a word: letters, digits, combining accents.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// The words and symbols of a text: runs of letters and digits, or one symbol (an emoji).
#[derive(Debug, Clone)]
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { rest: text }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.rest.find(|c: char| !is_separator(c))?;
        let rest = &self.rest[start..];
        let first = rest.chars().next()?;
        let len = if is_word_char(first) {
            rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len())
        } else {
            first.len_utf8()
        };
        self.rest = &rest[len..];
        Some(&rest[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::{Tokens, parse_confirm};

    fn words(list: &str) -> Vec<String> {
        vec![list.to_string()]
    }

    #[test]
    fn english_answers() {
        let yes = words("yes|y|yep|sure|ok|true|1");
        let no = words("no|n|nope|false|0");
        let table = [
            ("yes", Some(true)),
            ("Yes", Some(true)),
            ("YES!", Some(true)),
            ("yes please", Some(true)),
            ("  y  ", Some(true)),
            ("ok.", Some(true)),
            ("OK, go ahead", Some(true)),
            ("1", Some(true)),
            ("\"sure\"", Some(true)),
            ("no", Some(false)),
            ("No thanks", Some(false)),
            ("nope", Some(false)),
            ("n", Some(false)),
            ("0", Some(false)),
            ("false", Some(false)),
            ("maybe", None),
            ("yesterday", None),
            ("nobody", None),
            ("okay", None),
            ("10", None),
            ("I said yes", None),
            ("no, yes", Some(false)),
            ("yes, no", Some(true)),
        ];
        for (input, expected) in table {
            assert_eq!(parse_confirm(input, &yes, &no), expected, "{input:?}");
        }
    }

    #[test]
    fn spanish_answers_ignore_case_and_accents() {
        let yes = words("sí|si|claro|vale|por supuesto");
        let no = words("no|nunca|para nada");
        let table = [
            ("SI", Some(true)),
            ("sí", Some(true)),
            ("Sí", Some(true)),
            ("SÍ", Some(true)),
            ("Si\u{0301}", Some(true)),
            ("Sí, claro", Some(true)),
            ("¡Sí!", Some(true)),
            ("¿claro?", Some(true)),
            ("Por supuesto", Some(true)),
            ("por   supuesto que sí", Some(true)),
            ("por favor", None),
            ("para nada", Some(false)),
            ("No, gracias", Some(false)),
            ("sin duda", None),
        ];
        for (input, expected) in table {
            assert_eq!(parse_confirm(input, &yes, &no), expected, "{input:?}");
        }
    }

    #[test]
    fn lists_may_be_split_or_joined() {
        let yes = vec!["oui".to_string(), "ouais|d'accord".to_string(), String::new(), "||".to_string()];
        let no = vec!["non".to_string()];
        assert_eq!(parse_confirm("Oui", &yes, &no), Some(true));
        assert_eq!(parse_confirm("ouais", &yes, &no), Some(true));
        assert_eq!(parse_confirm("D\u{2019}accord !", &yes, &no), Some(true));
        assert_eq!(parse_confirm("non merci", &yes, &no), Some(false));
        assert_eq!(parse_confirm("peut-être", &yes, &no), None);
    }

    #[test]
    fn longer_match_wins_and_ties_are_unclear() {
        let yes = words("no problem|sure");
        let no = words("no");
        assert_eq!(parse_confirm("No problem!", &yes, &no), Some(true));
        assert_eq!(parse_confirm("no", &yes, &no), Some(false));
        let both = words("ok");
        assert_eq!(parse_confirm("ok", &both, &both), None);
    }

    #[test]
    fn emoji() {
        let yes = words("yes");
        let no = words("no");
        let table = [
            ("👍", Some(true)),
            ("👍🏽", Some(true)),
            ("👍 thanks", Some(true)),
            ("✔\u{FE0F}", Some(true)),
            ("✅", Some(true)),
            ("👌", Some(true)),
            ("👎", Some(false)),
            ("👎🏿", Some(false)),
            ("❌", Some(false)),
            ("🎉", None),
            ("😀👍", None),
            ("yes 👎", Some(true)),
        ];
        for (input, expected) in table {
            assert_eq!(parse_confirm(input, &yes, &no), expected, "{input:?}");
        }
        // Emoji entries in the lists work too.
        assert_eq!(parse_confirm("🎉", &words("🎉"), &no), Some(true));
    }

    #[test]
    fn bad_input() {
        let yes = words("yes|y");
        let no = words("no|n");
        for input in ["", " ", "\n\t", "...", "?!", "🎉🎉", "\u{FE0F}", "\u{200D}", "\u{0301}"] {
            assert_eq!(parse_confirm(input, &yes, &no), None, "{input:?}");
        }
        assert_eq!(parse_confirm("yes", &[], &[]), None);
        assert_eq!(parse_confirm("👍", &[], &[]), Some(true));
    }

    #[test]
    fn very_long_replies() {
        let yes = words("yes|y");
        let no = words("no|n");
        let long_yes = format!("yes {}", "and more ".repeat(12_000));
        assert_eq!(parse_confirm(&long_yes, &yes, &no), Some(true));
        let long_word = "y".repeat(100_000);
        assert_eq!(parse_confirm(&long_word, &yes, &no), None);
        let spaces = " ".repeat(100_000);
        assert_eq!(parse_confirm(&spaces, &yes, &no), None);
        let emoji = "👎".repeat(25_000);
        assert_eq!(parse_confirm(&emoji, &yes, &no), Some(false));
    }

    #[test]
    fn tokens_split_words_and_symbols() {
        let tokens: Vec<&str> = Tokens::new("¡Sí, claro! 👍🏽ok").collect();
        assert_eq!(tokens, ["Sí", "claro", "👍", "ok"]);
    }
}
