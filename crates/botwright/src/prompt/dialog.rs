//! The prompt dialog: one implementation for every kind of prompt.

use super::render::with_choices;
use super::{FoundChoice, Prompt, PromptKind};
use crate::dialog::{Dialog, DialogResult, Resumed};
use crate::error::BoxError;
use crate::message::Message;
use crate::recognize;
use crate::session::Session;
use crate::text::Text;
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;

/// The built-in prompt dialogs, by id.
pub(crate) fn dialogs() -> Vec<(String, Arc<dyn Dialog>)> {
    [
        PromptKind::Text,
        PromptKind::Number,
        PromptKind::Confirm,
        PromptKind::Choice,
        PromptKind::Time,
        PromptKind::Attachment,
    ]
    .into_iter()
    .map(|kind| (kind.dialog_id().to_owned(), Arc::new(PromptDialog) as Arc<dyn Dialog>))
    .collect()
}

struct PromptDialog;

/// What a reply means to a prompt.
enum Recognition {
    Valid(Value),
    /// Not valid; with the specific reason to tell the user, if there is one.
    Invalid(Option<Text>),
}

fn language(locale: &str) -> String {
    locale.split(['-', '_']).next().unwrap_or("en").to_ascii_lowercase()
}

fn load(session: &Session) -> Result<(Prompt, u32), BoxError> {
    let state = session.frame_state();
    let prompt: Prompt = serde_json::from_value(state.get("prompt").cloned().unwrap_or(Value::Null))
        .map_err(|e| format!("prompt state is unreadable: {e}"))?;
    let failures = state.get("failures").and_then(Value::as_u64).unwrap_or(0) as u32;
    Ok((prompt, failures))
}

fn number_value(n: f64, integer: bool) -> Value {
    if integer || (n.fract() == 0.0 && n.abs() < 9.0e15) { json!(n as i64) } else { json!(n) }
}

fn recognize_reply(prompt: &Prompt, session: &Session) -> Recognition {
    let message = session.message();
    let text = message.text();
    let trimmed = text.trim();
    let locale = session.locale();
    match prompt.kind {
        PromptKind::Text => {
            if trimmed.is_empty() {
                return Recognition::Invalid(None);
            }
            let length = text.chars().count();
            if let Some(min) = prompt.min_length.filter(|m| length < *m) {
                return Recognition::Invalid(Some(Text::localized("text_min_length_error").arg(min)));
            }
            if let Some(max) = prompt.max_length.filter(|m| length > *m) {
                return Recognition::Invalid(Some(Text::localized("text_max_length_error").arg(max)));
            }
            Recognition::Valid(Value::String(text.to_owned()))
        }
        PromptKind::Number => {
            let Some(n) = recognize::parse_number(trimmed, &language(&locale)) else {
                return Recognition::Invalid(None);
            };
            if prompt.integer_only && n.fract() != 0.0 {
                return Recognition::Invalid(Some(Text::localized("number_integer_error")));
            }
            let below = prompt.min_value.is_some_and(|m| n < m);
            let above = prompt.max_value.is_some_and(|m| n > m);
            if below || above {
                let fmt = |v: f64| number_value(v, v.fract() == 0.0);
                let error = match (prompt.min_value, prompt.max_value) {
                    (Some(min), Some(max)) => Text::localized("number_range_error").arg(fmt(min)).arg(fmt(max)),
                    (Some(min), None) => Text::localized("number_min_error").arg(fmt(min)),
                    (None, Some(max)) => Text::localized("number_max_error").arg(fmt(max)),
                    (None, None) => Text::localized("default_number"),
                };
                return Recognition::Invalid(Some(error));
            }
            Recognition::Valid(number_value(n, prompt.integer_only))
        }
        PromptKind::Confirm => {
            let localizer = session.localizer();
            let mut yes = localizer.list(&locale, "yes_words");
            let mut no = localizer.list(&locale, "no_words");
            yes.push(localizer.text(&locale, "confirm_yes"));
            no.push(localizer.text(&locale, "confirm_no"));
            match recognize::parse_confirm(trimmed, &yes, &no) {
                Some(b) => Recognition::Valid(Value::Bool(b)),
                None => Recognition::Invalid(None),
            }
        }
        PromptKind::Choice => {
            let choices: Vec<recognize::Choice> = prompt
                .choices
                .iter()
                .map(|c| recognize::Choice {
                    value: c.value.clone(),
                    synonyms: c.synonyms.clone(),
                    action_title: c.title.clone(),
                })
                .collect();
            match recognize::match_choice(trimmed, &choices, &language(&locale)) {
                Some(m) => Recognition::Valid(
                    serde_json::to_value(FoundChoice { index: m.index, value: m.value, score: m.score })
                        .unwrap_or(Value::Null),
                ),
                None => Recognition::Invalid(None),
            }
        }
        PromptKind::Time => {
            let now = reference_time(session);
            match recognize::parse_time(trimmed, now) {
                Some(m) => Recognition::Valid(Value::String(m.value.to_rfc3339())),
                None => Recognition::Invalid(None),
            }
        }
        PromptKind::Attachment => {
            let accepted: Vec<&crate::activity::Attachment> = message
                .attachments
                .iter()
                .filter(|a| {
                    prompt.content_types.is_empty()
                        || prompt.content_types.iter().any(|t| a.content_type.starts_with(t.as_str()))
                })
                .collect();
            if accepted.is_empty() {
                Recognition::Invalid(None)
            } else {
                Recognition::Valid(serde_json::to_value(accepted).unwrap_or(Value::Null))
            }
        }
    }
}

