//! Transcript tests: "user says X, bot says Y", against an in-memory channel.
//!
//! [`TestFlow`] runs a bot with a [`TestChannel`] and checks what it sends, in order. It is
//! public so that applications test their own bots the same way.
//!
//! ```
//! use botwright::{Bot, Prompt, Waterfall};
//! use botwright::testing::TestFlow;
//! # tokio_test::block_on(async {
//! let bot = Bot::builder().dialog("/", Waterfall::new()
//!     .step(|s, _| async move { s.prompt(Prompt::confirm("Ready?")); Ok(()) })
//!     .step(|s, r| async move {
//!         s.end_dialog_with_message(if r.confirmed() == Some(true) { "Go!" } else { "Later." });
//!         Ok(())
//!     }));
//! let mut flow = TestFlow::new(bot);
//! flow.user_says("hi").await;
//! flow.bot_says_with_actions("Ready?", &["Yes", "No"]).await;
//! flow.user_says("yes").await;
//! flow.bot_says("Go!").await;
//! flow.no_more_replies().await;
//! # });
//! ```
//!
//! The assertions panic with a description of what was expected and what came: they are meant
//! for tests.

use crate::activity::{Activity, ActivityType, ChannelAccount, ConversationAccount};
use crate::address::Address;
use crate::async_trait;
use crate::bot::{Bot, BotBuilder, TurnOutcome};
use crate::channel::{Channel, Delivered, DeliveryError};
use crate::error::TurnError;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A channel that keeps what it is given, for tests; it can be told to fail, to hold
/// deliveries, or to take its time, and it counts what it saw.
#[derive(Debug)]
pub struct TestChannel {
    sender: mpsc::UnboundedSender<(Address, Activity)>,
    failures: Mutex<HashMap<String, VecDeque<DeliveryError>>>,
    next_id: AtomicU64,
    holds: Mutex<HashMap<String, watch::Sender<bool>>>,
    latency: Mutex<Duration>,
    attempts: Mutex<Vec<Attempt>>,
    in_progress: AtomicUsize,
    max_in_progress: AtomicUsize,
}

/// One call of [`TestChannel`]'s `deliver`, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The conversation id.
    pub conversation: String,
    /// The activity's id as the bot sent it (the outbox's stable id for durable messages).
    pub sent_id: Option<String>,
    /// The text.
    pub text: String,
    /// Whether the channel accepted it.
    pub accepted: bool,
    /// When it was made.
    pub at: std::time::Instant,
}

impl TestChannel {
    /// A channel and the receiving end of what it delivers.
    pub fn new() -> (std::sync::Arc<Self>, mpsc::UnboundedReceiver<(Address, Activity)>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (
            std::sync::Arc::new(TestChannel {
                sender,
                failures: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                holds: Mutex::new(HashMap::new()),
                latency: Mutex::new(Duration::ZERO),
                attempts: Mutex::new(Vec::new()),
                in_progress: AtomicUsize::new(0),
                max_in_progress: AtomicUsize::new(0),
            }),
            receiver,
        )
    }

