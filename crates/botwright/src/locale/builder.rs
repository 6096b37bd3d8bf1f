//! Putting a [`Localizer`] together from files and code.

use super::{LocaleError, Localizer};
use std::path::{Path, PathBuf};

/// Collects catalog sources; [`LocalizerBuilder::build`] reads and checks them all at once.
///
/// Sources are applied in a fixed order whatever the order of the calls: built-in strings, v3
/// tables (directories, then tables given in code), Fluent catalogs (directories, then sources
/// given in code), then single messages; within one kind, in the order given. A later source
/// replaces an earlier one's message of the same id and locale.
///
/// ```no_run
/// use botwright::locale::Localizer;
/// let localizer = Localizer::builder()
///     .default_locale("en")
///     .v3_dir("locale")      // locale/<locale>/index.json, BotBuilder.json, <Name>.json
///     .fluent_dir("locales") // locales/<locale>/*.ftl
///     .build()?;
/// let shared = std::sync::Arc::new(localizer);
/// # Ok::<(), botwright::locale::LocaleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalizerBuilder {
    default_locale: String,
    v3_dirs: Vec<PathBuf>,
    v3_tables: Vec<(String, String, String)>,
    fluent_dirs: Vec<PathBuf>,
    fluent_sources: Vec<(String, PathBuf, String)>,
    messages: Vec<(String, String, Vec<String>)>,
}

impl Default for LocalizerBuilder {
    fn default() -> Self {
        LocalizerBuilder::new()
    }
}

impl LocalizerBuilder {
    /// A builder with default locale `en` and no sources besides the built-in strings.
    pub fn new() -> Self {
        LocalizerBuilder {
            default_locale: "en".to_owned(),
            v3_dirs: Vec::new(),
            v3_tables: Vec::new(),
            fluent_dirs: Vec::new(),
            fluent_sources: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// The bot's default locale: the last resort of locale resolution and of every lookup.
    pub fn default_locale(mut self, locale: &str) -> Self {
        self.default_locale = locale.to_owned();
        self
    }

    /// A Bot Builder v3 locale directory (`locale/`, holding `<locale>/index.json`,
    /// `<locale>/BotBuilder.json`, `<locale>/<Name>.json`). It must exist.
    pub fn v3_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.v3_dirs.push(path.as_ref().to_owned());
        self
    }

    /// A Bot Builder v3 table given as JSON text, as if read from `<locale>/<file_name>`.
    pub fn v3_table(mut self, locale: &str, file_name: &str, json: impl Into<String>) -> Self {
        self.v3_tables.push((locale.to_owned(), file_name.to_owned(), json.into()));
        self
    }

    /// A Fluent directory (`locales/`, holding `<locale>/*.ftl`). It must exist.
    pub fn fluent_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.fluent_dirs.push(path.as_ref().to_owned());
        self
    }

    /// Fluent source given in code (for example with `include_str!`); `name` identifies it in
    /// errors.
    pub fn fluent(mut self, locale: &str, name: impl AsRef<Path>, source: impl Into<String>) -> Self {
        self.fluent_sources.push((locale.to_owned(), name.as_ref().to_owned(), source.into()));
        self
    }

    /// A single message with `%s`-style placeholders.
    pub fn message(mut self, locale: &str, id: &str, text: impl Into<String>) -> Self {
        self.messages.push((locale.to_owned(), id.to_owned(), vec![text.into()]));
        self
    }

    /// A single message with alternatives, one picked at random per use.
    pub fn alternatives(mut self, locale: &str, id: &str, texts: Vec<String>) -> Self {
        self.messages.push((locale.to_owned(), id.to_owned(), texts));
        self
    }

    /// Reads every file and checks every catalog. The first problem found is the error.
    pub fn build(self) -> Result<Localizer, LocaleError> {
        super::parse_locale(&self.default_locale, Path::new("default locale"))?;
        let mut localizer = Localizer::new(&self.default_locale);
        for dir in &self.v3_dirs {
            localizer.load_v3_dir(dir)?;
        }
        for (locale, file_name, json) in &self.v3_tables {
            localizer.add_v3_table(locale, file_name, json)?;
        }
        for dir in &self.fluent_dirs {
            localizer.load_fluent_dir(dir)?;
        }
        for (locale, name, source) in self.fluent_sources {
            let resource = super::fluent::parse(&name, source)?;
            localizer.insert_fluent(&locale, &name, resource)?;
        }
        localizer.validate_fluent()?;
        for (locale, id, texts) in self.messages {
            super::parse_locale(&locale, Path::new(&format!("message `{id}`")))?;
            localizer.add_alternatives(&locale, &id, texts);
        }
        Ok(localizer)
    }
}
