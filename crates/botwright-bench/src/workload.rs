//! Scripted workloads: what each simulated user says (or which web hook it calls) and which
//! replies it then expects.

use serde_json::{Value, json};

/// The sample's greeting (see SAMPLE.md).
pub const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";
/// The sample's standup question.
pub const STANDUP_QUESTION: &str = "What is your status for today?";
/// The sample's thanks for a standup answer.
pub const STANDUP_THANKS: &str = "Got it... Thanks!";
/// The waterfall bot's prompt.
pub const WATERFALL_PROMPT: &str = "What is your name?";

/// A scripted workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// One message, one echo.
    Echo,
    /// A two-step waterfall with a text prompt: "start", the question, the answer, the confirmation.
    Waterfall,
    /// The sample's `subscribe` command (the first time also greets).
    Subscribe,
    /// The sample's notify web hook: one notification to the user's address.
    Notify,
    /// The sample's standup: the web hook asks the user, the user answers, the bot thanks.
    Standup,
}

impl Workload {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Echo => "echo",
            Workload::Waterfall => "waterfall",
            Workload::Subscribe => "subscribe",
            Workload::Notify => "notify",
            Workload::Standup => "standup",
        }
    }

    /// The steps of one cycle for one conversation.
    pub fn cycle(self, user: &User, cycle: u64) -> Vec<Step> {
        match self {
            Workload::Echo => {
                let text = format!("hello {cycle}");
                vec![Step::message(text.clone(), vec![format!("echo: {text}")])]
            }
            Workload::Waterfall => {
                let name = format!("Ada {cycle}");
                vec![
                    Step::message("start", vec![WATERFALL_PROMPT.into()]),
                    Step::message(name.clone(), vec![format!("Thanks, {name}")]),
                ]
            }
            Workload::Subscribe => {
                let mut expect = Vec::with_capacity(2);
                if cycle == 0 {
                    expect.push(GREETING.to_string());
                }
                expect.push("subscription created".into());
                vec![Step::message("subscribe", expect)]
            }
            Workload::Notify => {
                let text = format!("note {} {cycle}", user.index);
                let body = json!({ "address": user.address, "notification": text });
                vec![Step::hook("/api/notify", body, vec![text])]
            }
            Workload::Standup => {
                let body = json!({
                    "reportId": format!("r{}-{cycle}", user.index),
                    "members": [{ "id": user.id, "address": user.address }],
                });
                vec![
                    Step::hook("/api/standup", body, vec![STANDUP_QUESTION.into()]),
                    Step::message(format!("status {cycle}"), vec![STANDUP_THANKS.into()]),
                ]
            }
        }
    }

    /// Whether this workload needs the sample bot (web hooks).
    pub fn needs_sample(self) -> bool {
        matches!(self, Workload::Subscribe | Workload::Notify | Workload::Standup)
    }
}

/// A simulated user: one conversation of the run.
#[derive(Debug, Clone)]
pub struct User {
    /// The conversation index (the stand-in's slot).
    pub index: usize,
    /// The user id.
    pub id: String,
    /// The conversation id (`c{index}`).
    pub conversation: String,
    /// The user's address, as the sample's web hooks take it.
    pub address: Value,
}

impl User {
    /// User `index` of a run tagged `run` (user ids differ between runs so that a store kept
    /// across runs does not change the script), talking through the stand-in at `service_url`.
    pub fn new(index: usize, run: &str, service_url: &str) -> Self {
        let id = format!("u{index}.{run}");
        let conversation = format!("c{index}");
        let address = json!({
            "channelId": "emulator",
            "serviceUrl": service_url,
            "conversation": { "id": conversation },
            "user": { "id": id, "name": "user" },
            "bot": { "id": "bot", "name": "bot" },
        });
        User { index, id, conversation, address }
    }

    /// The JSON of the message activity `text` with id `activity_id`, from this user.
    pub fn message(&self, activity_id: &str, text: &str, service_url: &str) -> String {
        json!({
            "type": "message",
            "id": activity_id,
            "text": text,
            "channelId": "emulator",
            "serviceUrl": service_url,
            "timestamp": "2026-11-26T00:00:00.000Z",
            "from": { "id": self.id, "name": "user" },
            "recipient": { "id": "bot", "name": "bot" },
            "conversation": { "id": self.conversation },
        })
        .to_string()
    }
}

/// What a step sends.
#[derive(Debug, Clone)]
pub enum Request {
    /// A message activity to `/api/messages`.
    Message(String),
    /// A JSON body to a web hook.
    Hook {
        /// The web hook's path.
        path: &'static str,
        /// Its body.
        body: Value,
    },
}

/// One turn of a script: a request and the replies it must cause.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the user sends.
    pub request: Request,
    /// The texts of the replies it must cause (any order).
    pub expect: Vec<String>,
}

impl Step {
    fn message(text: impl Into<String>, expect: Vec<String>) -> Self {
        Step { request: Request::Message(text.into()), expect }
    }

    fn hook(path: &'static str, body: Value, expect: Vec<String>) -> Self {
        Step { request: Request::Hook { path, body }, expect }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_subscribe_is_greeted_and_later_ones_are_not() {
        let user = User::new(3, "t", "http://127.0.0.1:1");
        assert_eq!(Workload::Subscribe.cycle(&user, 0)[0].expect, vec![GREETING, "subscription created"]);
        assert_eq!(Workload::Subscribe.cycle(&user, 1)[0].expect, vec!["subscription created"]);
    }

    #[test]
    fn a_standup_is_a_hook_then_an_answer() {
        let user = User::new(3, "t", "http://127.0.0.1:1");
        let steps = Workload::Standup.cycle(&user, 0);
        assert!(
            matches!(&steps[0].request, Request::Hook { path: "/api/standup", body } if body["members"][0]["address"]["conversation"]["id"] == "c3")
        );
        assert_eq!(steps[1].expect, vec![STANDUP_THANKS]);
    }
}
