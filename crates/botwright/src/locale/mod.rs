//! Localization: every text by message id, in the user's language.
//!
//! A [`Localizer`] holds the messages of every locale and formats them by id and [`Args`]. It is
//! built once at start (see [`Localizer::builder`]), is `Send + Sync`, and is meant to be shared
//! behind an `Arc`.
//!
//! # Which locale, and which message: the one order
//!
//! 1. **The user's locale** ([`resolve_locale`]): the locale stored as the user's preference,
//!    else the `locale` of the activity being answered, else the bot's default locale. Empty
//!    values and values that are not language tags are skipped. Proactive messages usually have
//!    no activity, so the stored preference is what makes them speak the user's language.
//! 2. **The lookup** ([`Localizer::format`]) tries, in order: the locale itself (`pt-BR`), its
//!    shorter forms (`pt`; `zh-Hant-TW` → `zh-Hant` → `zh`), the default locale, the default's
//!    shorter forms. The first locale that has the id wins ([`Localizer::fallbacks`] lists them).
//! 3. **Nothing found**: `format` returns `None` and callers use the message id itself as the
//!    text ([`Localizer::text`] and [`crate::text::Text::resolve`] do so).
//!
//! Tags are compared without regard to case or `-`/`_` (see [`normalize_locale`]).
//!
//! # Where messages come from, and who wins
//!
//! Within one locale, a later source replaces an earlier one message by message:
//!
//! 1. the built-in strings of the prompts, in English, Spanish, German, French and Portuguese
//!    (ids listed in the [`builtin`] module);
//! 2. Bot Builder v3 JSON tables ([`LocalizerBuilder::v3_dir`], [`LocalizerBuilder::v3_table`]);
//! 3. Project Fluent catalogs ([`LocalizerBuilder::fluent_dir`], [`LocalizerBuilder::fluent`]);
//! 4. messages given in code ([`LocalizerBuilder::message`]), and after building, whatever
//!    [`Localizer::add_message`], [`Localizer::add_fluent`] or [`Localizer::add_v3_table`] add.
//!
//! So an application overrides any built-in string, per locale, by defining the same id.
//!
//! ## Project Fluent: `locales/<locale>/*.ftl`
//!
//! Every `.ftl` file in a locale's directory joins one bundle for that locale, so files may refer
//! to each other's messages and terms; two files defining the same message is an error. Messages
//! are formatted without Unicode isolation marks. Parameters reach Fluent as variables:
//!
//! * named arguments ([`Args::named`]) by their name: `{ $count }`;
//! * positional arguments ([`Args::arg`]) as `$arg1`, `$arg2`, … (so a Fluent override of a
//!   built-in string such as `number_range_error` writes `{ $arg1 }` and `{ $arg2 }`);
//! * numbers as Fluent numbers, so plural selection (`[one]`, `[other]`) and `NUMBER()` work;
//!   booleans as the strings `true` / `false`.
//!
//! `%` means nothing in Fluent text. An attribute is looked up as `message.attribute`.
//!
//! ## Bot Builder v3: `locale/<locale>/<file>.json`
//!
//! Tables load as Bot Builder v3 wrote them: an object whose values are a string, or an array of
//! alternatives of which one is picked at random per use. `index.json` holds global ids;
//! `<Name>.json` holds ids of namespace `name` (looked up as `name:id`), except `BotBuilder.json`,
//! whose ids are the built-in strings' (global) ids, so it overrides them as it did in v3. When
//! arguments are given, the text is formatted with [`crate::text::format`] (`%s`, `%d`, `%2$s`,
//! `%(name)s`); without arguments it is used as it is.
//!
//! ## Validation
//!
//! Everything is read and checked once, by [`LocalizerBuilder::build`]: a Fluent syntax error is
//! a [`LocaleError::FluentSyntax`] naming file, line and column; a Fluent message referring to a
//! missing message, term or function is a [`LocaleError::FluentReference`]; invalid JSON names
//! file, line and column; a JSON value that is not a string or an array of strings names the file
//! and the id; a directory that is not a language tag is an error too.
//!
//! # Example
//!
//! ```
//! use botwright::locale::{Localizer, resolve_locale};
//! use botwright::text::Args;
//!
//! let localizer = Localizer::builder()
//!     .default_locale("en")
//!     .fluent("en", "inline.ftl", "cart = { $count ->\n    [one] One item\n   *[other] { $count } items\n} in your cart.\n")
//!     .v3_table("es", "index.json", r#"{ "cart": "Tienes %(count)s artículos." }"#)
//!     .message("de", "default_number", "Bitte eine Zahl!")
//!     .build()?;
//!
//! let locale = resolve_locale(None, Some("en-US"), localizer.default_locale());
//! assert_eq!(localizer.format(&locale, "cart", &Args::new().named("count", 1)).as_deref(), Some("One item in your cart."));
//! assert_eq!(localizer.format("en", "cart", &Args::new().named("count", 3)).as_deref(), Some("3 items in your cart."));
//! assert_eq!(localizer.format("es-MX", "cart", &Args::new().named("count", 3)).as_deref(), Some("Tienes 3 artículos."));
//! assert_eq!(localizer.text("de", "default_number"), "Bitte eine Zahl!");
//! assert_eq!(localizer.text("fr", "default_confirm"), "Je n'ai pas compris. Veuillez répondre par 'oui' ou par 'non'.");
//! assert_eq!(localizer.text("fr", "no-such-id"), "no-such-id");
//! # Ok::<(), botwright::locale::LocaleError>(())
//! ```

