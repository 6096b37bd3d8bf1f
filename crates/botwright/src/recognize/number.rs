//! Numbers in a reply: digits ("42", "-3.5", "3,5", "1,000") or number words ("twenty-one",
//! "veintiuno", "einundzwanzig", "vingt et un", "vinte e um").

use super::fold::fold;
use super::language::Language;
use super::number_words::{Lexeme, NumberWord, german_morphemes, lookup};

/// Reads the one number in a reply, in the reply's language (a BCP 47 tag such as `"en"` or
/// `"pt-BR"`; unknown languages are read as English).
///
/// Accepts digits with an optional sign, a decimal point or comma and thousands separators, and
/// number words (zero to the millions) of English, Spanish, German, French and Portuguese, in
/// any case and with or without accents. The number may stand in a sentence ("I'd say 42").
///
/// Separators: with both `.` and `,` present the last one is the decimal mark (`1,000.5`,
/// `1.000,5`); a single separator followed by exactly three digits groups thousands when it is
/// the language's grouping mark (`1,000` in English, `1.000` in the other four) and is a
/// decimal mark otherwise (`3.5`, `3,5` in any language); several identical separators group
/// thousands (`1,000,000`).
///
/// Returns `None` when the reply holds no number, a malformed one (`1,00,0`), or two different
/// numbers ("42 and 43", "5-6", a date): a prompt should ask again rather than guess. The same
/// number said twice ("42, yes 42") counts once. An indefinite article right before a number is
/// not read as "one" ("quiero un 5" is 5). Leading "minus" / "menos" / "moins" negates.
/// Spaces do not group digits ("1 000" is two numbers), and fractions in words are not read
/// ("three and a half", "zweieinhalb" give `None`).
///
/// ```
/// use botwright::recognize::parse_number;
///
/// assert_eq!(parse_number("I'd say 42", "en"), Some(42.0));
/// assert_eq!(parse_number("3,5", "de"), Some(3.5));
/// assert_eq!(parse_number("1,000", "en"), Some(1000.0));
/// assert_eq!(parse_number("twenty-one", "en"), Some(21.0));
/// assert_eq!(parse_number("Veintiuno", "es"), Some(21.0));
/// assert_eq!(parse_number("einundzwanzig", "de"), Some(21.0));
/// assert_eq!(parse_number("quatre-vingt-dix-sept", "fr"), Some(97.0));
/// assert_eq!(parse_number("42 and 43", "en"), None);
/// assert_eq!(parse_number("no idea", "en"), None);
/// ```
pub fn parse_number(text: &str, language: &str) -> Option<f64> {
    parse_folded_number(&fold(text), Language::from_tag(language))
}

/// [`parse_number`] on a reply already folded (see [`super::fold`]).
pub(crate) fn parse_folded_number(folded: &str, language: Language) -> Option<f64> {
    let mut scanner = Scanner::new(language);
    for token in Tokens::new(folded) {
        scanner.feed(token).ok()?;
    }
    scanner.finish().ok()?
}

/// A piece of folded text, as the number scanner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// Digits with optional sign and separators: "-1,000.5".
    Digits(&'a str),
    /// A run of letters.
    Word(&'a str),
    /// Punctuation or a symbol that ends a number phrase.
    Break,
}

/// Splits folded text into [`Token`]s; whitespace, hyphens and apostrophes only separate.
#[derive(Debug)]
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    prev: Option<char>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { text, pos: 0, prev: None }
    }
}

/// Length of the numeral at the start of `s`: digits, and `.`/`,` each followed by a digit.
fn numeral_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i + 1 < bytes.len() && matches!(bytes[i], b'.' | b',') && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            return i;
        }
    }
}

/// Whether `s` starts a numeral: a digit, or a separator then a digit (".5").
fn starts_numeral(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_digit() => true,
        Some(b'.' | b',') => bytes.get(1).is_some_and(u8::is_ascii_digit),
        _ => false,
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            let start = self.pos;
            let rest = &self.text[start..];
            let c = rest.chars().next()?;
            let prev_alphanumeric = self.prev.is_some_and(char::is_alphanumeric);
            let signed = matches!(c, '-' | '+') && !prev_alphanumeric && starts_numeral(&rest[1..]);
            if signed || c.is_ascii_digit() || (!prev_alphanumeric && starts_numeral(rest)) {
                let sign = usize::from(signed);
                let len = sign + numeral_len(&rest[sign..]);
                self.pos += len;
                self.prev = rest[..len].chars().next_back();
                return Some(Token::Digits(&rest[..len]));
            }
            if c.is_alphabetic() {
                let len = rest.find(|ch: char| !ch.is_alphabetic()).unwrap_or(rest.len());
                self.pos += len;
                self.prev = Some(c);
                return Some(Token::Word(&rest[..len]));
            }
            self.pos += c.len_utf8();
            self.prev = Some(c);
            if !(c.is_whitespace() || c == '-' || c == '\'') {
                return Some(Token::Break);
            }
        }
    }
}

