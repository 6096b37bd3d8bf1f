//! The session: everything a dialog can see and do during one turn.

use crate::activity::{Activity, ActivityType};
use crate::address::Address;
use crate::bot::Bot;
use crate::delivery::OutItem;
use crate::error::BoxError;
use crate::event::BotEvent;
use crate::locale::Localizer;
use crate::message::Message;
use crate::stack::{DialogResult, Frame, Op, Resumed};
use crate::state::TurnDocs;
use crate::storage::StorageError;
use crate::text::{Args, Text};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// One turn of a conversation, as seen by a dialog: the message that started it, its address,
/// the state (user, conversation, private conversation and dialog data), and the means to reply
/// and to move through dialogs.
///
/// A session is a cheap handle (clone it freely into a step's future). Messages sent through it
/// leave when the turn ends, after its state has been saved; stack changes (`begin_dialog`,
/// `end_dialog`, ...) take effect when the current dialog callback returns.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    bot: Bot,
    message: Arc<Activity>,
    address: Address,
    proactive: bool,
    state: Mutex<TurnState>,
}

pub(crate) struct TurnState {
    pub(crate) docs: TurnDocs,
    pub(crate) outgoing: Vec<OutItem>,
    pub(crate) ops: VecDeque<Op>,
    scratch: Map<String, Value>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("conversation", &self.inner.address.conversation.id)
            .field("user", &self.inner.address.user.id)
            .field("proactive", &self.inner.proactive)
            .finish_non_exhaustive()
    }
}

/// Which state bag a [`Bag`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BagKind {
    User,
    Conversation,
    PrivateConversation,
    Dialog,
}

/// A JSON object of state (user, conversation, private conversation or dialog data) with typed
/// get and set.
///
/// ```
/// # use botwright::testing::TestFlow;
/// # use botwright::{Bot, Waterfall};
/// # tokio_test::block_on(async {
/// let bot = Bot::builder().dialog("/", Waterfall::new().step(|session, _| async move {
///     let visits: u32 = session.user_data().get("visits").unwrap_or(0) + 1;
///     session.user_data().set("visits", visits);
///     session.send(format!("Visit number {visits}"));
///     session.end_dialog();
///     Ok(())
/// }));
/// let mut flow = TestFlow::new(bot);
/// flow.user_says("hi").await;
/// flow.bot_says("Visit number 1").await;
/// flow.user_says("hi").await;
/// flow.bot_says("Visit number 2").await;
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Bag<'a> {
    session: &'a Session,
    kind: BagKind,
}

impl Bag<'_> {
    fn with<R>(&self, f: impl FnOnce(&mut Map<String, Value>) -> R) -> R {
        let mut state = self.session.lock();
        let state = &mut *state;
        let map = match self.kind {
            BagKind::User => &mut state.docs.user.value.data,
            BagKind::Conversation => &mut state.docs.conversation.value.data,
            BagKind::PrivateConversation => &mut state.docs.private.value.data,
            BagKind::Dialog => match state.docs.private.value.stack.last_mut() {
                Some(frame) => &mut frame.data,
                None => &mut state.scratch,
            },
        };
        f(map)
    }

    /// The value under `key`, deserialized (`None` when absent or of another shape).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.with(|m| m.get(key).and_then(|v| T::deserialize(v).ok()))
    }

    /// The raw JSON value under `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.with(|m| m.get(key).cloned())
    }

    /// Sets `key` to a JSON value (anything `Into<Value>`: strings, numbers, booleans, `json!`).
    pub fn set(&self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        self.with(|m| m.insert(key.to_owned(), value));
    }

    /// Sets `key` to any serializable value.
    pub fn set_serialized<T: Serialize>(&self, key: &str, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.with(|m| m.insert(key.to_owned(), value));
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.with(|m| m.remove(key))
    }

    /// Runs `f` on the whole object.
    pub fn update<R>(&self, f: impl FnOnce(&mut Map<String, Value>) -> R) -> R {
        self.with(f)
    }

    /// A copy of the whole object.
    pub fn snapshot(&self) -> Map<String, Value> {
        self.with(|m| m.clone())
    }

    /// Removes everything.
    pub fn clear(&self) {
        self.with(|m| m.clear());
    }
}

