//! How much a JSON body would cost once parsed, told from its text without parsing it.
//!
//! A parsed JSON object costs hundreds of bytes however small its text (`{"k":0}` is 7 bytes of
//! text and about 600 once parsed): a 256 KiB body of small objects parses into tens of MiB.
//! The endpoint counts the objects and arrays of an activity before parsing it, and refuses one
//! with more than [`DirectLineConfig::max_activity_containers`](super::DirectLineConfig).

/// The number of JSON objects and arrays in `bytes` (brackets outside strings), counting no
/// further than `limit + 1`.
pub(crate) fn containers(bytes: &[u8], limit: usize) -> usize {
    let mut count = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                count += 1;
                if count > limit {
                    return count;
                }
            }
            _ => {}
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert_eq!(containers(br#"{"type":"message","text":"{[ \"{[\" ]}"}"#, 100), 1);
        assert_eq!(containers(br#"{"a":[{"b":{}},[]],"c":"\\"}"#, 100), 5);
        assert_eq!(containers(b"[[[[[[[[[[", 3), 4, "stops counting past the limit");
        assert_eq!(containers(b"", 3), 0);
    }
}