/// "Now" as the user sees it: the message's local timestamp (with the user's offset) when the
/// channel sent one, else the server's clock in UTC.
fn reference_time(session: &Session) -> chrono::DateTime<chrono::FixedOffset> {
    session
        .message()
        .local_timestamp
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| chrono::Utc::now().fixed_offset())
}

fn send_question(prompt: &Prompt, session: &Session) {
    session.send(with_choices(prompt, session, prompt.prompt.clone()));
}

#[async_trait]
impl Dialog for PromptDialog {
    async fn begin(&self, session: &Session, args: Value) -> Result<(), BoxError> {
        let prompt: Prompt = serde_json::from_value(args).map_err(|e| format!("invalid prompt options: {e}"))?;
        if prompt.kind == PromptKind::Choice && prompt.choices.is_empty() {
            return Err("a choice prompt needs at least one choice".into());
        }
        send_question(&prompt, session);
        session.set_frame_state(json!({ "prompt": prompt, "failures": 0 }));
        Ok(())
    }

    async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
        let (prompt, failures) = load(session)?;
        match recognize_reply(&prompt, session) {
            Recognition::Valid(value) => {
                session.end_dialog_with_result(DialogResult {
                    resumed: Resumed::Completed,
                    response: Some(value),
                    child_id: None,
                });
            }
            Recognition::Invalid(reason) => {
                let failures = failures + 1;
                if prompt.max_retries.is_some_and(|max| failures > max) {
                    session.end_dialog_with_result(DialogResult {
                        resumed: Resumed::NotCompleted,
                        response: None,
                        child_id: None,
                    });
                    return Ok(());
                }
                let retry = match (&prompt.retry_prompt, reason) {
                    (Some(custom), _) => custom.clone(),
                    (None, Some(reason)) => Message::new().text(reason),
                    (None, None) => Message::new().text(Text::localized(prompt.kind.default_retry_id())),
                };
                session.send(with_choices(&prompt, session, retry));
                session.set_frame_state(json!({ "prompt": prompt, "failures": failures }));
            }
        }
        Ok(())
    }

    async fn dialog_resumed(&self, session: &Session, result: DialogResult) -> Result<(), BoxError> {
        // An interruption ended (or a child the application began from a prompt): ask again.
        let _ = result;
        let (prompt, _) = load(session)?;
        send_question(&prompt, session);
        Ok(())
    }

    async fn recognize(&self, session: &Session) -> f64 {
        let Ok((prompt, _)) = load(session) else { return 0.1 };
        match recognize_reply(&prompt, session) {
            Recognition::Valid(_) if prompt.kind == PromptKind::Text => 0.5,
            Recognition::Valid(_) => 1.0,
            Recognition::Invalid(_) => 0.1,
        }
    }
}