/// Reads a numeral ("-1.000,5") with the separator rules of [`parse_number`].
fn parse_numeral(numeral: &str, language: Language) -> Option<f64> {
    let (negative, body) = match numeral.as_bytes().first() {
        Some(b'-') => (true, &numeral[1..]),
        Some(b'+') => (false, &numeral[1..]),
        _ => (false, numeral),
    };
    let commas = body.bytes().filter(|&b| b == b',').count();
    let dots = body.bytes().filter(|&b| b == b'.').count();
    let (group, decimal) = match (commas, dots) {
        (0, 0) => (None, None),
        (_, 0) | (0, _) => {
            let sep = if commas > 0 { b',' } else { b'.' };
            let language_group = if language.decimal_comma() { b'.' } else { b',' };
            if commas + dots > 1 || (sep == language_group && groups_valid(body, sep)) {
                (Some(sep), None)
            } else {
                (None, Some(sep))
            }
        }
        _ => {
            let last = body.bytes().rev().find(|b| matches!(b, b'.' | b','))?;
            let (count, other) = if last == b',' { (commas, b'.') } else { (dots, b',') };
            if count != 1 {
                return None;
            }
            (Some(other), Some(last))
        }
    };
    let (integer, fraction) = match decimal.and_then(|d| body.bytes().position(|b| b == d)) {
        Some(at) => (&body[..at], &body[at + 1..]),
        None => (body, ""),
    };
    if let Some(group) = group
        && !groups_valid(integer, group)
    {
        return None;
    }
    let mut plain = String::with_capacity(body.len() + 3);
    if negative {
        plain.push('-');
    }
    if integer.is_empty() {
        plain.push('0');
    }
    plain.extend(integer.chars().filter(char::is_ascii_digit));
    if !fraction.is_empty() {
        plain.push('.');
        plain.push_str(fraction);
    }
    plain.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// Whether `integer` is digits grouped by threes with `sep` ("1,000,000"), at least one group.
fn groups_valid(integer: &str, sep: u8) -> bool {
    let mut groups = integer.split(sep as char);
    let Some(first) = groups.next() else { return false };
    let first_ok = (1..=3).contains(&first.len()) && !first.starts_with('0');
    let mut any = false;
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        any = true;
    }
    first_ok && any
}

/// One number being read from consecutive words (or a numeral and scale words).
#[derive(Debug, Clone)]
struct Phrase {
    /// Completed thousands and millions.
    total: f64,
    /// The group below one thousand being read (or the numeral's value).
    current: f64,
    /// The last thousand-or-more scale applied; later scales must be smaller.
    last_scale: f64,
    lexemes: u32,
    pending_connector: bool,
    numeral: bool,
    zero: bool,
    /// Whether the phrase is a single indefinite article ("un", "ein").
    article: bool,
    negative: bool,
}

impl Phrase {
    fn new(negative: bool) -> Self {
        Phrase {
            total: 0.0,
            current: 0.0,
            last_scale: f64::INFINITY,
            lexemes: 0,
            pending_connector: false,
            numeral: false,
            zero: false,
            article: false,
            negative,
        }
    }

    fn numeral(value: f64, negative: bool) -> Self {
        Phrase { current: value, numeral: true, lexemes: 1, ..Phrase::new(negative) }
    }

    /// Adds a word to the phrase if it continues the number; `false` leaves the phrase as is.
    fn accept(&mut self, word: NumberWord, language: Language) -> bool {
        if self.zero {
            return false;
        }
        let accepted = match word.lexeme {
            Lexeme::Connector => {
                if self.lexemes == 0 || self.pending_connector || self.numeral {
                    return false;
                }
                self.pending_connector = true;
                return true;
            }
            Lexeme::Small(0) => {
                if self.lexemes > 0 {
                    return false;
                }
                self.zero = true;
                true
            }
            Lexeme::Small(value) => self.add_small(value, language),
            Lexeme::Hundreds(value) => {
                let ok = !self.numeral && self.current == 0.0;
                if ok {
                    self.current = f64::from(value);
                }
                ok
            }
            Lexeme::Scale(100) => {
                let ok = self.current < 100.0;
                if ok {
                    self.current = self.current.max(1.0) * 100.0;
                }
                ok
            }
            Lexeme::Scale(scale) => {
                let scale = f64::from(scale);
                let ok = scale < self.last_scale;
                if ok {
                    self.total += self.current.max(1.0) * scale;
                    self.current = 0.0;
                    self.last_scale = scale;
                }
                ok
            }
        };
        if accepted {
            self.article = self.lexemes == 0 && word.article;
            self.lexemes += 1;
            self.pending_connector = false;
        }
        accepted
    }

