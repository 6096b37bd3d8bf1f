//! The conversations of the embedded Direct Line endpoint, in memory.
//!
//! Each conversation keeps its last `max_history` activities (older ones are dropped: a client
//! that asks for them gets the ones still held) and wakes its WebSocket streams when one is
//! added. At most `max_conversations` are held; opening one more drops the conversation idle the
//! longest (preferring one without open streams) and closes its streams; a client that reconnects
//! opens it again, empty.
//!
//! Watermarks are sequence numbers that only grow, also across restarts: a conversation's next
//! number is the larger of the last one plus one and the current time in microseconds. A client
//! that reconnects after a restart with its old watermark still sees the new activities.

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// What a stream is told.
#[derive(Debug, Clone)]
pub(crate) enum StreamEvent {
    /// An activity added to the history, with its watermark.
    Stored { seq: u64, activity: Arc<Value> },
    /// An activity shown live but not kept (typing).
    Ephemeral(Arc<Value>),
    /// The conversation was dropped to make room: streams close, and clients reconnect.
    Ended,
}

/// One conversation.
#[derive(Debug)]
pub(crate) struct Conversation {
    pub(crate) id: String,
    history: Mutex<History>,
    events: broadcast::Sender<StreamEvent>,
    last_active: AtomicU64,
    max_history: usize,
}

#[derive(Debug, Default)]
struct History {
    activities: VecDeque<(u64, Arc<Value>)>,
    last_seq: u64,
}

/// Activities after a watermark.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) activities: Vec<Arc<Value>>,
    /// The watermark after them: the last activity's, else the one asked for, else the
    /// conversation's latest.
    pub(crate) watermark: Option<u64>,
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or_default()
}

impl Conversation {
    fn new(id: String, max_history: usize) -> Self {
        // A stream that falls further behind catches up from the history.
        let (events, _) = broadcast::channel(64);
        Conversation {
            id,
            history: Mutex::new(History::default()),
            events,
            last_active: AtomicU64::new(now_micros()),
            max_history: max_history.max(1),
        }
    }

    fn history(&self) -> MutexGuard<'_, History> {
        // A panic while holding the lock cannot leave the history half-written (every change is
        // one push or pop), so a poisoned lock is still usable.
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn touch(&self) {
        self.last_active.store(now_micros(), Ordering::Relaxed);
    }

    /// Adds `activity` (its `id` set to `{conversation}|{seq}`) to the history and wakes the
    /// streams. Returns the activity id.
    pub(crate) fn append(&self, mut activity: Value) -> String {
        self.touch();
        let mut history = self.history();
        let seq = (history.last_seq + 1).max(now_micros());
        history.last_seq = seq;
        let id = format!("{}|{seq}", self.id);
        if let Value::Object(map) = &mut activity {
            map.insert("id".into(), Value::String(id.clone()));
        }
        let activity = Arc::new(activity);
        history.activities.push_back((seq, activity.clone()));
        while history.activities.len() > self.max_history {
            history.activities.pop_front();
        }
        // Sent under the lock so that streams see activities in watermark order.
        let _ = self.events.send(StreamEvent::Stored { seq, activity });
        id
    }

    /// Shows `activity` to the streams without keeping it. Returns the id it was given.
    pub(crate) fn show(&self, mut activity: Value) -> String {
        self.touch();
        let id = format!("{}|t{}", self.id, now_micros());
        if let Value::Object(map) = &mut activity {
            map.insert("id".into(), Value::String(id.clone()));
        }
        let _ = self.events.send(StreamEvent::Ephemeral(Arc::new(activity)));
        id
    }

    /// The activities after `watermark` (all held, without one).
    pub(crate) fn since(&self, watermark: Option<u64>) -> Page {
        self.touch();
        Self::page(&self.history(), watermark)
    }

    fn page(history: &History, watermark: Option<u64>) -> Page {
        let after = watermark.unwrap_or(0);
        let activities: Vec<Arc<Value>> =
            history.activities.iter().filter(|(seq, _)| *seq > after).map(|(_, a)| a.clone()).collect();
        let last_returned = history.activities.back().map(|(seq, _)| *seq).filter(|seq| *seq > after);
        let latest = (history.last_seq > 0).then_some(history.last_seq);
        Page { activities, watermark: last_returned.or(watermark).or(latest) }
    }

