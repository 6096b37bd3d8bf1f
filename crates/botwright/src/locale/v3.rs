//! Bot Builder v3 JSON tables: `locale/<locale>/index.json` and `locale/<locale>/<Name>.json`.

use super::error::LocaleError;
use serde_json::Value;
use std::path::Path;

/// The namespace of a table file: `index.json` and `BotBuilder.json` (the built-in strings,
/// which live in the global namespace here) give `Some(None)`, `<Name>.json` gives
/// `Some(Some("name"))`, a file that is not JSON gives `None`.
pub(crate) fn namespace_of(file_name: &str) -> Option<Option<String>> {
    let stem = file_name.strip_suffix(".json").or_else(|| file_name.strip_suffix(".JSON"))?;
    if stem.is_empty() {
        return None;
    }
    if stem.eq_ignore_ascii_case("index") || stem.eq_ignore_ascii_case("botbuilder") {
        Some(None)
    } else {
        Some(Some(stem.to_lowercase()))
    }
}

/// The messages of a table: `(id, alternatives)`, ids prefixed with `namespace:` when there is
/// one. The top level must be an object; each value a string or a non-empty array of strings.
pub(crate) fn parse(
    path: &Path,
    source: &str,
    namespace: Option<&str>,
) -> Result<Vec<(String, Vec<String>)>, LocaleError> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let value: Value = serde_json::from_str(source).map_err(|e| LocaleError::Json {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let invalid = |problem: String| LocaleError::InvalidTable { path: path.to_owned(), problem };
    let Value::Object(map) = value else {
        return Err(invalid(format!("the table must be a JSON object of messages, found {}", kind(&value))));
    };
    let mut messages = Vec::with_capacity(map.len());
    for (id, value) in map {
        let texts = match value {
            Value::String(text) => vec![text],
            Value::Array(items) if items.is_empty() => {
                return Err(invalid(format!("message `{id}` is an empty array; give at least one text")));
            }
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) => Ok(text),
                    other => Err(invalid(format!(
                        "message `{id}`, alternative {}: expected a string, found {}",
                        i + 1,
                        kind(&other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            other => {
                return Err(invalid(format!(
                    "message `{id}`: expected a string or an array of strings, found {}",
                    kind(&other)
                )));
            }
        };
        let key = match namespace {
            Some(ns) => format!("{ns}:{id}"),
            None => id,
        };
        messages.push((key, texts));
    }
    Ok(messages)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_map_to_namespaces() {
        assert_eq!(namespace_of("index.json"), Some(None));
        assert_eq!(namespace_of("BotBuilder.json"), Some(None));
        assert_eq!(namespace_of("MyLib.json"), Some(Some("mylib".to_owned())));
        assert_eq!(namespace_of("notes.txt"), None);
        assert_eq!(namespace_of(".json"), None);
    }

    #[test]
    fn values_of_the_wrong_type_are_errors_naming_the_id() {
        let err = parse(Path::new("x/index.json"), r#"{"a": "ok", "count": 3}"#, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x/index.json") && text.contains("`count`") && text.contains("a number"), "{text}");
        let err = parse(Path::new("x/index.json"), r#"{"a": ["ok", null]}"#, None).unwrap_err();
        assert!(err.to_string().contains("alternative 2"), "{err}");
        let err = parse(Path::new("x/index.json"), r#"["a"]"#, None).unwrap_err();
        assert!(err.to_string().contains("must be a JSON object"), "{err}");
    }

    #[test]
    fn namespaced_ids_carry_the_namespace() {
        let messages = parse(Path::new("mylib.json"), r#"{"hi": ["Hi", "Hello"]}"#, Some("mylib")).unwrap();
        assert_eq!(messages, vec![("mylib:hi".to_owned(), vec!["Hi".to_owned(), "Hello".to_owned()])]);
    }
}
