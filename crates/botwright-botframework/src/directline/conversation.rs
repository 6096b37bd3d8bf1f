//! The conversations of the embedded Direct Line endpoint, in memory, with bounded history.
//!
//! Each history entry is the activity's JSON text, serialized once when it is added
//! ([`Bytes`]): pages and stream frames are assembled from those pieces, sharing the stored
//! buffers, never parsed or copied whole per reader.
//!
//! Bounds, all from [`DirectLineConfig`](super::DirectLineConfig):
//! - per conversation, the last `max_history` activities and at most `max_history_bytes` of them
//!   (oldest dropped first; the newest activity is always kept, and it is itself bounded by the
//!   body limit);
//! - across all conversations, `max_total_history_bytes`: beyond it, the oldest activities of the
//!   conversations idle the longest are dropped;
//! - at most `max_conversations` conversations: opening one more drops the conversation idle the
//!   longest (preferring one without open streams) and closes its streams; a client that
//!   reconnects opens it again, empty;
//! - at most `max_streams_per_conversation` WebSocket streams each.
//!
//! Streams are woken with the watermark of a new activity only (no copy of it) and read it from
//! the history; typing indicators, which are not kept, travel through a small ring buffer.
//!
//! Watermarks are sequence numbers that only grow, also across restarts: a conversation's next
//! number is the larger of the last one plus one and the current time in microseconds. A client
//! that reconnects after a restart with its old watermark still sees the new activities.

use axum::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// How many events a stream may fall behind before it catches up from the history. Small:
/// stored activities travel as watermarks only, and typing indicators are small.
const EVENT_BUFFER: usize = 16;

/// What a stream is told.
#[derive(Debug, Clone)]
pub(crate) enum StreamEvent {
    /// An activity was added to the history with this watermark: read it from there.
    Stored(u64),
    /// An activity shown live but not kept (typing), as JSON text.
    Ephemeral(Bytes),
    /// The conversation was dropped to make room: streams close, and clients reconnect.
    Ended,
}

/// The bounds of the held conversations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_conversations: usize,
    pub(crate) max_history: usize,
    pub(crate) max_history_bytes: usize,
    pub(crate) max_total_bytes: usize,
    pub(crate) max_streams: usize,
}

/// One conversation.
#[derive(Debug)]
pub(crate) struct Conversation {
    pub(crate) id: String,
    history: Mutex<History>,
    events: broadcast::Sender<StreamEvent>,
    last_active: AtomicU64,
    streams: AtomicUsize,
    limits: Limits,
    /// The bytes held by every conversation of the same [`Conversations`].
    held: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct History {
    activities: VecDeque<(u64, Bytes)>,
    bytes: usize,
    last_seq: u64,
}

/// Activities after a watermark, as JSON texts with their watermarks.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) activities: Vec<(u64, Bytes)>,
    /// The watermark after them: the last activity's, else the one asked for, else the
    /// conversation's latest.
    pub(crate) watermark: Option<u64>,
}

impl Page {
    /// The page as the JSON body `{"activities": [...], "watermark": "..."}`, in pieces that
    /// share the stored buffers.
    pub(crate) fn into_chunks(self) -> Vec<Bytes> {
        let mut chunks = Vec::with_capacity(self.activities.len() * 2 + 2);
        chunks.push(Bytes::from_static(b"{\"activities\":["));
        for (i, (_, activity)) in self.activities.into_iter().enumerate() {
            if i > 0 {
                chunks.push(Bytes::from_static(b","));
            }
            chunks.push(activity);
        }
        chunks.push(Bytes::from(match self.watermark {
            Some(w) => format!("],\"watermark\":\"{w}\"}}"),
            None => "],\"watermark\":null}".to_owned(),
        }));
        chunks
    }
}

/// One frame of a stream: `{"activities": [activity], "watermark": "..."}`.
pub(crate) fn frame(activity: &[u8], watermark: Option<u64>) -> String {
    let activity = String::from_utf8_lossy(activity);
    match watermark {
        Some(w) => format!("{{\"activities\":[{activity}],\"watermark\":\"{w}\"}}"),
        None => format!("{{\"activities\":[{activity}],\"watermark\":null}}"),
    }
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or_default()
}