mod builder;
pub mod builtin;
mod error;
mod fluent;
mod loader;
mod resolve;
mod v3;

pub use builder::LocalizerBuilder;
pub use error::LocaleError;
pub use resolve::{normalize_locale, resolve_locale};

use crate::format::{Args, format};
use fluent::FluentCatalog;
use rand::Rng;
use resolve::{chain, normalized};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use unic_langid::LanguageIdentifier;

/// Where a message of one locale is defined.
#[derive(Debug, Clone)]
enum Entry {
    /// Text with `%s` placeholders; one alternative is picked at random.
    Text(Vec<String>),
    /// A message of the locale's Fluent catalog.
    Fluent,
}

/// The messages of every locale, with a default locale. See the [module](self) for the order in
/// which locales and sources are tried.
///
/// ```
/// use botwright::locale::Localizer;
/// use botwright::text::Args;
/// let mut localizer = Localizer::new("en");
/// localizer.add_message("es", "shipped", "Tu pedido %s ha sido enviado.");
/// let args = Args::new().arg("A-17");
/// assert_eq!(localizer.format("es-MX", "shipped", &args).as_deref(), Some("Tu pedido A-17 ha sido enviado."));
/// assert_eq!(localizer.format("es", "unknown-id", &args), None);
/// ```
#[derive(Debug, Clone)]
pub struct Localizer {
    default_locale: String,
    tables: HashMap<String, HashMap<String, Entry>>,
    /// Shared between clones; a clone that adds Fluent messages copies the catalog first.
    fluent: HashMap<String, Arc<FluentCatalog>>,
}

impl Default for Localizer {
    fn default() -> Self {
        Localizer::new("en")
    }
}

impl Localizer {
    /// A localizer with the built-in strings and this default locale.
    pub fn new(default_locale: &str) -> Self {
        let mut localizer = Localizer {
            default_locale: normalize_locale(default_locale),
            tables: HashMap::new(),
            fluent: HashMap::new(),
        };
        for (locale, messages) in builtin::locales() {
            let table = localizer.tables.entry((*locale).to_owned()).or_default();
            for (id, text) in messages {
                table.insert((*id).to_owned(), Entry::Text(vec![text.clone()]));
            }
        }
        localizer
    }

