//! Case and accent folding shared by the recognizers, so that "SÍ", "sí" and "si" compare equal.
//!
//! Folding lowercases, strips the accents of Latin letters (precomposed or as combining marks),
//! spells out `ß`, `œ` and `æ`, maps the ordinal indicators `º`/`ª` to `o`/`a`, typographic
//! apostrophes to `'`, and drops emoji modifiers (skin tones, variation selectors, zero-width
//! joiners) so "👍🏽" folds to "👍".

use std::iter::FlatMap;
use std::str::Chars;

/// At most two chars produced by folding one lowercase char.
#[derive(Debug, Clone)]
pub(crate) struct Folded {
    chars: [char; 2],
    len: u8,
    next: u8,
}

impl Folded {
    fn none() -> Self {
        Folded { chars: ['\0', '\0'], len: 0, next: 0 }
    }

    fn one(c: char) -> Self {
        Folded { chars: [c, '\0'], len: 1, next: 0 }
    }

    fn two(a: char, b: char) -> Self {
        Folded { chars: [a, b], len: 2, next: 0 }
    }
}

impl Iterator for Folded {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.next < self.len {
            let c = self.chars[usize::from(self.next)];
            self.next += 1;
            Some(c)
        } else {
            None
        }
    }
}

/// Folds one already lowercased char.
fn fold_lower(c: char) -> Folded {
    if c.is_ascii() {
        return Folded::one(c);
    }
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ª' => Folded::one('a'),
        'ç' | 'ć' | 'č' => Folded::one('c'),
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => Folded::one('e'),
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => Folded::one('i'),
        'ñ' | 'ń' | 'ň' => Folded::one('n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'º' => Folded::one('o'),
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => Folded::one('u'),
        'ý' | 'ÿ' => Folded::one('y'),
        'ß' => Folded::two('s', 's'),
        'œ' => Folded::two('o', 'e'),
        'æ' => Folded::two('a', 'e'),
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{00B4}' => Folded::one('\''),
        '\u{2212}' | '\u{2010}' | '\u{2011}' => Folded::one('-'),
        '\u{00A0}' | '\u{202F}' | '\u{2009}' => Folded::one(' '),
        // Combining diacritical marks, variation selectors, zero-width joiner, skin tones.
        '\u{0300}'..='\u{036F}' | '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}' => Folded::none(),
        other => Folded::one(other),
    }
}

/// The folded chars of `text`, lazily, without allocating.
pub(crate) type FoldedChars<'a> =
    FlatMap<FlatMap<Chars<'a>, std::char::ToLowercase, fn(char) -> std::char::ToLowercase>, Folded, fn(char) -> Folded>;

/// Folds `text` lazily.
pub(crate) fn folded(text: &str) -> FoldedChars<'_> {
    let lower: fn(char) -> std::char::ToLowercase = char::to_lowercase;
    let strip: fn(char) -> Folded = fold_lower;
    text.chars().flat_map(lower).flat_map(strip)
}

/// Folds `text` into a new string.
pub(crate) fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    out.extend(folded(text));
    out
}

/// Whether two texts are equal once folded.
pub(crate) fn folded_eq(a: &str, b: &str) -> bool {
    folded(a).eq(folded(b))
}

#[cfg(test)]
mod tests {
    use super::{fold, folded_eq};

    #[test]
    fn folding_table() {
        let table = [
            ("Sí", "si"),
            ("SÍ", "si"),
            ("Si\u{0301}", "si"),
            ("Deuxième", "deuxieme"),
            ("DREIßIG", "dreissig"),
            ("dreißig", "dreissig"),
            ("Fünf", "funf"),
            ("milhões", "milhoes"),
            ("Œuvre", "oeuvre"),
            ("2º", "2o"),
            ("1ª", "1a"),
            ("don\u{2019}t", "don't"),
            ("👍🏽", "👍"),
            ("✔\u{FE0F}", "✔"),
            ("ÇA", "ca"),
            ("", ""),
            ("PLAIN ascii 123", "plain ascii 123"),
        ];
        for (input, expected) in table {
            assert_eq!(fold(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn folded_equality_ignores_case_and_accents() {
        assert!(folded_eq("Sí", "si"));
        assert!(folded_eq("ÚLTIMO", "ultimo"));
        assert!(!folded_eq("si", "sim"));
        assert!(!folded_eq("", "a"));
    }
}
