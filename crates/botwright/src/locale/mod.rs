//! Localization: messages by id, in the user's language.
//!
//! A [`Localizer`] holds message tables per locale: the built-in strings of the prompts (in
//! [`builtin`]), and the application's own, which override them. Lookups follow one documented
//! order (see [`Localizer::format`]).

mod builtin;

use crate::text::{Args, format};
use rand::Rng;
use std::collections::HashMap;

/// Message tables per locale, with a default locale.
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
    tables: HashMap<String, HashMap<String, Vec<String>>>,
}

impl Default for Localizer {
    fn default() -> Self {
        Localizer::new("en")
    }
}

/// A locale tag in the form used as a table key: lower case, `-` between parts.
pub fn normalize_locale(locale: &str) -> String {
    locale.trim().replace('_', "-").to_ascii_lowercase()
}

impl Localizer {
    /// A localizer with the built-in strings and this default locale.
    pub fn new(default_locale: &str) -> Self {
        let mut localizer = Localizer { default_locale: normalize_locale(default_locale), tables: HashMap::new() };
        for (locale, id, text) in builtin::MESSAGES {
            localizer.add_message(locale, id, *text);
        }
        localizer
    }

    /// The default locale.
    pub fn default_locale(&self) -> &str {
        &self.default_locale
    }

    /// Adds (or replaces) a message.
    pub fn add_message(&mut self, locale: &str, id: &str, text: impl Into<String>) {
        self.add_alternatives(locale, id, vec![text.into()]);
    }

    /// Adds (or replaces) a message with alternatives, one picked at random per use.
    pub fn add_alternatives(&mut self, locale: &str, id: &str, texts: Vec<String>) {
        self.tables.entry(normalize_locale(locale)).or_default().insert(id.to_owned(), texts);
    }

    /// The locales to try for `locale`, in order: the locale itself (`pt-br`), its language
    /// (`pt`), the default locale, the default's language.
    pub fn fallbacks(&self, locale: &str) -> Vec<String> {
        let mut chain: Vec<String> = Vec::with_capacity(4);
        let mut push = |l: String| {
            if !l.is_empty() && !chain.contains(&l) {
                chain.push(l);
            }
        };
        let locale = normalize_locale(locale);
        if let Some((language, _)) = locale.split_once('-') {
            let language = language.to_owned();
            push(locale);
            push(language);
        } else {
            push(locale);
        }
        push(self.default_locale.clone());
        if let Some((language, _)) = self.default_locale.split_once('-') {
            push(language.to_owned());
        }
        chain
    }

    fn lookup(&self, locale: &str, id: &str) -> Option<&[String]> {
        self.fallbacks(locale).iter().find_map(|l| self.tables.get(l).and_then(|t| t.get(id)).map(Vec::as_slice))
    }

    /// Message `id` in `locale`, formatted with `args`; `None` when no locale in the fallback
    /// chain has it.
    ///
    /// The order: the locale (`pt-BR`), its language (`pt`), the default locale, its language.
    /// Where a message has alternatives, one is picked at random.
    pub fn format(&self, locale: &str, id: &str, args: &Args) -> Option<String> {
        let alternatives = self.lookup(locale, id)?;
        let chosen = match alternatives.len() {
            0 => return Some(String::new()),
            1 => &alternatives[0],
            n => &alternatives[rand::rng().random_range(0..n)],
        };
        Some(if args.is_empty() { chosen.clone() } else { format(chosen, args).into_owned() })
    }

    /// Message `id` in `locale` without arguments, or the id itself.
    pub fn text(&self, locale: &str, id: &str) -> String {
        self.format(locale, id, &Args::default()).unwrap_or_else(|| id.to_owned())
    }

    /// A `|`-separated list message (such as `yes_words`) split into its items.
    pub fn list(&self, locale: &str, id: &str) -> Vec<String> {
        self.text(locale, id).split('|').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
    }
}

/// The locale a user's messages are resolved in: the user's stored preference, then the
/// activity's `locale`, then the bot's default.
pub fn resolve_locale(preferred: Option<&str>, activity: Option<&str>, default: &str) -> String {
    [preferred, activity].into_iter().flatten().map(str::trim).find(|l| !l.is_empty()).unwrap_or(default).to_owned()
}