/// Holds one of a conversation's stream places; gives it back when dropped.
#[derive(Debug)]
pub(crate) struct StreamPlace {
    conversation: Arc<Conversation>,
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        self.conversation.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Conversation {
    fn new(id: String, limits: Limits, held: Arc<AtomicUsize>) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Conversation {
            id,
            history: Mutex::new(History::default()),
            events,
            last_active: AtomicU64::new(now_micros()),
            streams: AtomicUsize::new(0),
            limits,
            held,
        }
    }

    fn history(&self) -> MutexGuard<'_, History> {
        // Every change keeps the history and its byte count consistent before anything that
        // could panic, so a poisoned lock is still usable.
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn touch(&self) {
        self.last_active.store(now_micros(), Ordering::Relaxed);
    }

    /// Drops the oldest activity; false when there is none.
    fn pop_oldest(&self, history: &mut History) -> bool {
        match history.activities.pop_front() {
            Some((_, dropped)) => {
                history.bytes -= dropped.len();
                self.held.fetch_sub(dropped.len(), Ordering::AcqRel);
                true
            }
            None => false,
        }
    }

    /// Adds an activity to the history and wakes the streams: `make` is given the activity id
    /// (`{conversation}|{watermark}`) and returns the activity's JSON text. Returns the id.
    pub(crate) fn append<E>(&self, make: impl FnOnce(&str) -> Result<Vec<u8>, E>) -> Result<String, E> {
        self.touch();
        let mut history = self.history();
        let seq = (history.last_seq + 1).max(now_micros());
        let id = format!("{}|{seq}", self.id);
        let text = Bytes::from(make(&id)?);
        history.last_seq = seq;
        history.bytes += text.len();
        self.held.fetch_add(text.len(), Ordering::AcqRel);
        history.activities.push_back((seq, text));
        while history.activities.len() > self.limits.max_history.max(1)
            || (history.bytes > self.limits.max_history_bytes && history.activities.len() > 1)
        {
            self.pop_oldest(&mut history);
        }
        // Sent under the lock so that streams are woken in watermark order.
        let _ = self.events.send(StreamEvent::Stored(seq));
        Ok(id)
    }

    /// Shows an activity to the streams without keeping it: `make` is given its id and returns
    /// its JSON text. Returns the id.
    pub(crate) fn show<E>(&self, make: impl FnOnce(&str) -> Result<Vec<u8>, E>) -> Result<String, E> {
        self.touch();
        let id = format!("{}|t{}", self.id, now_micros());
        let text = Bytes::from(make(&id)?);
        let _ = self.events.send(StreamEvent::Ephemeral(text));
        Ok(id)
    }

    /// The activities after `watermark` (all held, without one).
    pub(crate) fn since(&self, watermark: Option<u64>) -> Page {
        self.touch();
        Self::page(&self.history(), watermark)
    }

    fn page(history: &History, watermark: Option<u64>) -> Page {
        let after = watermark.unwrap_or(0);
        // Watermarks grow along the history: the activities after one are a suffix.
        let start = history.activities.partition_point(|(seq, _)| *seq <= after);
        let activities: Vec<(u64, Bytes)> = history.activities.range(start..).cloned().collect();
        let last_returned = activities.last().map(|(seq, _)| *seq);
        let latest = (history.last_seq > 0).then_some(history.last_seq);
        Page { activities, watermark: last_returned.or(watermark).or(latest) }
    }

    /// The first activity after `watermark` (the first held, without one).
    pub(crate) fn next_after(&self, watermark: Option<u64>) -> Option<(u64, Bytes)> {
        self.touch();
        let history = self.history();
        let after = watermark.unwrap_or(0);
        let index = history.activities.partition_point(|(seq, _)| *seq <= after);
        history.activities.get(index).cloned()
    }

    /// Subscribes to new events and, atomically with it, reads the activities after
    /// `watermark`: nothing is missed (events with a watermark not above the page's are
    /// repeats).
    pub(crate) fn subscribe(&self, watermark: Option<u64>) -> (broadcast::Receiver<StreamEvent>, Page) {
        self.touch();
        let history = self.history();
        let receiver = self.events.subscribe();
        (receiver, Self::page(&history, watermark))
    }

