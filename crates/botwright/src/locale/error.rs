//! What can go wrong when message catalogs are loaded.

use std::path::PathBuf;

/// A message catalog that could not be loaded. Every variant names the file (or, for catalogs
/// given in code, the name they were given) so that a broken catalog is found at start, not as a
/// blank message later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocaleError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A locale directory's name (or a locale given in code) is not a language tag.
    #[error("{}: `{locale}` is not a language tag (such as `en`, `pt-BR`): {reason}", path.display())]
    InvalidLocale {
        /// The directory, or the name given in code.
        path: PathBuf,
        /// The offending tag.
        locale: String,
        /// The parser's explanation.
        reason: String,
    },
    /// A Fluent (`.ftl`) file does not parse.
    #[error("{}:{line}:{column}: {message}{}", path.display(), more_errors(*more))]
    FluentSyntax {
        /// The file.
        path: PathBuf,
        /// Line of the first error, from 1.
        line: usize,
        /// Column (in characters) of the first error, from 1.
        column: usize,
        /// The parser's message for the first error.
        message: String,
        /// How many more errors the file has.
        more: usize,
    },
    /// A Fluent message refers to a message, term or function that does not exist, or cannot be
    /// formatted for another reason that does not depend on its arguments.
    #[error("{}:{line}: message `{id}`: {message}", path.display())]
    FluentReference {
        /// The file that defines the message.
        path: PathBuf,
        /// The line where the message is defined, from 1 (0 when not found).
        line: usize,
        /// The message (`id` or `id.attribute`).
        id: String,
        /// What is wrong.
        message: String,
    },
    /// Two Fluent files of one locale define the same message or term.
    #[error("{}: `{id}` is already defined by another Fluent file of locale `{locale}`", path.display())]
    DuplicateMessage {
        /// The file with the second definition.
        path: PathBuf,
        /// The locale.
        locale: String,
        /// The message or term (terms start with `-`).
        id: String,
    },
    /// A Bot Builder v3 JSON table is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A Bot Builder v3 JSON table is valid JSON but not a table of messages: the top level is
    /// not an object, or a value is neither a string nor a non-empty array of strings.
    #[error("{}: {problem}", path.display())]
    InvalidTable {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the message id where there is one.
        problem: String,
    },
}

fn more_errors(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more error)".to_owned(),
        n => format!(" (and {n} more errors)"),
    }
}