    /// Makes the next deliveries to conversation `conversation_id` fail with these errors, in
    /// order.
    pub fn fail_next(&self, conversation_id: &str, errors: impl IntoIterator<Item = DeliveryError>) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(conversation_id.to_owned())
            .or_default()
            .extend(errors);
    }

    /// Makes deliveries to conversation `conversation_id` wait (before they are accepted or
    /// fail) until [`TestChannel::release`].
    pub fn hold(&self, conversation_id: &str) {
        let mut holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        holds.entry(conversation_id.to_owned()).or_insert_with(|| watch::channel(true).0).send_replace(true);
    }

    /// Lets held deliveries to `conversation_id` go on.
    pub fn release(&self, conversation_id: &str) {
        if let Some(hold) = self.holds.lock().unwrap_or_else(|p| p.into_inner()).get(conversation_id) {
            hold.send_replace(false);
        }
    }

    /// Makes every delivery take this long.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(|p| p.into_inner()) = latency;
    }

    /// Every call of `deliver` so far, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Deliveries in progress now.
    pub fn in_progress(&self) -> usize {
        self.in_progress.load(Ordering::SeqCst)
    }

    /// The most deliveries that were in progress at once.
    pub fn max_in_progress(&self) -> usize {
        self.max_in_progress.load(Ordering::SeqCst)
    }

    fn record(&self, address: &Address, activity: &Activity, accepted: bool) {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner()).push(Attempt {
            conversation: address.conversation.id.clone(),
            sent_id: activity.id.clone(),
            text: activity.text().to_owned(),
            accepted,
            at: std::time::Instant::now(),
        });
    }

    async fn deliver_inner(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let hold =
            self.holds.lock().unwrap_or_else(|p| p.into_inner()).get(&address.conversation.id).map(|h| h.subscribe());
        if let Some(mut hold) = hold {
            let _ = hold.wait_for(|held| !*held).await;
        }
        let latency = *self.latency.lock().unwrap_or_else(|p| p.into_inner());
        if latency.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(latency).await;
        }
        let failure = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&address.conversation.id)
            .and_then(VecDeque::pop_front);
        if let Some(error) = failure {
            self.record(address, activity, false);
            return Err(error);
        }
        self.record(address, activity, true);
        let id = format!("test-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut activity = activity.clone();
        activity.id = Some(id.clone());
        let _ = self.sender.send((address.clone(), activity));
        Ok(Delivered { activity_id: Some(id) })
    }
}

#[async_trait]
impl Channel for TestChannel {
    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let now = self.in_progress.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_progress.fetch_max(now, Ordering::SeqCst);
        let result = self.deliver_inner(address, activity).await;
        self.in_progress.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// A conversation with a bot, driven by a test.
#[derive(Debug)]
pub struct TestFlow {
    bot: Bot,
    channel: std::sync::Arc<TestChannel>,
    replies: mpsc::UnboundedReceiver<(Address, Activity)>,
    user: ChannelAccount,
    conversation: String,
    locale: Option<String>,
    timeout: Duration,
    next_id: u64,
}

impl TestFlow {
    /// The channel id of test conversations.
    pub const CHANNEL_ID: &'static str = "test";
    /// The service URL of test conversations.
    pub const SERVICE_URL: &'static str = "test://botwright";

    /// A flow with `bot` (delivering through a [`TestChannel`]), user `user1` in conversation
    /// `conversation1`.
    pub fn new(builder: BotBuilder) -> Self {
        let (channel, replies) = TestChannel::new();
        let bot = builder.default_channel(channel.clone()).build();
        TestFlow {
            bot,
            channel,
            replies,
            user: ChannelAccount::new("user1").with_name("User One"),
            conversation: "conversation1".into(),
            locale: None,
            timeout: Duration::from_secs(5),
            next_id: 1,
        }
    }

    /// The bot under test.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// The test channel (to make deliveries fail).
    pub fn channel(&self) -> &TestChannel {
        &self.channel
    }

    /// Speaks as another user from now on.
    pub fn as_user(&mut self, id: &str) -> &mut Self {
        self.user = ChannelAccount::new(id);
        self
    }

    /// Continues in another conversation.
    pub fn in_conversation(&mut self, id: &str) -> &mut Self {
        self.conversation = id.to_owned();
        self
    }

    /// Sends the next messages with this `locale`.
    pub fn with_locale(&mut self, locale: Option<&str>) -> &mut Self {
        self.locale = locale.map(str::to_owned);
        self
    }

    /// How long an expected reply may take (default 5 s).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// The address of the current user in the current conversation.
    pub fn address(&self) -> Address {
        let mut address = Address::new(
            Self::CHANNEL_ID,
            Self::SERVICE_URL,
            self.user.clone(),
            ChannelAccount::new("bot").with_name("Bot"),
            ConversationAccount::new(self.conversation.clone()),
        );
        address.locale = self.locale.clone();
        address
    }

