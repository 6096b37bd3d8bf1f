//! Why a configuration cannot be used: [`ConfigError`].

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An entry of the trusted service URLs is neither a host nor an http(s) URL.
    #[error("trusted service URL {entry:?} is not a host or an http(s) URL: {reason}")]
    InvalidTrustedServiceUrl {
        /// The entry as given.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A password is set without an app id.
    #[error("MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not")]
    PasswordWithoutAppId,
    /// A variable holds a value that cannot be used.
    #[error("{variable}={value:?} cannot be used: {reason}")]
    InvalidValue {
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}
