//! Message text: plain, formatted with parameters, picked at random, or looked up by id.
//!
//! A [`Text`] is resolved when a message is sent, in the recipient's locale (see
//! [`crate::locale`]). Placeholders are replaced only when arguments are given, so text a user
//! typed (which may contain `%`) is never mangled.
//!
//! Placeholders, as in Bot Builder v3's `sprintf`: `%s` (the next argument), `%d` / `%i` (the
//! next argument as an integer), `%f` (as a number), `%2$s` (the second argument), `%(name)s`
//! (a named argument) and `%%` (a percent sign).

pub use crate::format::{Args, format};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The text of a message, resolved when it is sent.
///
/// ```
/// use botwright::text::{Args, Text};
/// let text = Text::plain("Your order %s has shipped.").with_args(Args::new().arg("A-17"));
/// assert_eq!(text.resolve(&botwright::locale::Localizer::default(), "en"), "Your order A-17 has shipped.");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Text {
    /// Literal text; formatted only when arguments are given.
    Plain {
        /// The text.
        text: String,
        /// Its arguments.
        #[serde(default)]
        args: Args,
    },
    /// A message id, looked up in the recipient's locale, then formatted with the arguments. An
    /// unknown id is sent as it is: it is never used as a template (it may come from the network).
    Localized {
        /// The message id.
        id: String,
        /// Its arguments.
        #[serde(default)]
        args: Args,
    },
    /// One of several texts, picked at random each time it is resolved.
    OneOf(Vec<Text>),
}

impl Text {
    /// Literal text.
    pub fn plain(text: impl Into<String>) -> Self {
        Text::Plain { text: text.into(), args: Args::default() }
    }

    /// A message looked up by id in the recipient's locale.
    pub fn localized(id: impl Into<String>) -> Self {
        Text::Localized { id: id.into(), args: Args::default() }
    }

    /// One of these literal texts, at random.
    pub fn one_of<I, S>(texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Text::OneOf(texts.into_iter().map(Text::plain).collect())
    }

    /// Replaces the arguments (of every alternative).
    pub fn with_args(self, new_args: Args) -> Self {
        match self {
            Text::Plain { text, .. } => Text::Plain { text, args: new_args },
            Text::Localized { id, .. } => Text::Localized { id, args: new_args },
            Text::OneOf(all) => Text::OneOf(all.into_iter().map(|t| t.with_args(new_args.clone())).collect()),
        }
    }

    /// Adds a positional argument.
    pub fn arg(self, value: impl Into<Value>) -> Self {
        self.map_args(|a| a.arg(value))
    }

    /// Adds a named argument.
    pub fn named(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.map_args(|a| a.named(name, value))
    }

    fn map_args(self, f: impl FnOnce(Args) -> Args) -> Self {
        match self {
            Text::Plain { text, args } => Text::Plain { text, args: f(args) },
            Text::Localized { id, args } => Text::Localized { id, args: f(args) },
            Text::OneOf(all) => {
                let args = f(Args::default());
                Text::OneOf(all.into_iter().map(|t| t.with_args(args.clone())).collect())
            }
        }
    }

    /// The text in `locale`.
    pub fn resolve(&self, localizer: &crate::locale::Localizer, locale: &str) -> String {
        match self {
            Text::Plain { text, args } => {
                if args.is_empty() {
                    text.clone()
                } else {
                    format(text, args).into_owned()
                }
            }
            Text::Localized { id, args } => localizer.format(locale, id, args).unwrap_or_else(|| id.clone()),
            Text::OneOf(all) => match all.len() {
                0 => String::new(),
                1 => all[0].resolve(localizer, locale),
                n => all[rand::rng().random_range(0..n)].resolve(localizer, locale),
            },
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::plain(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::plain(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text::plain(text.clone())
    }
}
