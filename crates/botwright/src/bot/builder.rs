//! Building a bot: dialogs, actions, store, channels, settings.

use super::{Bot, BotInner, InvokeHandler};
use crate::channel::IntoChannel;
use crate::delivery::{Channels, Delivery, Parts, ProactiveSettings, RetryPolicy, Worker};
use crate::dialog::{Action, Dialog};
use crate::event::Events;
use crate::locale::Localizer;
use crate::middleware::Middleware;
use crate::storage::{JobStore, MemoryStore, Outbox, Storage};
use crate::text::Text;
use crate::turn_lock::TurnLocks;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How a bot behaves; every field has a sensible default.
#[derive(Debug, Clone)]
#[must_use]
pub struct Settings {
    /// The dialog a message starts when the stack is empty (default `/`).
    pub(crate) default_dialog: String,
    /// Its arguments.
    pub(crate) default_args: Value,
    /// Whether user data is stored (default `true`). The preferred locale and the address book
    /// are stored either way.
    pub(crate) persist_user_data: bool,
    /// Whether conversation data is stored (default `true`).
    pub(crate) persist_conversation_data: bool,
    /// A pause before each turn's messages leave (default none: they leave as soon as the turn's
    /// state is saved). Bot Builder v3 waited 250 ms.
    pub(crate) batch_delay: Duration,
    /// What the user is told when a dialog fails (default: message `default_error`).
    pub(crate) error_message: Text,
    /// How often a turn is run again when another instance changed its state meanwhile.
    pub(crate) max_turn_attempts: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_dialog: "/".into(),
            default_args: Value::Null,
            persist_user_data: true,
            persist_conversation_data: true,
            batch_delay: Duration::ZERO,
            error_message: Text::localized("default_error"),
            max_turn_attempts: 8,
        }
    }
}

/// Builder methods, one per setting, named after it.
impl Settings {
    /// The dialog a message starts when the stack is empty (default `/`).
    pub fn default_dialog(mut self, default_dialog: impl Into<String>) -> Self {
        self.default_dialog = default_dialog.into();
        self
    }

    /// Its arguments.
    pub fn default_args(mut self, default_args: Value) -> Self {
        self.default_args = default_args;
        self
    }

    /// Whether user data is stored (default `true`). The preferred locale and the address book
    /// are stored either way.
    pub fn persist_user_data(mut self, persist_user_data: bool) -> Self {
        self.persist_user_data = persist_user_data;
        self
    }

    /// Whether conversation data is stored (default `true`).
    pub fn persist_conversation_data(mut self, persist_conversation_data: bool) -> Self {
        self.persist_conversation_data = persist_conversation_data;
        self
    }

    /// A pause before each turn's messages leave (default none: they leave as soon as the turn's
    /// state is saved). Bot Builder v3 waited 250 ms.
    pub fn batch_delay(mut self, batch_delay: Duration) -> Self {
        self.batch_delay = batch_delay;
        self
    }

    /// What the user is told when a dialog fails (default: message `default_error`).
    pub fn error_message(mut self, error_message: impl Into<Text>) -> Self {
        self.error_message = error_message.into();
        self
    }

    /// How often a turn is run again when another instance changed its state meanwhile.
    pub fn max_turn_attempts(mut self, max_turn_attempts: u32) -> Self {
        self.max_turn_attempts = max_turn_attempts;
        self
    }
}

/// Builds a [`Bot`].
///
/// ```
/// use botwright::{Bot, Waterfall};
/// let bot = Bot::builder()
///     .dialog("/", Waterfall::new().step(|session, _| async move {
///         session.end_dialog_with_message("Hello!");
///         Ok(())
///     }))
///     .build();
/// # let _ = bot;
/// ```
#[derive(Default)]
#[must_use]
pub struct BotBuilder {
    dialogs: HashMap<String, Arc<dyn Dialog>>,
    actions: Vec<Action>,
    settings: Settings,
    storage: Option<Arc<dyn Storage>>,
    outbox: Option<Arc<dyn Outbox>>,
    jobs: Option<Arc<dyn JobStore>>,
    localizer: Option<Localizer>,
    channels: Channels,
    middleware: Vec<Arc<dyn Middleware>>,
    retry: RetryPolicy,
    invoke: Option<InvokeHandler>,
    proactive: ProactiveSettings,
}

