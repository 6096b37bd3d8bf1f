//! Choosing a store: `memory`, `sqlite:PATH` or `postgres://...`.

use anyhow::anyhow;
use botwright::Storage;
use botwright::bot::BotBuilder;
use botwright::storage::MemoryStore;
use botwright_postgres::{PostgresConfig, PostgresError, PostgresStore};
use botwright_sqlite::SqliteStore;
use std::sync::Arc;

/// An open store of any kind.
#[derive(Debug, Clone)]
pub enum Store {
    /// In process memory.
    Memory(Arc<MemoryStore>),
    /// A SQLite file.
    Sqlite(Arc<SqliteStore>),
    /// A PostgreSQL database.
    Postgres(Arc<PostgresStore>),
}

/// Why a store could not be opened. Messages never hold the store URL's password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The store's description is wrong (an unknown kind, a URL that does not parse, a bad schema
    /// name, a schema of a newer build): trying again cannot help.
    #[error("{0}")]
    Invalid(String),
    /// The store could not be reached or set up now (the database is not up yet, a connection
    /// failed): trying again later may work.
    #[error("{0}")]
    Unavailable(String),
}

impl Store {
    /// Opens the store `spec` names.
    pub async fn open(spec: &str) -> anyhow::Result<Store> {
        Store::try_open(spec).await.map_err(|e| anyhow!(e))
    }

    /// Opens the store `spec` names, telling a wrong description from a store not reachable now.
    pub async fn try_open(spec: &str) -> Result<Store, OpenError> {
        let invalid = |message: String| OpenError::Invalid(redact_text(&message, spec));
        if spec == "memory" {
            return Ok(Store::Memory(Arc::new(MemoryStore::new())));
        }
        if let Some(path) = spec.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(invalid("`sqlite:` needs a file path, e.g. sqlite:botwright.db".into()));
            }
            return match SqliteStore::open(path).await {
                Ok(store) => Ok(Store::Sqlite(Arc::new(store))),
                Err(e) => Err(invalid(format!("cannot open the SQLite store {path:?}: {e}"))),
            };
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let (url, schema) = split_schema(spec);
            let mut config =
                PostgresConfig::from_url(&url).map_err(|e| invalid(format!("invalid PostgreSQL URL: {e}")))?;
            if let Some(schema) = schema {
                config = config.schema(schema).map_err(|e| invalid(format!("invalid PostgreSQL schema name: {e}")))?;
            }
            return match PostgresStore::connect_with(config).await {
                Ok(store) => Ok(Store::Postgres(Arc::new(store))),
                Err(e) => {
                    let message = redact_text(&format!("cannot connect to the PostgreSQL store: {e}"), spec);
                    match e {
                        PostgresError::Pool(_) | PostgresError::Postgres(_) | PostgresError::Migration { .. } => {
                            Err(OpenError::Unavailable(message))
                        }
                        _ => Err(OpenError::Invalid(message)),
                    }
                }
            };
        }
        Err(invalid(format!("unknown store {:?}: use `memory`, `sqlite:PATH` or `postgres://...`", redact(spec))))
    }

    /// The store's state documents.
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Store::Memory(s) => s.clone(),
            Store::Sqlite(s) => s.clone(),
            Store::Postgres(s) => s.clone(),
        }
    }

    /// Gives a bot this store for state, outbox and jobs.
    pub fn apply(&self, builder: BotBuilder) -> BotBuilder {
        match self {
            Store::Memory(s) => builder.store(s.clone()),
            Store::Sqlite(s) => builder.store(s.clone()),
            Store::Postgres(s) => builder.store(s.clone()),
        }
    }
}

/// `spec` fit to print or log: the password of a store URL (in its user information or a
/// `password=` query parameter) replaced by `***`, e.g. `postgres://user:***@host/db`.
pub fn redact(spec: &str) -> String {
    let Ok(mut url) = url::Url::parse(spec) else { return redact_text(spec, spec) };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { "***".to_owned() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `url` escapes the asterisks of a password; show them as typed.
    url.to_string().replace("%2A%2A%2A", "***")
}

/// `text` with every secret of the store URL `spec` (its password as written and decoded) replaced
/// by `***`: for messages that may quote the URL or parts of it.
pub fn redact_text(text: &str, spec: &str) -> String {
    let Ok(url) = url::Url::parse(spec) else { return text.to_owned() };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(password) = url.password() {
        secrets.push(password.to_owned());
        if let Ok(decoded) = percent_decode(password) {
            secrets.push(decoded);
        }
    }
    secrets.extend(url.query_pairs().filter(|(k, _)| k == "password").map(|(_, v)| v.into_owned()));
    secrets.retain(|s| !s.is_empty());
    // Longest first, so that a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut text = text.to_owned();
    for secret in secrets {
        // A password of asterisks would show through `***` itself.
        let mask = if secret.bytes().all(|b| b == b'*') { "[redacted]" } else { "***" };
        text = text.replace(&secret, mask);
    }
    text
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// Takes a `schema=NAME` query parameter (botwright's own) out of a PostgreSQL URL.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    (url, schema)
}

#[cfg(test)]
mod tests {
    use super::{redact, redact_text, split_schema};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the password (percent-encoded in the URL, as it must be), printing the URL
        /// shows `***` in its place, and a message quoting it loses it too.
        #[test]
        fn no_password_survives_redaction(password in "[ -~]{1,24}", user in "[a-z]{1,8}") {
            let encoded: String = password
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            let url = format!("postgres://{user}:{encoded}@db.internal:5432/bot?schema=s");
            prop_assert_eq!(redact(&url), format!("postgres://{user}:***@db.internal:5432/bot?schema=s"));
            let message = format!("connecting to {url} failed: password {password} rejected");
            let redacted = redact_text(&message, &url);
            prop_assert!(!redacted.contains(&encoded), "{}", redacted);
            prop_assert!(!redacted.contains(&password), "{}", redacted);
        }
    }

    #[test]
    fn a_password_of_asterisks_is_redacted_in_messages() {
        let url = "postgres://u:*@h/d";
        let redacted = redact_text("the password * was rejected", url);
        assert!(!redacted.contains('*'), "{redacted}");
        assert_eq!(redact(url), "postgres://u:***@h/d");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://user:s3cret@db.example:5432/bot"), "postgres://user:***@db.example:5432/bot");
        assert_eq!(redact("postgres://user@db/bot?schema=x"), "postgres://user@db/bot?schema=x");
        assert_eq!(redact("postgresql://u:p%40ss@h/d"), "postgresql://u:***@h/d");
        assert!(!redact("postgres://u@h/d?password=hunter2&sslmode=disable").contains("hunter2"));
        assert_eq!(redact("sqlite:bot.db"), "sqlite:bot.db");
        assert_eq!(redact("memory"), "memory");
        let message = "cannot connect to postgres://u:p%40ss@h/d (password p@ss rejected)";
        let redacted = redact_text(message, "postgresql://u:p%40ss@h/d");
        assert!(!redacted.contains("p%40ss") && !redacted.contains("p@ss"), "{redacted}");
    }

    #[test]
    fn the_schema_parameter_is_taken_out_of_the_url() {
        assert_eq!(split_schema("postgres://u@h/db"), ("postgres://u@h/db".into(), None));
        assert_eq!(split_schema("postgres://u@h/db?schema=bot_a"), ("postgres://u@h/db".into(), Some("bot_a".into())));
        assert_eq!(
            split_schema("postgres://u@h/db?sslmode=disable&schema=x&application_name=b"),
            ("postgres://u@h/db?sslmode=disable&application_name=b".into(), Some("x".into()))
        );
    }
}