impl Session {
    pub(crate) fn new(bot: Bot, message: Arc<Activity>, address: Address, docs: TurnDocs, proactive: bool) -> Self {
        Session {
            inner: Arc::new(SessionInner {
                bot,
                message,
                address,
                proactive,
                state: Mutex::new(TurnState { docs, outgoing: Vec::new(), ops: VecDeque::new(), scratch: Map::new() }),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, TurnState> {
        // State changes are applied whole under the lock, so a panic elsewhere cannot leave a
        // half-applied change behind: a poisoned lock is still consistent.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bot this session belongs to (for proactive calls from inside a dialog).
    pub fn bot(&self) -> &Bot {
        &self.inner.bot
    }

    /// The message that started the turn (for a proactive turn: an empty message from the user).
    pub fn message(&self) -> &Activity {
        &self.inner.message
    }

    /// The address of the user in this conversation: store it to reach the user later.
    pub fn address(&self) -> &Address {
        &self.inner.address
    }

    /// Whether the turn was started by the bot (`Bot::begin_dialog`, `Bot::load_session`).
    pub fn is_proactive(&self) -> bool {
        self.inner.proactive
    }

    /// User data: follows the user across conversations.
    pub fn user_data(&self) -> Bag<'_> {
        Bag { session: self, kind: BagKind::User }
    }

    /// Conversation data: shared by everyone in the conversation.
    pub fn conversation_data(&self) -> Bag<'_> {
        Bag { session: self, kind: BagKind::Conversation }
    }

    /// Private conversation data: this user in this conversation.
    pub fn private_conversation_data(&self) -> Bag<'_> {
        Bag { session: self, kind: BagKind::PrivateConversation }
    }

    /// The data of the dialog on top of the stack (kept until that dialog ends).
    pub fn dialog_data(&self) -> Bag<'_> {
        Bag { session: self, kind: BagKind::Dialog }
    }

    /// The localizer of the bot.
    pub fn localizer(&self) -> &Localizer {
        self.inner.bot.localizer()
    }

    /// The user's stored preferred locale, if any.
    pub fn preferred_locale(&self) -> Option<String> {
        self.lock().docs.user.value.locale.clone()
    }

    /// Stores the user's preferred locale (in user state, across conversations); it applies at
    /// once, to the rest of this turn too.
    pub fn set_preferred_locale(&self, locale: impl Into<String>) {
        self.lock().docs.user.value.locale = Some(locale.into());
    }

    /// The locale messages are resolved in: the user's preferred locale, else the message's
    /// `locale`, else the bot's default.
    pub fn locale(&self) -> String {
        crate::locale::resolve_locale(
            self.preferred_locale().as_deref(),
            self.inner.message.locale.as_deref(),
            self.localizer().default_locale(),
        )
    }

    /// Message `id` in the session's locale, formatted with `args` (the id itself when no table
    /// has it).
    pub fn gettext(&self, id: &str, args: &Args) -> String {
        let locale = self.locale();
        self.localizer().format(&locale, id, args).unwrap_or_else(|| id.to_owned())
    }

    /// Resolves a message into an addressed activity, replying to this turn's message.
    pub(crate) fn prepare(&self, message: Message) -> Activity {
        let locale = self.locale();
        let address = message.address.clone();
        let mut activity = message.into_activity(self.localizer(), &locale);
        let address = address.as_ref().unwrap_or(&self.inner.address);
        address.apply_to(&mut activity);
        activity
    }

    /// Sends a message (text, a [`Text`], or a [`Message`]) when the turn ends.
    pub fn send(&self, message: impl Into<Message>) {
        let message = message.into();
        let address = message.address.clone().unwrap_or_else(|| self.inner.address.clone());
        let activity = self.prepare(message);
        self.lock().outgoing.push(OutItem::activity(address, activity));
    }

    /// Sends message `id` in the user's locale with positional arguments.
    pub fn send_localized(&self, id: &str, args: Args) {
        self.send(Message::new().text(Text::localized(id).with_args(args)));
    }

    /// Shows a typing indicator now (it does not wait for the end of the turn).
    pub fn send_typing(&self) {
        let mut typing = Activity { kind: ActivityType::Typing, ..Default::default() };
        self.inner.address.apply_to(&mut typing);
        self.inner.bot.deliver_now(self.inner.address.clone(), typing);
    }

    /// Pauses between this turn's messages (e.g. before a second part of an answer).
    pub fn delay(&self, duration: Duration) {
        self.lock().outgoing.push(OutItem::Pause(duration));
    }

    fn push_op(&self, op: Op) {
        self.lock().ops.push_back(op);
    }

    /// Begins dialog `id` on top of the stack; when it ends, the current dialog resumes with its
    /// result.
    pub fn begin_dialog(&self, id: impl Into<String>, args: impl Into<Value>) {
        self.push_op(Op::Begin { id: id.into(), args: args.into() });
    }

    /// Replaces the current dialog with dialog `id`; its result goes to the current dialog's
    /// parent.
    pub fn replace_dialog(&self, id: impl Into<String>, args: impl Into<Value>) {
        self.push_op(Op::Replace { id: id.into(), args: args.into() });
    }

    /// Ends the current dialog (completed, no response); its parent resumes.
    pub fn end_dialog(&self) {
        self.end_dialog_with_result(DialogResult::default());
    }

    /// Sends a message, then ends the current dialog.
    pub fn end_dialog_with_message(&self, message: impl Into<Message>) {
        self.send(message);
        self.end_dialog();
    }

    /// Ends the current dialog with a result for its parent.
    pub fn end_dialog_with_result(&self, result: DialogResult) {
        self.push_op(Op::End(result));
    }

    /// Skips ahead: resumes the current dialog (a waterfall goes to its next step) as if a child
    /// dialog had completed with `response`.
    pub fn next(&self, response: impl Into<Value>) {
        self.push_op(Op::Resume(DialogResult::completed(response)));
    }

    /// Cancels the dialog `id` nearest the top of the stack and every dialog above it; its parent
    /// resumes with [`Resumed::Canceled`]. Returns `false` when no such dialog is on the stack.
    pub fn cancel_dialog(&self, id: &str) -> bool {
        let index = self.lock().docs.private.value.stack.iter().rposition(|f| f.id == id);
        match index {
            Some(index) => {
                self.push_op(Op::Cancel { index, replace: None });
                true
            }
            None => false,
        }
    }

    /// Like [`Session::cancel_dialog`], then begins `replacement` in its place.
    pub fn cancel_dialog_and_begin(&self, id: &str, replacement: impl Into<String>, args: impl Into<Value>) -> bool {
        let index = self.lock().docs.private.value.stack.iter().rposition(|f| f.id == id);
        match index {
            Some(index) => {
                self.push_op(Op::Cancel { index, replace: Some((replacement.into(), args.into())) });
                true
            }
            None => false,
        }
    }

    /// Ends the conversation: sends `endOfConversation`, clears the stack, conversation data and
    /// private conversation data. User data is kept.
    pub fn end_conversation(&self) {
        self.push_op(Op::EndConversation);
    }

    /// Sends a message, then ends the conversation.
    pub fn end_conversation_with_message(&self, message: impl Into<Message>) {
        self.send(message);
        self.end_conversation();
    }

    /// Clears the dialog stack and begins the default dialog.
    pub fn reset(&self) {
        self.push_op(Op::Reset { id: None, args: Value::Null });
    }

    /// Clears the dialog stack and begins dialog `id`.
    pub fn reset_to(&self, id: impl Into<String>, args: impl Into<Value>) {
        self.push_op(Op::Reset { id: Some(id.into()), args: args.into() });
    }

    /// Reports an error: logs it, emits [`BotEvent::Error`], tells the user (the `default_error`
    /// message, or the bot's configured one), and clears the dialog stack so the next message
    /// starts afresh. User data and conversation data are kept.
    pub fn error(&self, error: impl Into<BoxError>) {
        let error: BoxError = error.into();
        tracing::error!(
            conversation = %self.inner.address.conversation.id,
            user = %self.inner.address.user.id,
            error = %error,
            "dialog error; the dialog stack is reset"
        );
        self.inner
            .bot
            .emit(|| BotEvent::Error { address: Box::new(self.inner.address.clone()), error: error.to_string() });
        let text = self.inner.bot.settings().error_message.clone();
        {
            let mut state = self.lock();
            state.ops.clear();
            state.docs.private.value.stack.clear();
        }
        self.send(Message::new().text(text));
    }

    /// Saves state now, mid-turn (it is saved at the end of the turn anyway).
    pub async fn save(&self) -> Result<(), StorageError> {
        let mut docs = self.lock().docs.clone();
        docs.save(self.inner.bot.storage()).await?;
        self.lock().docs = docs;
        Ok(())
    }

    /// The ids of the dialogs on the stack, bottom first.
    pub fn dialog_stack(&self) -> Vec<String> {
        self.lock().docs.private.value.stack.iter().map(|f| f.id.clone()).collect()
    }

    /// Begins a prompt (see [`crate::prompt::Prompt`]); its answer resumes the current dialog.
    pub fn prompt(&self, prompt: crate::prompt::Prompt) {
        let id = prompt.dialog_id();
        self.begin_dialog(id, prompt.into_args());
    }

    pub(crate) fn take_outgoing(&self) -> Vec<OutItem> {
        std::mem::take(&mut self.lock().outgoing)
    }

    pub(crate) fn pop_op(&self) -> Option<Op> {
        self.lock().ops.pop_front()
    }

    pub(crate) fn stack_top(&self) -> Option<String> {
        self.lock().docs.private.value.stack.last().map(|f| f.id.clone())
    }

    pub(crate) fn with_stack<R>(&self, f: impl FnOnce(&mut Vec<Frame>) -> R) -> R {
        f(&mut self.lock().docs.private.value.stack)
    }

    /// The dialog's own bookkeeping in the top frame (a waterfall's step, a prompt's options).
    pub(crate) fn frame_state(&self) -> Value {
        self.lock().docs.private.value.stack.last().map(|f| f.state.clone()).unwrap_or(Value::Null)
    }

    pub(crate) fn set_frame_state(&self, value: Value) {
        if let Some(frame) = self.lock().docs.private.value.stack.last_mut() {
            frame.state = value;
        }
    }

    pub(crate) fn clear_conversation(&self) {
        let mut state = self.lock();
        state.docs.private.value.stack.clear();
        state.docs.private.value.data.clear();
        state.docs.conversation.value.data.clear();
    }

    pub(crate) fn into_docs(self) -> Option<TurnDocs> {
        Arc::into_inner(self.inner).map(|inner| inner.state.into_inner().unwrap_or_else(|p| p.into_inner()).docs)
    }

    pub(crate) fn resumed_reprompt() -> DialogResult {
        DialogResult { resumed: Resumed::Reprompt, response: None, child_id: None }
    }
}