    /// A builder that loads catalogs from files and code; see [`LocalizerBuilder`].
    pub fn builder() -> LocalizerBuilder {
        LocalizerBuilder::new()
    }

    /// The default locale (normalized: `pt-br`).
    pub fn default_locale(&self) -> &str {
        &self.default_locale
    }

    /// The locale for a user (see [`resolve_locale`]) with this localizer's default.
    pub fn resolve_locale(&self, preferred: Option<&str>, activity: Option<&str>) -> String {
        resolve_locale(preferred, activity, &self.default_locale)
    }

    /// Adds (or replaces) a message with `%s`-style placeholders.
    pub fn add_message(&mut self, locale: &str, id: &str, text: impl Into<String>) {
        self.add_alternatives(locale, id, vec![text.into()]);
    }

    /// Adds (or replaces) a message with alternatives, one picked at random per use.
    pub fn add_alternatives(&mut self, locale: &str, id: &str, texts: Vec<String>) {
        self.tables.entry(normalize_locale(locale)).or_default().insert(id.to_owned(), Entry::Text(texts));
    }

    /// Adds Fluent `source` to `locale`'s catalog; its messages replace any text message of the
    /// same id. `name` identifies the source in errors. The source must parse, must not define a
    /// message or term that the catalog already has, and may only refer to messages already
    /// present (or defined in it); when it fails, nothing is added.
    pub fn add_fluent(
        &mut self,
        locale: &str,
        name: impl AsRef<Path>,
        source: impl Into<String>,
    ) -> Result<(), LocaleError> {
        let name = name.as_ref();
        let langid = parse_locale(locale, name)?;
        let resource = fluent::parse(name, source.into())?;
        let key = normalize_locale(locale);
        let mut catalog = match self.fluent.get(&key) {
            Some(existing) => FluentCatalog::clone(existing),
            None => FluentCatalog::new(langid),
        };
        let first_new = catalog.source_count();
        let ids = catalog.add(name, resource, &key)?;
        catalog.validate(first_new)?;
        self.fluent.insert(key.clone(), Arc::new(catalog));
        self.mark_fluent(&key, ids);
        Ok(())
    }

    /// Adds a Bot Builder v3 JSON table for `locale`; `file_name` decides the namespace as on disk
    /// (`index.json`, `BotBuilder.json`: global; `<Name>.json`: `name`). When it fails, nothing is
    /// added.
    pub fn add_v3_table(&mut self, locale: &str, file_name: &str, json: &str) -> Result<(), LocaleError> {
        let path = Path::new(file_name);
        parse_locale(locale, path)?;
        let messages = v3::parse(path, json, v3_namespace(path)?.as_deref())?;
        self.insert_texts(locale, messages);
        Ok(())
    }

    fn insert_texts(&mut self, locale: &str, messages: Vec<(String, Vec<String>)>) {
        let table = self.tables.entry(normalize_locale(locale)).or_default();
        for (id, texts) in messages {
            table.insert(id, Entry::Text(texts));
        }
    }

    fn mark_fluent(&mut self, key: &str, ids: Vec<String>) {
        let table = self.tables.entry(key.to_owned()).or_default();
        for id in ids {
            table.insert(id, Entry::Fluent);
        }
    }

    /// The locales a lookup in `locale` tries, in order, without repeats: the locale (`pt-br`),
    /// its shorter forms (`pt`), the default locale and its shorter forms. All normalized.
    pub fn fallbacks(&self, locale: &str) -> Vec<String> {
        let locale = normalized(locale);
        let mut list: Vec<String> = Vec::with_capacity(4);
        for candidate in chain(&locale, &self.default_locale) {
            if !list.iter().any(|l| l == candidate) {
                list.push(candidate.to_owned());
            }
        }
        list
    }

