//! Project Fluent catalogs: one bundle per locale, holding every `.ftl` resource of that locale.

use super::error::LocaleError;
use crate::format::Args;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::resolver::ResolverError;
use fluent_bundle::resolver::errors::ReferenceKind;
use fluent_bundle::types::FluentNumber;
use fluent_bundle::{FluentArgs, FluentError, FluentResource, FluentValue};
use fluent_syntax::ast;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use unic_langid::LanguageIdentifier;

/// One parsed `.ftl` file (or source given in code) and where it came from.
#[derive(Clone)]
struct Source {
    path: PathBuf,
    resource: Arc<FluentResource>,
}

/// The Fluent messages of one locale.
pub(crate) struct FluentCatalog {
    langid: LanguageIdentifier,
    sources: Vec<Source>,
    /// Term ids (without the leading `-`); the bundle has no public way to ask for them.
    terms: HashSet<String>,
    bundle: FluentBundle<Arc<FluentResource>>,
}

impl fmt::Debug for FluentCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FluentCatalog")
            .field("langid", &self.langid.to_string())
            .field("sources", &self.sources.iter().map(|s| s.path.display().to_string()).collect::<Vec<_>>())
            .finish()
    }
}

impl Clone for FluentCatalog {
    fn clone(&self) -> Self {
        let mut bundle = new_bundle(&self.langid);
        for source in &self.sources {
            // The resources were accepted once without conflicts, so nothing is overridden.
            bundle.add_resource_overriding(Arc::clone(&source.resource));
        }
        FluentCatalog { langid: self.langid.clone(), sources: self.sources.clone(), terms: self.terms.clone(), bundle }
    }
}

fn new_bundle(langid: &LanguageIdentifier) -> FluentBundle<Arc<FluentResource>> {
    let mut bundle = FluentBundle::new_concurrent(vec![langid.clone()]);
    bundle.set_use_isolating(false);
    // NUMBER() is the only built-in function; registering it on a fresh bundle cannot clash.
    let _ = bundle.add_builtins();
    bundle
}

/// Line and column (both from 1, the column in characters) of byte `offset` in `source`.
pub(crate) fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    // An error at the very end (an unclosed placeable, say) belongs to the last line, not to the
    // empty line after the final newline.
    if offset == source.len() && source.ends_with('\n') {
        offset -= 1;
    }
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Parses Fluent `source`; a syntax error names `path` and the line of the first error.
pub(crate) fn parse(path: &Path, source: String) -> Result<FluentResource, LocaleError> {
    let source = match source.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => source,
    };
    FluentResource::try_new(source).map_err(|(resource, errors)| {
        let (line, column) = errors.first().map_or((1, 1), |e| line_and_column(resource.source(), e.pos.start));
        LocaleError::FluentSyntax {
            path: path.to_owned(),
            line,
            column,
            message: errors.first().map_or_else(|| "syntax error".to_owned(), |e| e.kind.to_string()),
            more: errors.len().saturating_sub(1),
        }
    })
}

impl FluentCatalog {
    /// An empty catalog for `langid`.
    pub(crate) fn new(langid: LanguageIdentifier) -> Self {
        let bundle = new_bundle(&langid);
        FluentCatalog { langid, sources: Vec::new(), terms: HashSet::new(), bundle }
    }

    /// Adds a parsed resource and returns the ids of the messages it defines. A message or term
    /// that another resource of this catalog (or this one, twice) defines is an error, and then
    /// nothing is added.
    pub(crate) fn add(
        &mut self,
        path: &Path,
        resource: FluentResource,
        locale: &str,
    ) -> Result<Vec<String>, LocaleError> {
        let duplicate =
            |id: String| LocaleError::DuplicateMessage { path: path.to_owned(), locale: locale.to_owned(), id };
        let mut messages = Vec::new();
        let mut terms = Vec::new();
        for entry in resource.entries() {
            match entry {
                ast::Entry::Message(message) => {
                    let id = message.id.name;
                    if self.bundle.has_message(id) || messages.iter().any(|m| m == id) {
                        return Err(duplicate(id.to_owned()));
                    }
                    messages.push(id.to_owned());
                }
                ast::Entry::Term(term) => {
                    let id = term.id.name;
                    if self.terms.contains(id) || terms.iter().any(|t| t == id) {
                        return Err(duplicate(format!("-{id}")));
                    }
                    terms.push(id.to_owned());
                }
                _ => {}
            }
        }
        let resource = Arc::new(resource);
        if let Err(errors) = self.bundle.add_resource(Arc::clone(&resource)) {
            // Checked above; kept so that a conflict can never pass silently.
            if let Some(FluentError::Overriding { id, .. }) = errors.into_iter().next() {
                return Err(duplicate(id));
            }
        }
        self.terms.extend(terms);
        self.sources.push(Source { path: path.to_owned(), resource });
        Ok(messages)
    }