    /// Takes one of the conversation's stream places, when one is free.
    pub(crate) fn take_stream_place(self: &Arc<Self>) -> Option<StreamPlace> {
        let max = self.limits.max_streams;
        self.streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| StreamPlace { conversation: self.clone() })
    }

    /// The bytes of history this conversation holds.
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.history().bytes
    }

    /// Drops the whole history (the conversation is no longer held).
    fn clear(&self) {
        let mut history = self.history();
        while self.pop_oldest(&mut history) {}
    }
}

/// The conversations held.
#[derive(Debug)]
pub(crate) struct Conversations {
    all: Mutex<HashMap<String, Arc<Conversation>>>,
    limits: Limits,
    held: Arc<AtomicUsize>,
}

impl Conversations {
    pub(crate) fn new(limits: Limits) -> Self {
        let limits = Limits { max_conversations: limits.max_conversations.max(1), ..limits };
        Conversations { all: Mutex::new(HashMap::new()), limits, held: Arc::new(AtomicUsize::new(0)) }
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
        if all.len() >= self.limits.max_conversations {
            // The one idle longest, among those nobody streams if there are such.
            let idle = all
                .values()
                .min_by_key(|c| (c.events.receiver_count() > 0, c.last_active.load(Ordering::Relaxed)))
                .map(|c| c.id.clone());
            if let Some(dropped) = idle.and_then(|id| all.remove(&id)) {
                tracing::info!(conversation = %dropped.id, "too many Direct Line conversations: dropped the one idle longest");
                dropped.clear();
                let _ = dropped.events.send(StreamEvent::Ended);
            }
        }
        let conversation = Arc::new(Conversation::new(id.to_owned(), self.limits, self.held.clone()));
        all.insert(id.to_owned(), conversation.clone());
        (conversation, true)
    }

    /// Adds an activity to `conversation` ([`Conversation::append`]) and keeps the total within
    /// its bound.
    pub(crate) fn append<E>(
        &self,
        conversation: &Conversation,
        make: impl FnOnce(&str) -> Result<Vec<u8>, E>,
    ) -> Result<String, E> {
        let id = conversation.append(make)?;
        self.enforce_total();
        Ok(id)
    }

    /// Beyond the total bound, drops the oldest activities of the conversations idle the longest.
    fn enforce_total(&self) {
        let max = self.limits.max_total_bytes;
        if self.held.load(Ordering::Acquire) <= max {
            return;
        }
        let all = self.all();
        let mut by_idleness: Vec<&Arc<Conversation>> = all.values().collect();
        by_idleness.sort_by_key(|c| c.last_active.load(Ordering::Relaxed));
        for conversation in by_idleness {
            let mut history = conversation.history();
            while self.held.load(Ordering::Acquire) > max && conversation.pop_oldest(&mut history) {}
            if self.held.load(Ordering::Acquire) <= max {
                return;
            }
        }
    }

    /// How many conversations are held.
    pub(crate) fn len(&self) -> usize {
        self.all().len()
    }