    /// Adds a value below one hundred where the grammar allows it ("twenty" + "one", not
    /// "one" + "two").
    fn add_small(&mut self, value: u32, language: Language) -> bool {
        if self.numeral {
            return false;
        }
        // The group is below one thousand and whole, so this cast is exact.
        let low = (self.current % 100.0) as u32;
        let ok = low == 0
            || (low >= 20 && low.is_multiple_of(10) && value < 10)
            || (language == Language::German
                && (1..10).contains(&low)
                && self.pending_connector
                && value >= 20
                && value.is_multiple_of(10))
            || (language == Language::French
                && ((low == 10 && (7..10).contains(&value))
                    || ((low == 60 || low == 80) && (10..20).contains(&value))
                    || (low == 4 && value == 20)));
        if ok {
            if language == Language::French && low == 4 && value == 20 {
                // "quatre-vingt(s)": four twenties.
                self.current += 76.0;
            } else {
                self.current += f64::from(value);
            }
        }
        ok
    }

    fn value(&self) -> f64 {
        let value = self.total + self.current;
        if self.negative { -value } else { value }
    }
}

/// Whether `word` says "half", which makes the number a fraction this recognizer does not read.
fn is_half(word: &str, language: Language) -> bool {
    match language {
        Language::English => matches!(word, "half" | "halves"),
        Language::Spanish => matches!(word, "medio" | "media"),
        Language::German => matches!(word, "halb" | "halbe" | "halben" | "einhalb"),
        Language::French => matches!(word, "demi" | "demie"),
        Language::Portuguese => matches!(word, "meio" | "meia"),
    }
}

/// Why a phrase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Another number starts right after it.
    NumberFollows,
    /// Anything else.
    Other,
}

/// The reply holds two different numbers, or a malformed one.
#[derive(Debug)]
struct Unclear;

/// Collects the numbers said in a reply.
#[derive(Debug)]
struct Scanner {
    language: Language,
    phrase: Option<Phrase>,
    found: Option<f64>,
    negate_next: bool,
    first_token: bool,
}

impl Scanner {
    fn new(language: Language) -> Self {
        Scanner { language, phrase: None, found: None, negate_next: false, first_token: true }
    }

    fn feed(&mut self, token: Token<'_>) -> Result<(), Unclear> {
        let first = std::mem::replace(&mut self.first_token, false);
        match token {
            Token::Digits(numeral) => {
                let value = parse_numeral(numeral, self.language).ok_or(Unclear)?;
                self.end_phrase(End::NumberFollows)?;
                let negative = std::mem::take(&mut self.negate_next);
                self.phrase = Some(Phrase::numeral(value, negative));
            }
            // Fractions are not read; "three and a half" must not pass for 3.
            Token::Word(word) if is_half(word, self.language) => return Err(Unclear),
            Token::Word(word) if self.negation(word, first) => {
                self.end_phrase(End::Other)?;
                self.negate_next = true;
            }
            Token::Word(word) if self.language == Language::German => match german_morphemes(word) {
                Some(parts) => {
                    for part in parts {
                        self.push(part)?;
                    }
                }
                None => self.not_a_number()?,
            },
            Token::Word(word) => match lookup(word, self.language) {
                Some(number) => self.push(number)?,
                None => self.not_a_number()?,
            },
            Token::Break => self.not_a_number()?,
        }
        Ok(())
    }

    fn negation(&self, word: &str, first: bool) -> bool {
        match self.language {
            Language::English => matches!(word, "minus" | "negative"),
            Language::German => word == "minus",
            // "menos" and "moins" also mean "less" ("más o menos 5", "au moins 5").
            Language::Spanish | Language::Portuguese => first && word == "menos",
            Language::French => first && word == "moins",
        }
    }

    fn not_a_number(&mut self) -> Result<(), Unclear> {
        self.negate_next = false;
        self.end_phrase(End::Other)
    }

    fn push(&mut self, word: NumberWord) -> Result<(), Unclear> {
        if let Some(phrase) = &mut self.phrase {
            if phrase.accept(word, self.language) {
                return Ok(());
            }
            let end = if word.lexeme == Lexeme::Connector { End::Other } else { End::NumberFollows };
            self.end_phrase(end)?;
        }
        let mut phrase = Phrase::new(std::mem::take(&mut self.negate_next));
        if phrase.accept(word, self.language) {
            self.phrase = Some(phrase);
        }
        Ok(())
    }

    fn end_phrase(&mut self, end: End) -> Result<(), Unclear> {
        let Some(phrase) = self.phrase.take() else { return Ok(()) };
        if phrase.article && phrase.lexemes == 1 && end == End::NumberFollows {
            return Ok(());
        }
        let value = phrase.value();
        if !value.is_finite() {
            return Err(Unclear);
        }
        match self.found {
            Some(found) if found != value => Err(Unclear),
            _ => {
                self.found = Some(value);
                Ok(())
            }
        }
    }

    fn finish(mut self) -> Result<Option<f64>, Unclear> {
        self.end_phrase(End::Other)?;
        Ok(self.found)
    }
}

#[cfg(test)]
#[path = "number_tests.rs"]
mod tests;