    /// Formats every message (value and attributes) of the resources from `first_source` on
    /// without arguments, and reports the first problem that arguments cannot fix: a reference to
    /// a missing message, term or function, a message without value used as one, a cycle.
    pub(crate) fn validate(&self, first_source: usize) -> Result<(), LocaleError> {
        for source in self.sources.iter().skip(first_source) {
            for entry in source.resource.entries() {
                let ast::Entry::Message(message) = entry else { continue };
                let id = message.id.name;
                let Some(compiled) = self.bundle.get_message(id) else { continue };
                let mut patterns = Vec::with_capacity(1 + message.attributes.len());
                if let Some(value) = compiled.value() {
                    patterns.push((id.to_owned(), value));
                }
                for attribute in compiled.attributes() {
                    patterns.push((format!("{id}.{}", attribute.id()), attribute.value()));
                }
                for (name, pattern) in patterns {
                    let mut errors = Vec::new();
                    self.bundle.format_pattern(pattern, None, &mut errors);
                    if let Some(error) = errors.into_iter().find(|e| !is_missing_variable(e)) {
                        return Err(LocaleError::FluentReference {
                            path: source.path.clone(),
                            line: definition_line(source.resource.source(), id),
                            id: name,
                            message: error.to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// How many resources the catalog holds.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Message `id` (or its `attribute`) formatted with `args`; `None` when the message (or
    /// attribute) does not exist or has no value.
    pub(crate) fn format(&self, id: &str, attribute: Option<&str>, args: &Args) -> Option<String> {
        let message = self.bundle.get_message(id)?;
        let pattern = match attribute {
            None => message.value()?,
            Some(name) => message.get_attribute(name)?.value(),
        };
        let args = fluent_args(args);
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args.as_ref(), &mut errors).into_owned();
        if !errors.is_empty() {
            tracing::warn!(locale = %self.langid, id, ?attribute, ?errors, "Fluent message formatted with errors");
        }
        Some(text)
    }
}

fn is_missing_variable(error: &FluentError) -> bool {
    matches!(error, FluentError::ResolverError(ResolverError::Reference(ReferenceKind::Variable { .. })))
}

/// The line (from 1) of the definition of message `id` in `source`; 0 when not found.
fn definition_line(source: &str, id: &str) -> usize {
    source
        .lines()
        .position(|line| line.strip_prefix(id).is_some_and(|rest| rest.trim_start().starts_with('=')))
        .map_or(0, |i| i + 1)
}

/// Positional arguments become `$arg1`, `$arg2`…; named ones keep their names (and win over a
/// positional one of the same name).
fn fluent_args(args: &Args) -> Option<FluentArgs<'_>> {
    if args.is_empty() {
        return None;
    }
    let mut out = FluentArgs::with_capacity(args.positional.len() + args.named.len());
    for (index, value) in args.positional.iter().enumerate() {
        out.set(format!("arg{}", index + 1), fluent_value(value));
    }
    for (name, value) in &args.named {
        out.set(name.as_str(), fluent_value(value));
    }
    Some(out)
}

/// Numbers become Fluent numbers (so plural selection works), booleans the strings `true` and
/// `false`, null the empty string, arrays and objects their JSON text.
fn fluent_value(value: &Value) -> FluentValue<'_> {
    match value {
        Value::String(s) => FluentValue::from(s.as_str()),
        Value::Number(n) => {
            let text = n.to_string();
            match text.parse::<FluentNumber>() {
                Ok(number) => FluentValue::Number(number),
                Err(_) => FluentValue::from(text),
            }
        }
        Value::Bool(true) => FluentValue::from("true"),
        Value::Bool(false) => FluentValue::from("false"),
        Value::Null => FluentValue::from(""),
        other => FluentValue::from(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let source = "a = 1\nbé = 2\nc";
        assert_eq!(line_and_column(source, 0), (1, 1));
        assert_eq!(line_and_column(source, 6), (2, 1));
        assert_eq!(line_and_column(source, 9), (2, 3));
        assert_eq!(line_and_column(source, 14), (3, 1));
        assert_eq!(line_and_column(source, 99), (3, 2));
        assert_eq!(line_and_column("a = 1\nb = {\n", 12), (2, 6));
    }

    #[test]
    fn definitions_are_found_by_id() {
        let source = "# c\nhello = Hi\nhello-world =\n    Hi all\n";
        assert_eq!(definition_line(source, "hello"), 2);
        assert_eq!(definition_line(source, "hello-world"), 3);
        assert_eq!(definition_line(source, "bye"), 0);
    }
}