    /// Subscribes to new events and, atomically with it, reads the activities after
    /// `watermark`: nothing is missed and nothing comes twice (events with a watermark not above
    /// the page's are repeats).
    pub(crate) fn subscribe(&self, watermark: Option<u64>) -> (broadcast::Receiver<StreamEvent>, Page) {
        self.touch();
        let history = self.history();
        let receiver = self.events.subscribe();
        (receiver, Self::page(&history, watermark))
    }
}

/// The conversations held.
#[derive(Debug)]
pub(crate) struct Conversations {
    all: Mutex<HashMap<String, Arc<Conversation>>>,
    max_conversations: usize,
    max_history: usize,
}

impl Conversations {
    pub(crate) fn new(max_conversations: usize, max_history: usize) -> Self {
        Conversations { all: Mutex::new(HashMap::new()), max_conversations: max_conversations.max(1), max_history }
    }

    fn all(&self) -> MutexGuard<'_, HashMap<String, Arc<Conversation>>> {
        self.all.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The conversation `id`, when held.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Conversation>> {
        self.all().get(id).cloned()
    }

    /// The conversation `id`, opened when not held; `true` when it was opened now.
    pub(crate) fn get_or_open(&self, id: &str) -> (Arc<Conversation>, bool) {
        let mut all = self.all();
        if let Some(conversation) = all.get(id) {
            return (conversation.clone(), false);
        }
        if all.len() >= self.max_conversations {
            // The one idle longest, among those nobody streams if there are such.
            let idle = all
                .values()
                .min_by_key(|c| (c.events.receiver_count() > 0, c.last_active.load(Ordering::Relaxed)))
                .map(|c| c.id.clone());
            if let Some(dropped) = idle.and_then(|id| all.remove(&id)) {
                tracing::info!(conversation = %dropped.id, "too many Direct Line conversations: dropped the one idle longest");
                let _ = dropped.events.send(StreamEvent::Ended);
            }
        }
        let conversation = Arc::new(Conversation::new(id.to_owned(), self.max_history));
        all.insert(id.to_owned(), conversation.clone());
        (conversation, true)
    }

    /// How many conversations are held.
    pub(crate) fn len(&self) -> usize {
        self.all().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn watermarks_grow_and_history_is_bounded() {
        let conversations = Conversations::new(2, 3);
        let (c, opened) = conversations.get_or_open("a");
        assert!(opened);
        let ids: Vec<String> = (0..5).map(|i| c.append(json!({"type": "message", "text": i.to_string()}))).collect();
        let all = c.since(None);
        let texts: Vec<&str> = all.activities.iter().map(|a| a["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["2", "3", "4"]);
        assert_eq!(all.activities[2]["id"], ids[4].as_str());
        let mark = all.watermark.unwrap();
        assert!(c.since(Some(mark)).activities.is_empty());
        assert_eq!(c.since(Some(mark)).watermark, Some(mark));
        let id = c.append(json!({"type": "message", "text": "5"}));
        let next = c.since(Some(mark));
        assert_eq!(next.activities.len(), 1);
        assert_eq!(next.activities[0]["id"], id.as_str());
        assert!(next.watermark.unwrap() > mark);
    }

    #[test]
    fn the_idle_conversation_makes_room() {
        let conversations = Conversations::new(2, 3);
        conversations.get_or_open("a");
        std::thread::sleep(std::time::Duration::from_millis(2));
        conversations.get_or_open("b");
        std::thread::sleep(std::time::Duration::from_millis(2));
        conversations.get("a").unwrap().since(None);
        conversations.get_or_open("c");
        assert_eq!(conversations.len(), 2);
        assert!(conversations.get("b").is_none());
        assert!(conversations.get("a").is_some());

        // A streamed conversation is kept over an idler one; a dropped one ends its streams.
        let (mut stream, _) = conversations.get("a").unwrap().subscribe(None);
        std::thread::sleep(std::time::Duration::from_millis(2));
        conversations.get("c").unwrap().since(None);
        conversations.get_or_open("d");
        assert!(conversations.get("a").is_some() && conversations.get("c").is_none());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let (_also_streamed, _) = conversations.get("d").unwrap().subscribe(None);
        conversations.get_or_open("e");
        assert!(conversations.get("a").is_none(), "all others are streamed or newer: the idlest goes");
        assert!(matches!(stream.try_recv(), Ok(StreamEvent::Ended)));
    }
}
