//! The sample's own records in the bot's store: subscriptions and standup reports.

use botwright::Address;
use botwright::storage::{Precondition, Storage, StorageError};
use serde_json::{Map, Value, json};

fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('/', "%2F")
}

const SUBSCRIPTIONS: &str = "sample/subscription/";
const REPORTS: &str = "sample/report/";

/// Stores `address` as the subscription of `user_id`, replacing an earlier one.
pub async fn save_subscription(storage: &dyn Storage, user_id: &str, address: &Address) -> Result<(), StorageError> {
    let doc = json!({ "userId": user_id, "address": address });
    storage.write(&format!("{SUBSCRIPTIONS}{}", escape(user_id)), &doc.to_string(), Precondition::Any).await?;
    Ok(())
}

/// Every subscription: `[{"userId", "address"}]`.
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

/// Creates an empty report unless it exists.
pub async fn create_report(storage: &dyn Storage, report_id: &str) -> Result<(), StorageError> {
    match storage.write(&format!("{REPORTS}{}", escape(report_id)), "{}", Precondition::Absent).await {
        Ok(_) | Err(StorageError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Records one member's status, with a version check (two answers at once both land).
pub async fn record_status(
    storage: &dyn Storage,
    report_id: &str,
    user_id: &str,
    status: &str,
) -> Result<(), StorageError> {
    let key = format!("{REPORTS}{}", escape(report_id));
    loop {
        let current = storage.read(&key).await?;
        let mut report: Map<String, Value> = match &current {
            Some(doc) => serde_json::from_str(&doc.json)
                .map_err(|e| StorageError::Corrupt { key: key.clone(), reason: e.to_string() })?,
            None => Map::new(),
        };
        report.insert(user_id.to_owned(), Value::String(status.to_owned()));
        let json = Value::Object(report).to_string();
        match storage.write(&key, &json, Precondition::from_read(current.as_ref())).await {
            Ok(_) => return Ok(()),
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A report: `{"<userId>": "<status>"}`, empty for an unknown report.
pub async fn report(storage: &dyn Storage, report_id: &str) -> Result<Value, StorageError> {
    let key = format!("{REPORTS}{}", escape(report_id));
    match storage.read(&key).await? {
        Some(doc) => serde_json::from_str(&doc.json).map_err(|e| StorageError::Corrupt { key, reason: e.to_string() }),
        None => Ok(json!({})),
    }
}
