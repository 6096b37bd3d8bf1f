//! The sample's own records in the bot's store: subscriptions and standup reports.
//!
//! A user is a user of one channel: the same id on two channels (a Teams user, and a web chat
//! client that claims the same id) is two users, so every record is keyed by channel id and user
//! id (`sample/subscription/<channel>/<user>`; a report's answers by channel and user). The
//! core keeps user data and preferred locales the same way (`user/<channel>/<user>`).
//!
//! Records written by earlier versions, keyed by user id only, are still read: a subscription
//! at `sample/subscription/<user>` until that user subscribes again on the same channel, and the
//! answers of a report at `sample/report/<id>`.

use botwright::Address;
use botwright::storage::{Precondition, Storage, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('/', "%2F")
}

const SUBSCRIPTIONS: &str = "sample/subscription/";
/// Reports of earlier versions: `{"<userId>": "<status>"}`, read only.
const LEGACY_REPORTS: &str = "sample/report/";
/// Reports: a [`Report`].
const REPORTS: &str = "sample/standup/";

/// Where the subscription of `user` on `channel` lives.
fn subscription_key(channel: &str, user: &str) -> String {
    format!("{SUBSCRIPTIONS}{}/{}", escape(channel), escape(user))
}

/// Stores `address` as the subscription of its user on its channel, replacing an earlier one of
/// the same user on the same channel (never one of another channel).
pub async fn save_subscription(storage: &dyn Storage, address: &Address) -> Result<(), StorageError> {
    let user_id = &address.user.id;
    let doc = json!({ "userId": user_id, "address": address });
    storage.write(&subscription_key(&address.channel_id, user_id), &doc.to_string(), Precondition::Any).await?;
    // An earlier version's record of this user on this channel is replaced by the one above.
    let legacy = format!("{SUBSCRIPTIONS}{}", escape(user_id));
    if let Some(old) = storage.read(&legacy).await? {
        let same_channel = serde_json::from_str::<Value>(&old.json)
            .is_ok_and(|v| v["address"]["channelId"].as_str() == Some(address.channel_id.as_str()));
        if same_channel {
            match storage.delete(&legacy, Precondition::Version(old.etag)).await {
                // Changed meanwhile: another writer handled it.
                Ok(_) | Err(StorageError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Every subscription: `[{"userId", "address"}]`, one per user and channel.
pub async fn subscriptions(storage: &dyn Storage) -> Result<Vec<Value>, StorageError> {
    storage
        .scan(SUBSCRIPTIONS)
        .await?
        .into_iter()
        .map(|(key, doc)| {
            serde_json::from_str(&doc.json).map_err(|e| StorageError::Corrupt { key, reason: e.to_string() })
        })
        .collect()
}

/// A report as stored: each answer under `<channel>/<user>` (escaped).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Report {
    answers: BTreeMap<String, Answer>,
}

/// One member's answer.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    #[serde(rename = "channelId")]
    channel_id: String,
    #[serde(rename = "userId")]
    user_id: String,
    status: String,
}

fn report_key(report_id: &str) -> String {
    format!("{REPORTS}{}", escape(report_id))
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt { key: key.to_owned(), reason: e.to_string() }
}

/// Creates an empty report unless it exists.
pub async fn create_report(storage: &dyn Storage, report_id: &str) -> Result<(), StorageError> {
    let empty = serde_json::to_string(&Report::default()).map_err(|e| corrupt(report_id, e))?;
    match storage.write(&report_key(report_id), &empty, Precondition::Absent).await {
        Ok(_) | Err(StorageError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Records the status of `user_id` of `channel_id`, with a version check (two answers at once
/// both land).
pub async fn record_status(
    storage: &dyn Storage,
    report_id: &str,
    channel_id: &str,
    user_id: &str,
    status: &str,
) -> Result<(), StorageError> {
    let key = report_key(report_id);
    loop {
        let current = storage.read(&key).await?;
        let mut report: Report = match &current {
            Some(doc) => serde_json::from_str(&doc.json).map_err(|e| corrupt(&key, e))?,
            None => Report::default(),
        };
        let answer =
            Answer { channel_id: channel_id.to_owned(), user_id: user_id.to_owned(), status: status.to_owned() };
        report.answers.insert(format!("{}/{}", escape(channel_id), escape(user_id)), answer);
        let json = serde_json::to_string(&report).map_err(|e| corrupt(&key, e))?;
        match storage.write(&key, &json, Precondition::from_read(current.as_ref())).await {
            Ok(_) => return Ok(()),
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A report: `{"<userId>": "<status>"}`, empty for an unknown report. When users of different
/// channels with the same id answered, each of them is listed as `"<channelId>:<userId>"`.
pub async fn report(storage: &dyn Storage, report_id: &str) -> Result<Value, StorageError> {
    let key = report_key(report_id);
    let report: Report = match storage.read(&key).await? {
        Some(doc) => serde_json::from_str(&doc.json).map_err(|e| corrupt(&key, e))?,
        None => Report::default(),
    };
    let legacy_key = format!("{LEGACY_REPORTS}{}", escape(report_id));
    let mut out: Map<String, Value> = match storage.read(&legacy_key).await? {
        Some(doc) => serde_json::from_str(&doc.json).map_err(|e| corrupt(&legacy_key, e))?,
        None => Map::new(),
    };
    let mut channels_of: HashMap<&str, usize> = HashMap::new();
    for answer in report.answers.values() {
        *channels_of.entry(answer.user_id.as_str()).or_default() += 1;
    }
    for answer in report.answers.values() {
        let name = if channels_of.get(answer.user_id.as_str()).copied().unwrap_or(0) > 1 {
            format!("{}:{}", answer.channel_id, answer.user_id)
        } else {
            answer.user_id.clone()
        };
        out.insert(name, Value::String(answer.status.clone()));
    }
    Ok(Value::Object(out))
}
