//! Tokens of a reply for the time grammar: ASCII numbers, ASCII words and single symbols,
//! with their byte offsets in the original text.

/// A token of the original text; offsets are bytes into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind<'a>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Whether whitespace comes right before it.
    pub(crate) spaced: bool,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// ASCII digits; `value` saturates at `u32::MAX` past nine digits.
    Number { value: u32, digits: usize },
    /// ASCII letters.
    Word(&'a str),
    /// Anything else, one char.
    Symbol(char),
}

/// The token at or after byte `pos`, skipping whitespace.
pub(crate) fn token_at(text: &str, pos: usize) -> Option<Token<'_>> {
    let rest = text.get(pos..)?;
    let trimmed = rest.trim_start();
    let start = pos + (rest.len() - trimmed.len());
    let first = trimmed.chars().next()?;
    let (kind, len) = if first.is_ascii_digit() {
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        let value = if digits <= 9 { trimmed[..digits].parse().unwrap_or(u32::MAX) } else { u32::MAX };
        (Kind::Number { value, digits }, digits)
    } else if first.is_ascii_alphabetic() {
        let len = trimmed.bytes().take_while(u8::is_ascii_alphabetic).count();
        (Kind::Word(&trimmed[..len]), len)
    } else {
        (Kind::Symbol(first), first.len_utf8())
    };
    Some(Token { kind, start, end: start + len, spaced: start > pos })
}

#[cfg(test)]
mod tests {
    use super::{Kind, token_at};

    #[test]
    fn tokens_of_a_text() {
        let text = "at 6:30pm, 2026-12-24T18:00 ünd";
        let mut pos = 0;
        let mut kinds = Vec::new();
        while let Some(token) = token_at(text, pos) {
            kinds.push(token.kind);
            pos = token.end;
        }
        assert_eq!(
            kinds,
            [
                Kind::Word("at"),
                Kind::Number { value: 6, digits: 1 },
                Kind::Symbol(':'),
                Kind::Number { value: 30, digits: 2 },
                Kind::Word("pm"),
                Kind::Symbol(','),
                Kind::Number { value: 2026, digits: 4 },
                Kind::Symbol('-'),
                Kind::Number { value: 12, digits: 2 },
                Kind::Symbol('-'),
                Kind::Number { value: 24, digits: 2 },
                Kind::Word("T"),
                Kind::Number { value: 18, digits: 2 },
                Kind::Symbol(':'),
                Kind::Number { value: 0, digits: 2 },
                Kind::Symbol('ü'),
                Kind::Word("nd"),
            ]
        );
    }

    #[test]
    fn long_numbers_saturate() {
        let text = "12345678901234567890";
        let token = token_at(text, 0).unwrap();
        assert_eq!(token.kind, Kind::Number { value: u32::MAX, digits: 20 });
    }
}