    /// A message activity from the current user.
    pub fn message(&mut self, text: &str) -> Activity {
        let address = self.address();
        let id = format!("in-{}", self.next_id);
        self.next_id += 1;
        Activity {
            kind: ActivityType::Message,
            id: Some(id),
            text: Some(text.to_owned()),
            channel_id: Some(address.channel_id),
            service_url: Some(address.service_url),
            from: Some(address.user),
            recipient: Some(address.bot),
            conversation: Some(address.conversation),
            locale: self.locale.clone(),
            timestamp: Some(chrono::Utc::now().to_rfc3339()),
            ..Default::default()
        }
    }

    /// The user says `text`; returns once the turn ran.
    ///
    /// # Panics
    /// When the turn fails.
    pub async fn user_says(&mut self, text: &str) -> &mut Self {
        let activity = self.message(text);
        if let Err(e) = self.bot.receive(activity).await {
            panic!("turn for {text:?} failed: {e}");
        }
        self
    }

    /// The user sends `activity` (its address fields filled in when missing).
    pub async fn user_sends(&mut self, mut activity: Activity) -> Result<TurnOutcome, TurnError> {
        let template = self.message("");
        activity.channel_id = activity.channel_id.or(template.channel_id);
        activity.service_url = activity.service_url.or(template.service_url);
        activity.from = activity.from.or(template.from);
        activity.recipient = activity.recipient.or(template.recipient);
        activity.conversation = activity.conversation.or(template.conversation);
        activity.id = activity.id.or(template.id);
        self.bot.receive(activity).await
    }

    /// The next activity the bot sends, of any type, with its address.
    ///
    /// # Panics
    /// When nothing comes within the timeout.
    pub async fn next_reply_with_address(&mut self) -> (Address, Activity) {
        match tokio::time::timeout(self.timeout, self.replies.recv()).await {
            Ok(Some(reply)) => reply,
            Ok(None) => panic!("the test channel closed"),
            Err(_) => panic!("expected a reply, none came within {:?}", self.timeout),
        }
    }

    /// The next activity the bot sends, of any type.
    pub async fn next_reply(&mut self) -> Activity {
        self.next_reply_with_address().await.1
    }

    /// The next message the bot sends (typing indicators are skipped).
    pub async fn next_message(&mut self) -> Activity {
        loop {
            let reply = self.next_reply().await;
            if reply.kind == ActivityType::Message {
                return reply;
            }
        }
    }

    /// The bot's next message says exactly `text`.
    ///
    /// # Panics
    /// When it says something else, or nothing.
    pub async fn bot_says(&mut self, text: &str) -> Activity {
        let reply = self.next_message().await;
        assert_eq!(reply.text(), text, "the bot said {:?}, expected {:?}", reply.text(), text);
        reply
    }

    /// The bot's next message says `text` and offers exactly these suggested actions.
    pub async fn bot_says_with_actions(&mut self, text: &str, actions: &[&str]) -> Activity {
        let reply = self.bot_says(text).await;
        let titles: Vec<&str> = reply
            .suggested_actions
            .as_ref()
            .map(|s| s.actions.iter().filter_map(|a| a.title.as_deref()).collect())
            .unwrap_or_default();
        assert_eq!(titles, actions, "suggested actions of {text:?}");
        reply
    }

    /// The bot's next activity is a typing indicator.
    pub async fn bot_types(&mut self) {
        let reply = self.next_reply().await;
        assert_eq!(reply.kind, ActivityType::Typing, "expected typing, got {reply:?}");
    }

    /// The bot sends nothing more (once everything queued has been delivered).
    pub async fn no_more_replies(&mut self) {
        self.bot.flush().await;
        if let Ok((_, reply)) = self.replies.try_recv() {
            panic!("expected no more replies, got {:?} ({})", reply.text(), reply.kind);
        }
    }
}
