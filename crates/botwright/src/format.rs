//! Placeholders, as in Bot Builder v3's `sprintf`: `%s` (the next argument), `%d` / `%i` (the
//! next argument as an integer), `%f` (as a number), `%2$s` (the second argument), `%(name)s`
//! (a named argument) and `%%` (a percent sign). [`Args`] holds the arguments, [`format()`] fills
//! a template with them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// Arguments for a text's placeholders: positional (`%s`) and named (`%(name)s`, Fluent `$name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Args {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Positional arguments, in order.
    pub positional: Vec<Value>,
    /// Named arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named: Vec<(String, Value)>,
}

impl Args {
    /// No arguments.
    pub fn new() -> Self {
        Args::default()
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.positional.is_empty() && self.named.is_empty()
    }

    /// Adds a positional argument.
    pub fn arg(mut self, value: impl Into<Value>) -> Self {
        self.positional.push(value.into());
        self
    }

    /// Adds a named argument.
    pub fn named(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.named.push((name.into(), value.into()));
        self
    }

    /// A named argument's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.named.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn display(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

fn as_integer(value: &Value) -> String {
    match value {
        Value::Number(n) => {
            n.as_i64().map(|i| i.to_string()).unwrap_or_else(|| (n.as_f64().unwrap_or(0.0).trunc() as i64).to_string())
        }
        Value::String(s) => {
            s.trim().parse::<f64>().map(|f| (f.trunc() as i64).to_string()).unwrap_or_else(|_| "NaN".into())
        }
        Value::Bool(b) => (*b as i64).to_string(),
        _ => "NaN".into(),
    }
}

fn as_float(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
        Value::String(s) => s.trim().parse::<f64>().map(|f| f.to_string()).unwrap_or_else(|_| "NaN".into()),
        _ => "NaN".into(),
    }
}

/// Replaces `%s`-style placeholders in `template` with `args`. Unknown or unmatched placeholders
/// are left as they are: formatting never fails.
///
/// ```
/// use botwright::text::{format, Args};
/// let args = Args::new().arg("Ana").arg(3).named("item", "pears");
/// assert_eq!(format("%s has %d %(item)s (100%%)", &args), "Ana has 3 pears (100%)");
/// assert_eq!(format("%2$s before %1$s", &args), "3 before Ana");
/// ```
pub fn format<'a>(template: &'a str, args: &Args) -> Cow<'a, str> {
    if !template.contains('%') {
        return Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0usize;
    let mut rest = template;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let spec = &rest[pos + 1..];
        let (consumed, replacement) = placeholder(spec, args, &mut next);
        match replacement {
            Some(text) => out.push_str(&text),
            None => out.push_str(&rest[pos..pos + 1 + consumed]),
        }
        rest = &spec[consumed..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Parses one placeholder after `%`; returns how many bytes it used and its replacement.
fn placeholder(spec: &str, args: &Args, next: &mut usize) -> (usize, Option<String>) {
    let bytes = spec.as_bytes();
    if bytes.is_empty() {
        return (0, None);
    }
    if bytes[0] == b'%' {
        return (1, Some("%".into()));
    }
    // Named: %(name)s
    if bytes[0] == b'(' {
        if let Some(close) = spec.find(')') {
            let name = &spec[1..close];
            if let Some(&conv) = bytes.get(close + 1).filter(|b| b.is_ascii()) {
                let value = args.get(name);
                return match value {
                    Some(v) => (close + 2, convert(conv, v)),
                    None => (close + 2, None),
                };
            }
        }
        return (0, None);
    }
    // Positional: %2$s
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && bytes.get(digits) == Some(&b'$') {
        if let Some(&conv) = bytes.get(digits + 1).filter(|b| b.is_ascii()) {
            let index: usize = spec[..digits].parse().unwrap_or(0);
            let value = index.checked_sub(1).and_then(|i| args.positional.get(i));
            return match value {
                Some(v) => (digits + 2, convert(conv, v)),
                None => (digits + 2, None),
            };
        }
        return (0, None);
    }
    match bytes[0] {
        b's' | b'd' | b'i' | b'f' | b'j' => match args.positional.get(*next) {
            Some(v) => {
                *next += 1;
                (1, convert(bytes[0], v))
            }
            None => (1, None),
        },
        _ => (0, None),
    }
}

fn convert(conversion: u8, value: &Value) -> Option<String> {
    match conversion {
        b's' => Some(display(value).into_owned()),
        b'd' | b'i' => Some(as_integer(value)),
        b'f' => Some(as_float(value)),
        b'j' => Some(value.to_string()),
        _ => None,
    }
}