impl fmt::Debug for BotBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotBuilder")
            .field("dialogs", &self.dialogs.keys().collect::<Vec<_>>())
            .field("actions", &self.actions.len())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl BotBuilder {
    /// Registers a dialog under `id` (replacing one with the same id). Its children (an intent
    /// dialog's inline handlers) are registered as `<id>:<name>`.
    pub fn dialog(mut self, id: impl Into<String>, dialog: impl Dialog) -> Self {
        self.add_dialog(id.into(), Arc::new(dialog));
        self
    }

    fn add_dialog(&mut self, id: String, dialog: Arc<dyn Dialog>) {
        for (name, child) in dialog.children() {
            self.add_dialog(format!("{id}:{name}"), child);
        }
        self.dialogs.insert(id, dialog);
    }

    /// Registers an action (trigger, begin-dialog, cancel, end-conversation).
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    /// Replaces the settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Changes the settings with their builder methods:
    /// `.configure(|s| s.batch_delay(Duration::from_millis(250)))`.
    pub fn configure(mut self, f: impl FnOnce(Settings) -> Settings) -> Self {
        self.settings = f(self.settings);
        self
    }

    /// The dialog a message starts when the stack is empty, and its arguments.
    pub fn default_dialog(mut self, id: impl Into<String>, args: Value) -> Self {
        self.settings.default_dialog = id.into();
        self.settings.default_args = args;
        self
    }

    /// Uses `store` for state, the outbox and scheduled jobs (default: a [`MemoryStore`]).
    pub fn store<S: Storage + Outbox + JobStore>(mut self, store: Arc<S>) -> Self {
        self.storage = Some(store.clone());
        self.outbox = Some(store.clone());
        self.jobs = Some(store);
        self
    }

    /// Uses `storage` for state only.
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Uses `localizer` for message ids (default: the built-in strings, default locale `en`).
    pub fn localizer(mut self, localizer: Localizer) -> Self {
        self.localizer = Some(localizer);
        self
    }

    /// Delivers activities of `channel_id` (e.g. `console`) through `channel`.
    pub fn channel(mut self, channel_id: impl Into<String>, channel: impl IntoChannel) -> Self {
        self.channels.by_id.insert(channel_id.into(), channel.into_channel());
        self
    }

    /// Delivers activities of every channel id without a channel of its own through `channel`
    /// (the Bot Framework connector serves all of them).
    pub fn default_channel(mut self, channel: impl IntoChannel) -> Self {
        self.channels.default = Some(channel.into_channel());
        self
    }

    /// Adds middleware (run in the order added).
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// How deliveries are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How the proactive engine works: concurrency, rate limits, leases (see
    /// [`ProactiveSettings`](ProactiveSettings)).
    pub fn proactive(mut self, settings: ProactiveSettings) -> Self {
        self.proactive = settings;
        self
    }

    /// Changes the proactive engine's settings with their builder methods:
    /// `.configure_proactive(|p| p.max_in_flight(16))`.
    pub fn configure_proactive(mut self, f: impl FnOnce(ProactiveSettings) -> ProactiveSettings) -> Self {
        self.proactive = f(self.proactive);
        self
    }

    /// Handles `invoke` activities (inside a turn: the session has the state); the answer goes
    /// back in the HTTP response. Without a handler an invoke gets 501.
    pub fn on_invoke<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(crate::Session) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = crate::InvokeResponse> + Send + 'static,
    {
        self.invoke = Some(Arc::new(move |s| Box::pin(handler(s))));
        self
    }

    /// Whether a default channel is set.
    pub fn has_default_channel(&self) -> bool {
        self.channels.default.is_some()
    }

    /// The bot.
    pub fn build(mut self) -> Bot {
        self.add_dialog(crate::dialog::INTERRUPTION.to_owned(), Arc::new(crate::dialog::Interruption));
        for (id, dialog) in crate::prompt::dialogs() {
            self.dialogs.entry(id).or_insert(dialog);
        }
        let storage: Arc<dyn Storage> = match self.storage {
            Some(s) => s,
            None => {
                let memory = Arc::new(MemoryStore::new());
                self.outbox.get_or_insert_with(|| memory.clone());
                self.jobs.get_or_insert_with(|| memory.clone());
                memory
            }
        };
        for channel in self.channels.by_id.values().chain(self.channels.default.as_ref()) {
            channel.attach(&storage);
        }
        let events = Events::new(1024);
        let delivery = Delivery::new(Parts {
            channels: self.channels,
            policy: self.retry,
            events: events.clone(),
            storage: storage.clone(),
            outbox: self.outbox.clone(),
            middleware: self.middleware.clone(),
            settings: self.proactive,
        });
        Bot {
            inner: Arc::new(BotInner {
                dialogs: self.dialogs,
                actions: self.actions,
                settings: self.settings,
                storage,
                outbox: self.outbox,
                jobs: self.jobs,
                localizer: self.localizer.unwrap_or_default(),
                middleware: self.middleware,
                events,
                locks: TurnLocks::new(),
                delivery,
                scheduler: Worker::default(),
                invoke: self.invoke,
            }),
        }
    }
}
