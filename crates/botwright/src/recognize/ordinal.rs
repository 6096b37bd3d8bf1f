//! Ordinal words ("second", "segundo", "zweite", "deuxième", "2nd") naming a position in a list.

use super::language::Language;

/// A position in a list named by an ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// The n-th item, counted from 1.
    Nth(usize),
    /// The last item.
    Last,
}

impl Position {
    /// The 0-based index this position names in a list of `len` items.
    pub(crate) fn index(self, len: usize) -> Option<usize> {
        match self {
            Position::Nth(n) if (1..=len).contains(&n) => Some(n - 1),
            Position::Last if len > 0 => Some(len - 1),
            _ => None,
        }
    }
}

const ENGLISH: &[(&str, usize)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
];

/// Spanish and Portuguese ordinals, given in the masculine; the feminine ends in "a".
const SPANISH: &[(&str, usize)] = &[
    ("primero", 1),
    ("primer", 1),
    ("segundo", 2),
    ("tercero", 3),
    ("tercer", 3),
    ("cuarto", 4),
    ("quinto", 5),
    ("sexto", 6),
    ("septimo", 7),
    ("setimo", 7),
    ("octavo", 8),
    ("noveno", 9),
    ("decimo", 10),
];

const PORTUGUESE: &[(&str, usize)] = &[
    ("primeiro", 1),
    ("segundo", 2),
    ("terceiro", 3),
    ("quarto", 4),
    ("quinto", 5),
    ("sexto", 6),
    ("setimo", 7),
    ("oitavo", 8),
    ("nono", 9),
    ("decimo", 10),
];

const FRENCH: &[(&str, usize)] = &[
    ("premier", 1),
    ("premiere", 1),
    ("second", 2),
    ("seconde", 2),
    ("deuxieme", 2),
    ("troisieme", 3),
    ("quatrieme", 4),
    ("cinquieme", 5),
    ("sixieme", 6),
    ("septieme", 7),
    ("huitieme", 8),
    ("neuvieme", 9),
    ("dixieme", 10),
];

/// German ordinal stems; the word adds one of [`GERMAN_ENDINGS`] ("zweite", "zweiten").
const GERMAN: &[(&str, usize)] = &[
    ("erst", 1),
    ("zweit", 2),
    ("dritt", 3),
    ("viert", 4),
    ("funft", 5),
    ("fuenft", 5),
    ("sechst", 6),
    ("siebt", 7),
    ("siebent", 7),
    ("acht", 8),
    ("neunt", 9),
    ("zehnt", 10),
];

const GERMAN_ENDINGS: &[&str] = &["e", "en", "er", "es", "em"];

/// Endings of ordinals written with digits: "1st", "2nd", "2º" (folded to "2o"), "1er", "2e".
const DIGIT_SUFFIXES: &[&str] = &["st", "nd", "rd", "th", "o", "a", "er", "re", "e", "eme", "ieme", "ere"];

fn find(table: &[(&str, usize)], word: &str) -> Option<Position> {
    table.iter().find(|(text, _)| *text == word).map(|&(_, n)| Position::Nth(n))
}

/// The position a folded word names as an ordinal, in `language` or in English.
pub(crate) fn ordinal(word: &str, language: Language) -> Option<Position> {
    if let Some(position) = digit_ordinal(word) {
        return Some(position);
    }
    if word == "last" {
        return Some(Position::Last);
    }
    if let Some(position) = find(ENGLISH, word) {
        return Some(position);
    }
    match language {
        Language::English => None,
        Language::Spanish | Language::Portuguese => {
            if matches!(word, "ultimo" | "ultima") {
                return Some(Position::Last);
            }
            let table = if language == Language::Spanish { SPANISH } else { PORTUGUESE };
            let masculine = word.strip_suffix('a').map(|stem| (stem, 'o'));
            find(table, word).or_else(|| {
                let (stem, o) = masculine?;
                table.iter().find(|(text, _)| text.strip_suffix(o) == Some(stem)).map(|&(_, n)| Position::Nth(n))
            })
        }
        Language::French => {
            if matches!(word, "dernier" | "derniere") {
                return Some(Position::Last);
            }
            find(FRENCH, word)
        }
        Language::German => {
            let stem = GERMAN_ENDINGS.iter().find_map(|ending| word.strip_suffix(ending))?;
            if stem == "letzt" { Some(Position::Last) } else { find(GERMAN, stem) }
        }
    }
}

/// "2nd", "3rd", "1er", "2o": digits followed by an ordinal ending.
fn digit_ordinal(word: &str) -> Option<Position> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 || !DIGIT_SUFFIXES.contains(&&word[digits..]) {
        return None;
    }
    word[..digits].parse().ok().map(Position::Nth)
}

#[cfg(test)]
mod tests {
    use super::{Position, ordinal};
    use crate::recognize::language::Language;

    #[test]
    fn ordinal_words() {
        use Language::{English, French, German, Portuguese, Spanish};
        let table = [
            ("first", English, Some(Position::Nth(1))),
            ("second", English, Some(Position::Nth(2))),
            ("tenth", English, Some(Position::Nth(10))),
            ("last", English, Some(Position::Last)),
            ("2nd", English, Some(Position::Nth(2))),
            ("3rd", English, Some(Position::Nth(3))),
            ("21st", English, Some(Position::Nth(21))),
            ("segundo", Spanish, Some(Position::Nth(2))),
            ("segunda", Spanish, Some(Position::Nth(2))),
            ("primer", Spanish, Some(Position::Nth(1))),
            ("tercera", Spanish, Some(Position::Nth(3))),
            ("ultima", Spanish, Some(Position::Last)),
            ("2o", Spanish, Some(Position::Nth(2))),
            ("segundo", Portuguese, Some(Position::Nth(2))),
            ("terceira", Portuguese, Some(Position::Nth(3))),
            ("ultimo", Portuguese, Some(Position::Last)),
            ("zweite", German, Some(Position::Nth(2))),
            ("zweiten", German, Some(Position::Nth(2))),
            ("erste", German, Some(Position::Nth(1))),
            ("achte", German, Some(Position::Nth(8))),
            ("letzte", German, Some(Position::Last)),
            ("deuxieme", French, Some(Position::Nth(2))),
            ("premiere", French, Some(Position::Nth(1))),
            ("dernier", French, Some(Position::Last)),
            ("1er", French, Some(Position::Nth(1))),
            ("2e", French, Some(Position::Nth(2))),
            ("second", French, Some(Position::Nth(2))),
            // English ordinals are understood in every language.
            ("second", German, Some(Position::Nth(2))),
            ("segundo", English, None),
            ("acht", German, None),
            ("a", Spanish, None),
            ("2", English, None),
            ("2x", English, None),
            ("", English, None),
            ("12345th", English, None),
        ];
        for (word, language, expected) in table {
            assert_eq!(ordinal(word, language), expected, "{language:?}: {word:?}");
        }
    }

    #[test]
    fn positions_index_lists() {
        assert_eq!(Position::Nth(1).index(3), Some(0));
        assert_eq!(Position::Nth(3).index(3), Some(2));
        assert_eq!(Position::Nth(4).index(3), None);
        assert_eq!(Position::Nth(0).index(3), None);
        assert_eq!(Position::Last.index(3), Some(2));
        assert_eq!(Position::Last.index(0), None);
    }
}