    /// The bytes of history held across all conversations.
    pub(crate) fn held_bytes(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn limits() -> Limits {
        Limits {
            max_conversations: 2,
            max_history: 3,
            max_history_bytes: 1 << 20,
            max_total_bytes: 32 << 20,
            max_streams: 4,
        }
    }

    fn add(conversations: &Conversations, c: &Conversation, text: &str) -> String {
        conversations.append(c, |id| serde_json::to_vec(&json!({"type": "message", "id": id, "text": text}))).unwrap()
    }

    fn parsed(page: &Page) -> Vec<Value> {
        page.activities.iter().map(|(_, a)| serde_json::from_slice(a).unwrap()).collect()
    }

    #[test]
    fn watermarks_grow_and_history_is_bounded() {
        let conversations = Conversations::new(limits());
        let (c, opened) = conversations.get_or_open("a");
        assert!(opened);
        let ids: Vec<String> = (0..5).map(|i| add(&conversations, &c, &i.to_string())).collect();
        let all = c.since(None);
        let activities = parsed(&all);
        let texts: Vec<&str> = activities.iter().map(|a| a["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["2", "3", "4"]);
        assert_eq!(activities[2]["id"], ids[4].as_str());
        let mark = all.watermark.unwrap();
        assert!(c.since(Some(mark)).activities.is_empty());
        assert_eq!(c.since(Some(mark)).watermark, Some(mark));
        let id = add(&conversations, &c, "5");
        let next = c.since(Some(mark));
        assert_eq!(next.activities.len(), 1);
        assert_eq!(parsed(&next)[0]["id"], id.as_str());
        assert!(next.watermark.unwrap() > mark);
    }

    #[test]
    fn a_page_is_assembled_into_valid_json() {
        let conversations = Conversations::new(limits());
        let (c, _) = conversations.get_or_open("a");
        let empty: Vec<u8> = c.since(None).into_chunks().concat();
        assert_eq!(serde_json::from_slice::<Value>(&empty).unwrap(), json!({"activities": [], "watermark": null}));
        add(&conversations, &c, "one");
        add(&conversations, &c, "two \"quoted\"");
        let page = c.since(None);
        let mark = page.watermark.unwrap();
        let body: Value = serde_json::from_slice(&page.into_chunks().concat()).unwrap();
        assert_eq!(body["activities"][1]["text"], "two \"quoted\"");
        assert_eq!(body["watermark"], mark.to_string());
        let frame: Value = serde_json::from_str(&frame(br#"{"type":"typing"}"#, Some(7))).unwrap();
        assert_eq!(frame, json!({"activities": [{"type": "typing"}], "watermark": "7"}));
    }

    #[test]
    fn history_bytes_are_bounded_per_conversation_oldest_first() {
        let conversations = Conversations::new(Limits { max_history: 1000, max_history_bytes: 10_000, ..limits() });
        let (c, _) = conversations.get_or_open("a");
        let big = "x".repeat(3_000);
        for i in 0..10 {
            add(&conversations, &c, &format!("{i}{big}"));
            assert!(c.held_bytes() <= 10_000, "{} bytes held", c.held_bytes());
        }
        let kept = parsed(&c.since(None));
        assert_eq!(kept.len(), 3, "three of ~3 KB fit in 10 KB");
        assert!(kept[2]["text"].as_str().unwrap().starts_with('9'), "the newest is kept");
        assert_eq!(conversations.held_bytes(), c.held_bytes());

        // One activity larger than the bound is still kept (the newest always is), alone.
        add(&conversations, &c, &"y".repeat(20_000));
        assert_eq!(c.since(None).activities.len(), 1);
        add(&conversations, &c, "small");
        assert_eq!(parsed(&c.since(None))[0]["text"], "small");
        assert!(c.held_bytes() < 200);
    }

    #[test]
    fn the_total_is_bounded_at_the_expense_of_the_idlest() {
        let conversations = Conversations::new(Limits {
            max_conversations: 10,
            max_history: 1000,
            max_history_bytes: 100_000,
            max_total_bytes: 50_000,
            max_streams: 4,
        });
        let block = "z".repeat(4_000);
        let (idle, _) = conversations.get_or_open("idle");
        for _ in 0..5 {
            add(&conversations, &idle, &block);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        let (busy, _) = conversations.get_or_open("busy");
        for _ in 0..20 {
            add(&conversations, &busy, &block);
            assert!(conversations.held_bytes() <= 50_000, "{} bytes held", conversations.held_bytes());
        }
        assert_eq!(idle.held_bytes(), 0, "the idle conversation gave its history up first");
        assert_eq!(conversations.held_bytes(), busy.held_bytes());
        assert!(busy.since(None).activities.len() >= 10);

        // A dropped conversation gives its bytes back.
        let small = Conversations::new(Limits { max_conversations: 1, ..limits() });
        let (first, _) = small.get_or_open("first");
        add(&small, &first, &block);
        assert!(small.held_bytes() > 4_000);
        small.get_or_open("second");
        assert_eq!(small.held_bytes(), 0);
    }

    #[test]
    fn stream_places_are_bounded_and_given_back() {
        let conversations = Conversations::new(Limits { max_streams: 2, ..limits() });
        let (c, _) = conversations.get_or_open("a");
        let one = c.take_stream_place().expect("a first place");
        let two = c.take_stream_place().expect("a second place");
        assert!(c.take_stream_place().is_none(), "a third is refused");
        drop(one);
        let three = c.take_stream_place().expect("a place given back is free again");
        drop((two, three));
    }

    #[test]
    fn the_idle_conversation_makes_room() {
        let conversations = Conversations::new(limits());
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
