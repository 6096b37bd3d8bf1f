//! Prefix scans as key ranges, so that they use the primary key index and no pattern syntax.

/// The smallest string greater than every string starting with `prefix`, in code point order;
/// `None` when there is none (the prefix is empty or made of `char::MAX` only).
///
/// Every key starting with `prefix` lies in `prefix <= key < end`, and every key in that range
/// starts with `prefix`.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn next_char(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        c => char::from_u32(c as u32 + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn increments_the_last_char() {
        assert_eq!(prefix_end("user/").as_deref(), Some("user0"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("p\u{10FFFF}").as_deref(), Some("q"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
    }
}