    /// Message `id` in `locale`, formatted with `args`; `None` when no locale in the fallback
    /// chain has it (callers then use the id itself).
    ///
    /// Ids: `id` (global), `namespace:id` (a v3 `<Name>.json` table), `id.attribute` (a Fluent
    /// attribute). Text messages with alternatives pick one at random. See the [module](self) for
    /// how `args` reach `%s` texts and Fluent messages.
    pub fn format(&self, locale: &str, id: &str, args: &Args) -> Option<String> {
        let locale = normalized(locale);
        chain(&locale, &self.default_locale).find_map(|candidate| self.format_in(candidate, id, args))
    }

    fn format_in(&self, locale: &str, id: &str, args: &Args) -> Option<String> {
        let table = self.tables.get(locale)?;
        match table.get(id) {
            Some(Entry::Text(alternatives)) => {
                let chosen = match alternatives.len() {
                    0 => return Some(String::new()),
                    1 => &alternatives[0],
                    n => &alternatives[rand::rng().random_range(0..n)],
                };
                Some(if args.is_empty() { chosen.clone() } else { format(chosen, args).into_owned() })
            }
            Some(Entry::Fluent) => self.fluent.get(locale)?.format(id, None, args),
            None => {
                let (message, attribute) = id.split_once('.')?;
                match table.get(message) {
                    Some(Entry::Fluent) => self.fluent.get(locale)?.format(message, Some(attribute), args),
                    _ => None,
                }
            }
        }
    }

    /// Whether `format(locale, id, …)` finds a message (in `locale` or a fallback).
    pub fn has_message(&self, locale: &str, id: &str) -> bool {
        let locale = normalized(locale);
        chain(&locale, &self.default_locale).any(|candidate| {
            self.tables.get(candidate).is_some_and(|table| {
                table.contains_key(id)
                    || id.split_once('.').is_some_and(|(m, _)| matches!(table.get(m), Some(Entry::Fluent)))
            })
        })
    }

    /// The locales that have at least one message (normalized, sorted), built-in ones included.
    pub fn locales(&self) -> Vec<&str> {
        let mut locales: Vec<&str> =
            self.tables.iter().filter(|(_, table)| !table.is_empty()).map(|(l, _)| l.as_str()).collect();
        locales.sort_unstable();
        locales
    }

    /// Message `id` in `locale` without arguments, or the id itself.
    pub fn text(&self, locale: &str, id: &str) -> String {
        self.format(locale, id, &Args::default()).unwrap_or_else(|| id.to_owned())
    }

    /// A `|`-separated list message (such as `yes_words`) split into its trimmed, non-empty items.
    pub fn list(&self, locale: &str, id: &str) -> Vec<String> {
        self.text(locale, id).split('|').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
    }

    /// A word table (such as `number_words`): `|` separates positions, `/` separates the
    /// alternatives of one position. `"zero|one/a|two"` gives `[["zero"], ["one", "a"], ["two"]]`.
    pub fn word_table(&self, locale: &str, id: &str) -> Vec<Vec<String>> {
        self.text(locale, id)
            .split('|')
            .map(|position| position.split('/').map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect())
            .collect()
    }
}

/// `locale` as a language identifier; `origin` names the file or directory in the error.
fn parse_locale(locale: &str, origin: &Path) -> Result<LanguageIdentifier, LocaleError> {
    let invalid =
        |reason: String| LocaleError::InvalidLocale { path: origin.to_owned(), locale: locale.to_owned(), reason };
    let trimmed = locale.trim();
    if trimmed.is_empty() {
        return Err(invalid("the tag is empty".to_owned()));
    }
    trimmed.replace('_', "-").parse::<LanguageIdentifier>().map_err(|e| invalid(e.to_string()))
}

/// The namespace of v3 table `path` from its file name; not a `.json` name is an error.
fn v3_namespace(path: &Path) -> Result<Option<String>, LocaleError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    v3::namespace_of(name).ok_or_else(|| LocaleError::InvalidTable {
        path: path.to_owned(),
        problem: "a Bot Builder v3 table must be a `.json` file (`index.json`, `BotBuilder.json` or `<Name>.json`)"
            .to_owned(),
    })
}
