//! Intent dialogs: route each message to a handler by recognized intent.

use super::{Dialog, DialogResult};
use crate::activity::Activity;
use crate::error::{BoxError, InvalidPattern};
use crate::session::Session;
use async_trait::async_trait;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;

/// A recognized intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Its name.
    pub name: String,
    /// Confidence from 0 to 1.
    pub score: f64,
    /// Entities found with it.
    #[serde(default)]
    pub entities: Vec<Value>,
}

/// Finds the intent of a message (a regular expression, a language model, ...).
#[async_trait]
pub trait IntentRecognizer: Send + Sync + 'static {
    /// The intent of `activity` in `locale`, if any. Must return `None` for an empty text.
    async fn recognize(&self, activity: &Activity, locale: &str) -> Option<Intent>;
}

/// Recognizes one intent by a case-insensitive regular expression; scores like actions do
/// (`0.4 + 0.6 × matched length / text length`).
#[derive(Debug, Clone)]
pub struct RegexRecognizer {
    intent: String,
    regex: Regex,
}

impl RegexRecognizer {
    /// A recognizer of `intent` by `pattern`.
    ///
    /// # Panics
    /// When `pattern` is not a valid regular expression (a programming error, found at start).
    pub fn new(intent: impl Into<String>, pattern: &str) -> Self {
        match Self::try_new(intent, pattern) {
            Ok(recognizer) => recognizer,
            Err(e) => panic!("invalid intent pattern: {e}"),
        }
    }

    /// A recognizer of `intent` by `pattern`, or why `pattern` is not a regular expression.
    pub fn try_new(intent: impl Into<String>, pattern: &str) -> Result<Self, InvalidPattern> {
        Ok(RegexRecognizer { intent: intent.into(), regex: InvalidPattern::compile(pattern)? })
    }
}

#[async_trait]
impl IntentRecognizer for RegexRecognizer {
    async fn recognize(&self, activity: &Activity, _locale: &str) -> Option<Intent> {
        let text = activity.text().trim();
        if text.is_empty() {
            return None;
        }
        let m = self.regex.find(text)?;
        let score = 0.4 + 0.6 * (m.as_str().len() as f64 / text.len() as f64);
        Some(Intent { name: self.intent.clone(), score, entities: Vec::new() })
    }
}

#[derive(Clone)]
enum Handler {
    /// A registered dialog, begun with the intent as arguments.
    Registered(String),
    /// An inline dialog, registered as a child `<intent dialog id>:<name>`.
    Inline(String, Arc<dyn Dialog>),
}

/// Routes each message to a handler by intent (Bot Builder v3's `IntentDialog`).
///
/// The handler is begun as a child dialog with `{"intent": name, "score": s, "entities": [...]}`
/// as arguments; when it ends, the intent dialog waits for the next message. A message with no
/// intent above the threshold (default 0.1) goes to the `on_default` handler.
///
/// ```
/// use botwright::{Bot, Waterfall};
/// use botwright::dialog::{IntentDialog, RegexRecognizer};
/// let intents = IntentDialog::new()
///     .recognizer(RegexRecognizer::new("greet", r"^(hi|hello)\b"))
///     .matches("greet", Waterfall::new().step(|s, _| async move { s.end_dialog_with_message("Hi there!"); Ok(()) }))
///     .on_default(Waterfall::new().step(|s, _| async move { s.end_dialog_with_message("Say hi."); Ok(()) }));
/// let bot = Bot::builder().dialog("/", intents);
/// # let _ = bot;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct IntentDialog {
    recognizers: Vec<Arc<dyn IntentRecognizer>>,
    handlers: Vec<(String, Handler)>,
    default: Option<Handler>,
    threshold: f64,
}

impl fmt::Debug for IntentDialog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntentDialog")
            .field("recognizers", &self.recognizers.len())
            .field("intents", &self.handlers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl IntentDialog {
    /// An intent dialog with no recognizers.
    pub fn new() -> Self {
        IntentDialog { threshold: 0.1, ..Default::default() }
    }

    /// Adds a recognizer.
    pub fn recognizer(mut self, recognizer: impl IntentRecognizer) -> Self {
        self.recognizers.push(Arc::new(recognizer));
        self
    }

    /// The lowest score an intent needs (default 0.1).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Handles `intent` with an inline dialog (usually a [`super::Waterfall`]).
    pub fn matches(mut self, intent: impl Into<String>, dialog: impl Dialog) -> Self {
        let intent = intent.into();
        let child = format!("intent:{intent}");
        self.handlers.push((intent, Handler::Inline(child, Arc::new(dialog))));
        self
    }

    /// Handles `intent` by beginning the registered dialog `dialog_id`.
    pub fn matches_dialog(mut self, intent: impl Into<String>, dialog_id: impl Into<String>) -> Self {
        self.handlers.push((intent.into(), Handler::Registered(dialog_id.into())));
        self
    }

    /// Handles messages matching `pattern` (an intent named after the pattern).
    pub fn matches_regex(self, pattern: &str, dialog: impl Dialog) -> Self {
        self.recognizer(RegexRecognizer::new(pattern, pattern)).matches(pattern, dialog)
    }

    /// Handles messages with no recognized intent.
    pub fn on_default(mut self, dialog: impl Dialog) -> Self {
        self.default = Some(Handler::Inline("default".into(), Arc::new(dialog)));
        self
    }

    async fn best_intent(&self, session: &Session) -> Option<Intent> {
        let locale = session.locale();
        let mut best: Option<Intent> = None;
        for recognizer in &self.recognizers {
            if let Some(intent) = recognizer.recognize(session.message(), &locale).await
                && intent.score >= self.threshold
                && best.as_ref().is_none_or(|b| intent.score > b.score)
            {
                best = Some(intent);
            }
        }
        best
    }

    fn begin_handler(session: &Session, handler: &Handler, args: Value) {
        match handler {
            Handler::Registered(id) => session.begin_dialog(id.clone(), args),
            Handler::Inline(child, _) => {
                let own = session.stack_top().unwrap_or_default();
                session.begin_dialog(format!("{own}:{child}"), args);
            }
        }
    }
}

#[async_trait]
impl Dialog for IntentDialog {
    async fn begin(&self, session: &Session, _args: Value) -> Result<(), BoxError> {
        if !session.is_proactive() && !session.message().text().trim().is_empty() {
            self.reply_received(session).await?;
        }
        Ok(())
    }

    async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
        match self.best_intent(session).await {
            Some(intent) => {
                let handler = self.handlers.iter().find(|(name, _)| *name == intent.name).map(|(_, h)| h.clone());
                let args = json!({ "intent": intent.name, "score": intent.score, "entities": intent.entities });
                match handler.or_else(|| self.default.clone()) {
                    Some(h) => Self::begin_handler(session, &h, args),
                    None => tracing::debug!(intent = %intent.name, "no handler for intent"),
                }
            }
            None => {
                if let Some(h) = &self.default {
                    Self::begin_handler(session, h, json!({ "intent": Value::Null, "score": 0.0 }));
                }
            }
        }
        Ok(())
    }

    async fn dialog_resumed(&self, _session: &Session, _result: DialogResult) -> Result<(), BoxError> {
        Ok(())
    }

    fn children(&self) -> Vec<(String, Arc<dyn Dialog>)> {
        let inline = |h: &Handler| match h {
            Handler::Inline(name, dialog) => Some((name.clone(), dialog.clone())),
            Handler::Registered(_) => None,
        };
        self.handlers.iter().filter_map(|(_, h)| inline(h)).chain(self.default.iter().filter_map(inline)).collect()
    }
}
