//! The sample bot of Bot Builder v3's "Sending Messages Proactively" page, made exact: it
//! greets, saves subscriptions, keeps each user's preferred locale, sends notifications from a
//! web hook, and runs a standup with a team.
//!
//! It is written with botwright's public API only, as a tutorial:
//! - the root dialog `/` answers every message (greeting, `subscribe`, `locale en|es|de|fr|pt`);
//! - the `standup` dialog is begun proactively by the standup web hook (`Bot::begin_dialog`): a
//!   waterfall that asks with a text prompt and records the answer in the report;
//! - notifications are proactive sends (`Bot::send`), localized when given a message id.
//!
//! A user is a user of one channel: everything kept per user (subscriptions, standup answers,
//! and in the core user data such as "seen" and the preferred locale) is keyed by channel id
//! and user id, so a web chat client that claims a Teams user's id is a different user.

pub mod hooks;
pub mod records;

use botwright::activity::CardAction;
use botwright::bot::BotBuilder;
use botwright::dialog::DialogResult;
use botwright::error::BoxError;
use botwright::locale::{LocaleError, Localizer};
use botwright::{Bot, Message, Prompt, Session, Waterfall};
use serde_json::{Value, json};

/// What the bot says to someone it has not met, and to anything it does not understand.
pub const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";
/// The greeting, with its commands as buttons (channels without buttons show the text alone).
fn greeting() -> Message {
    Message::new()
        .text(GREETING)
        .suggested_actions(["subscribe", "locale en", "locale es"].map(|c| CardAction::im_back(c, c)))
}

/// The standup question.
pub const STANDUP_QUESTION: &str = "What is your status for today?";
/// The answer to a standup status.
pub const STANDUP_THANKS: &str = "Got it... Thanks!";

/// The sample's message table, in Bot Builder v3's JSON format (`locale/<locale>/index.json`).
pub fn localizer() -> Result<Localizer, LocaleError> {
    Localizer::builder()
        .default_locale("en")
        .v3_table("en", "index.json", include_str!("../../locale/en/index.json"))
        .v3_table("es", "index.json", include_str!("../../locale/es/index.json"))
        .v3_table("de", "index.json", include_str!("../../locale/de/index.json"))
        .v3_table("fr", "index.json", include_str!("../../locale/fr/index.json"))
        .v3_table("pt", "index.json", include_str!("../../locale/pt/index.json"))
        .build()
}

/// The sample bot's dialogs, ready for a store and channels.
pub fn bot(localizer: Localizer) -> BotBuilder {
    Bot::builder()
        .localizer(localizer)
        .dialog("/", Waterfall::new().step(|session, _| async move { root(session).await }))
        .dialog(
            "standup",
            Waterfall::new()
                .step(|session, args| async move { ask_status(session, args).await })
                .step(|session, answer| async move { record_status(session, answer).await }),
        )
}

/// Every message that is not a standup answer.
async fn root(session: Session) -> Result<(), BoxError> {
    let mut greeted = false;
    if !session.user_data().get::<bool>("seen").unwrap_or(false) {
        session.user_data().set("seen", true);
        session.send(greeting());
        greeted = true;
    }
    let command = session.message().text().trim().to_lowercase();
    match command.as_str() {
        "subscribe" => {
            records::save_subscription(session.bot().storage(), session.address()).await?;
            session.send("subscription created");
        }
        "locale en" | "locale es" | "locale de" | "locale fr" | "locale pt" => {
            let locale = &command["locale ".len()..];
            session.set_preferred_locale(locale);
            session.send(format!("locale set to {locale}"));
        }
        _ if !greeted => session.send(greeting()),
        _ => {}
    }
    session.end_dialog();
    Ok(())
}

/// Arguments of the standup dialog.
pub fn standup_args(report_id: &str, user_id: &str) -> Value {
    json!({ "reportId": report_id, "userId": user_id })
}

async fn ask_status(session: Session, args: DialogResult) -> Result<(), BoxError> {
    let args = args.response.unwrap_or_default();
    session.dialog_data().set("reportId", args["reportId"].clone());
    session.dialog_data().set("userId", args["userId"].clone());
    session.prompt(Prompt::text(STANDUP_QUESTION));
    Ok(())
}

async fn record_status(session: Session, answer: DialogResult) -> Result<(), BoxError> {
    let report: String = session.dialog_data().get("reportId").unwrap_or_default();
    let user: String = session.dialog_data().get("userId").unwrap_or_default();
    let status = answer.text().unwrap_or_default();
    let channel = &session.address().channel_id;
    records::record_status(session.bot().storage(), &report, channel, &user, status).await?;
    session.user_data().set("seen", true);
    session.end_dialog_with_message(STANDUP_THANKS);
    Ok(())
}
