//! [`BotFramework`]: the channel's parts, built once from a configuration and wired together.
//!
//! One token cache, one set of trusted hosts and one authenticator are shared by the inbound
//! endpoint ([`BotFramework::router`]) and the outbound channel ([`BotFramework::channel`]), so a
//! service URL learned from an authenticated request is trusted for replies and proactive
//! messages at once. The connector has its own connection pool, which follows no redirects; tokens
//! and signing keys share another.

use crate::auth::Authenticator;
use crate::channel::BotFrameworkChannel;
use crate::config::{BotFrameworkConfig, ConfigError};
use crate::connector::ConnectorClient;
use crate::endpoint::{EndpointState, router};
use crate::handler::ActivityHandler;
use crate::token::AppCredentials;
use crate::transport::{connector_client, http_client};
use crate::trust::{TrustedHosts, origin_of_entry};
use botwright::Storage;
use std::sync::Arc;

/// The Bot Framework channel: endpoint, connector client and authentication, sharing state.
///
/// ```no_run
/// use botwright::{Activity, TurnOutcome, async_trait, storage::MemoryStore};
/// use botwright_botframework::{ActivityHandler, BotFramework, BotFrameworkConfig, HandlerError};
/// use std::sync::Arc;
///
/// struct Echo;
///
/// #[async_trait]
/// impl ActivityHandler for Echo {
///     async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
///         println!("{}", activity.text());
///         Ok(TurnOutcome::Completed)
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let bf = BotFramework::from_env()?;
/// let app = axum::Router::new().merge(bf.router(Echo));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3978").await?;
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BotFramework {
    config: Arc<BotFrameworkConfig>,
    authenticator: Option<Arc<Authenticator>>,
    credentials: Option<Arc<AppCredentials>>,
    trusted: Arc<TrustedHosts>,
    connector: ConnectorClient,
}

impl BotFramework {
    /// Builds the parts from the environment ([`BotFrameworkConfig::from_env`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        BotFramework::from_config(BotFrameworkConfig::from_env()?)
    }

    /// Builds the parts from `config`. Service URL origins learned from authenticated requests
    /// are kept in the bot's store once the channel is given to a bot
    /// ([`BotBuilder::default_channel`](botwright::bot::BotBuilder::default_channel) calls
    /// [`Channel::attach`](botwright::channel::Channel::attach)); until then, in memory.
    ///
    /// Without an app id, authentication is off and a warning says so.
    pub fn from_config(config: BotFrameworkConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let client = http_client(&config)?;
        let configured =
            config.trusted_service_urls.iter().map(|entry| origin_of_entry(entry)).collect::<Result<Vec<_>, _>>()?;
        let trusted = Arc::new(TrustedHosts::in_memory(configured));
        let credentials = match (&config.app_id, &config.app_password) {
            (Some(app_id), Some(password)) => Some(Arc::new(
                AppCredentials::new(
                    client.clone(),
                    config.token_url.clone(),
                    app_id.clone(),
                    password.clone(),
                    config.token_scope.clone(),
                )
                .with_max_response_bytes(config.max_response_bytes),
            )),
            _ => None,
        };
        let authenticator = Authenticator::new(&config, client.clone()).map(Arc::new);
        if authenticator.is_none() {
            tracing::warn!(
                "MICROSOFT_APP_ID is not set: inbound requests are NOT authenticated and outbound calls carry no \
                 token (development mode; do not expose this endpoint to the internet)"
            );
        } else if credentials.is_none() {
            tracing::warn!("MICROSOFT_APP_PASSWORD is not set: outbound calls to the connector carry no token");
        }
        let connector = ConnectorClient::with_limit(
            connector_client(&config)?,
            credentials.clone(),
            trusted.clone(),
            config.max_requests_in_flight,
            config.max_response_bytes,
        );
        Ok(BotFramework { config: Arc::new(config), authenticator, credentials, trusted, connector })
    }

    /// Keeps the service URL origins learned from authenticated requests in `storage` (for an
    /// endpoint whose handler is not a [`Bot`](botwright::Bot); a bot gives its store itself).
    pub fn store(self, storage: Arc<dyn Storage>) -> Self {
        self.trusted.attach(storage);
        self
    }

    /// Builds the parts from `config`; trusted service URL hosts learned from inbound requests
    /// are kept in `storage`.
    #[deprecated(since = "0.2.0", note = "use `BotFramework::from_config` (the bot gives the channel its store)")]
    pub fn new(config: BotFrameworkConfig, storage: Arc<dyn Storage>) -> Result<Self, ConfigError> {
        let framework = BotFramework::from_config(config)?;
        framework.trusted.attach(storage);
        Ok(framework)
    }

    /// The configuration.
    pub fn config(&self) -> &BotFrameworkConfig {
        &self.config
    }

    /// The router with `POST /api/messages`, handing accepted activities to `handler`. Mount it
    /// in any axum application (`Router::merge` or `Router::nest`).
    pub fn router(&self, handler: impl ActivityHandler) -> axum::Router {
        self.router_with(Arc::new(handler))
    }

    /// Like [`router`](Self::router), for a shared handler.
    pub fn router_with(&self, handler: Arc<dyn ActivityHandler>) -> axum::Router {
        router(EndpointState {
            handler,
            authenticator: self.authenticator.clone(),
            trusted: self.trusted.clone(),
            body_limit: self.config.body_limit,
            unavailable_retry_after: self.config.unavailable_retry_after,
            max_id_bytes: self.config.max_id_bytes,
        })
    }

    /// The channel that delivers outgoing activities through the connector.
    pub fn channel(&self) -> BotFrameworkChannel {
        BotFrameworkChannel::new(self.connector.clone())
    }

    /// The connector client, for calls beyond delivery.
    pub fn connector(&self) -> &ConnectorClient {
        &self.connector
    }

    /// The inbound authenticator, when authentication is on.
    pub fn authenticator(&self) -> Option<&Arc<Authenticator>> {
        self.authenticator.as_ref()
    }

    /// The bot's credentials, when an app id and password are set.
    pub fn credentials(&self) -> Option<&Arc<AppCredentials>> {
        self.credentials.as_ref()
    }

    /// The trusted service URL hosts.
    pub fn trusted_hosts(&self) -> &Arc<TrustedHosts> {
        &self.trusted
    }
}
