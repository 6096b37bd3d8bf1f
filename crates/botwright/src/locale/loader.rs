//! Reading catalogs from directories: `locales/<locale>/*.ftl` and `locale/<locale>/*.json`.
//!
//! Files are read once, at start, in name order, so that errors and overrides do not depend on
//! the order the file system lists them in.

use super::fluent::{self, FluentCatalog};
use super::{LocaleError, Localizer, parse_locale, v3, v3_namespace};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LocaleError + '_ {
    move |source| LocaleError::Io { path: path.to_owned(), source }
}

/// The entries of `dir` that pass `keep`, sorted by path. Hidden entries (`.name`) are skipped.
fn sorted_entries(dir: &Path, keep: impl Fn(&Path, &fs::FileType) -> bool) -> Result<Vec<PathBuf>, LocaleError> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // `metadata` follows symbolic links, so linked locale directories and files work.
        let file_type = fs::metadata(&path).map_err(io_error(&path))?.file_type();
        if keep(&path, &file_type) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The locale directories of `root`: each subdirectory, with its name as the locale tag.
fn locale_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>, LocaleError> {
    sorted_entries(root, |_, t| t.is_dir())?
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            parse_locale(&name, &dir)?;
            Ok((name, dir))
        })
        .collect()
}

fn read(path: &Path) -> Result<String, LocaleError> {
    fs::read_to_string(path).map_err(io_error(path))
}

impl Localizer {
    /// Loads every `<locale>/*.json` table under `root`. In each locale, `index.json` is loaded
    /// last, so that its global ids win over `BotBuilder.json`'s.
    pub(super) fn load_v3_dir(&mut self, root: &Path) -> Result<(), LocaleError> {
        for (locale, dir) in locale_dirs(root)? {
            let mut files = sorted_entries(&dir, |p, t| {
                t.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
            })?;
            files.sort_by_key(|p| p.file_stem().is_some_and(|s| s.eq_ignore_ascii_case("index")));
            for file in files {
                let namespace = v3_namespace(&file)?;
                let messages = v3::parse(&file, &read(&file)?, namespace.as_deref())?;
                self.insert_texts(&locale, messages);
            }
        }
        Ok(())
    }

    /// Loads every `<locale>/*.ftl` file under `root`, without checking references between
    /// messages (see [`Localizer::validate_fluent`]).
    pub(super) fn load_fluent_dir(&mut self, root: &Path) -> Result<(), LocaleError> {
        for (locale, dir) in locale_dirs(root)? {
            let files = sorted_entries(&dir, |p, t| {
                t.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ftl"))
            })?;
            for file in files {
                let resource = fluent::parse(&file, read(&file)?)?;
                self.insert_fluent(&locale, &file, resource)?;
            }
        }
        Ok(())
    }

    /// Adds a parsed Fluent resource to `locale`'s catalog without checking its references.
    pub(super) fn insert_fluent(
        &mut self,
        locale: &str,
        origin: &Path,
        resource: fluent_bundle::FluentResource,
    ) -> Result<(), LocaleError> {
        let langid = parse_locale(locale, origin)?;
        let key = super::normalize_locale(locale);
        let shared = self.fluent.entry(key.clone()).or_insert_with(|| Arc::new(FluentCatalog::new(langid)));
        let catalog = Arc::make_mut(shared);
        let ids = catalog.add(origin, resource, &key)?;
        self.mark_fluent(&key, ids);
        Ok(())
    }

    /// Checks the references of every Fluent message of every locale.
    pub(super) fn validate_fluent(&self) -> Result<(), LocaleError> {
        let mut locales: Vec<&String> = self.fluent.keys().collect();
        locales.sort();
        for locale in locales {
            self.fluent[locale].validate(0)?;
        }
        Ok(())
    }
}
