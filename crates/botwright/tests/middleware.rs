//! Middleware wraps a turn and each delivery attempt: it can drop an activity, rewrite it, time
//! the turn, map its error, rewrite outgoing messages (once per attempt, on every path), and
//! withhold them. The older `bool` hooks still work.

mod common;

use botwright::channel::{Delivered, DeliveryError};
use botwright::dead_letter::DeadLetterReason;
use botwright::error::{SendError, TurnError};
use botwright::event::BotEvent;
use botwright::middleware::{Middleware, Next, SendNext};
use botwright::testing::TestFlow;
use botwright::{Activity, Address, Bot, Message, TurnOutcome, Waterfall, async_trait};
use common::{quick, unavailable};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn echo() -> botwright::bot::BotBuilder {
    quick(Bot::builder()).dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            let text = s.message().text().to_owned();
            s.end_dialog_with_message(format!("echo: {text}"));
            Ok(())
        }),
    )
}

/// Drops one user's messages; lets the others through.
struct Block(&'static str);

#[async_trait]
impl Middleware for Block {
    async fn on_turn(&self, activity: &mut Activity, next: Next<'_>) -> Result<TurnOutcome, TurnError> {
        if activity.from_id() == self.0 {
            return Ok(TurnOutcome::Dropped);
        }
        next.run(activity).await
    }
}

#[tokio::test]
async fn a_middleware_drops_an_activity_and_the_turn_never_runs() {
    let mut flow = TestFlow::new(echo().middleware(Block("mallory")));
    flow.as_user("mallory");
    let dropped = flow.message("hello");
    assert_eq!(flow.bot().receive(dropped).await.unwrap(), TurnOutcome::Dropped);
    flow.no_more_replies().await;
    flow.as_user("ana");
    flow.user_says("hello").await;
    flow.bot_says("echo: hello").await;
}

/// Records what it saw before and after the rest of the turn, under a name.
struct Trace {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Middleware for Trace {
    async fn on_turn(&self, activity: &mut Activity, next: Next<'_>) -> Result<TurnOutcome, TurnError> {
        self.log.lock().unwrap().push(format!("{} before {}", self.name, activity.text()));
        if let Some(text) = &mut activity.text {
            text.push_str(&format!(" +{}", self.name));
        }
        let outcome = next.run(activity).await;
        self.log.lock().unwrap().push(format!("{} after {:?}", self.name, outcome.as_ref().ok()));
        outcome
    }
}

#[tokio::test]
async fn middleware_wrap_the_turn_in_the_order_added_and_see_its_outcome() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let bot = echo()
        .middleware(Trace { name: "outer", log: log.clone() })
        .middleware(Trace { name: "inner", log: log.clone() });
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    // The turn saw the activity as both rewrote it, outer first.
    flow.bot_says("echo: hi +outer +inner").await;
    assert_eq!(
        *log.lock().unwrap(),
        ["outer before hi", "inner before hi +outer", "inner after Some(Completed)", "outer after Some(Completed)",]
    );
}

/// Turns every failed turn into a dropped activity (an error-mapping middleware).
struct Forgive;

#[async_trait]
impl Middleware for Forgive {
    async fn on_turn(&self, activity: &mut Activity, next: Next<'_>) -> Result<TurnOutcome, TurnError> {
        match next.run(activity).await {
            Err(TurnError::InvalidActivity(_)) => Ok(TurnOutcome::Dropped),
            other => other,
        }
    }
}

#[tokio::test]
async fn a_middleware_maps_the_error_of_a_turn() {
    let mut flow = TestFlow::new(echo());
    let mut broken = flow.message("no conversation");
    broken.conversation = None;
    assert!(matches!(flow.bot().receive(broken.clone()).await, Err(TurnError::InvalidActivity(_))));

    let flow = TestFlow::new(echo().middleware(Forgive));
    assert_eq!(flow.bot().receive(broken).await.unwrap(), TurnOutcome::Dropped);
}

/// Signs every outgoing message; counts the attempts it saw.
struct Sign {
    attempts: Arc<Mutex<u32>>,
}

#[async_trait]
impl Middleware for Sign {
    async fn on_send(
        &self,
        address: &Address,
        activity: &mut Activity,
        next: SendNext<'_>,
    ) -> Result<Delivered, DeliveryError> {
        *self.attempts.lock().unwrap() += 1;
        if let Some(text) = &mut activity.text {
            text.push_str(" — bot");
        }
        next.run(address, activity).await
    }
}

#[tokio::test]
async fn a_send_middleware_rewrites_each_attempt_from_the_message_as_accepted() {
    let attempts = Arc::new(Mutex::new(0));
    let mut flow = TestFlow::new(echo().middleware(Sign { attempts: attempts.clone() }));
    let conversation = flow.address().conversation.id;
    let mut events = flow.bot().events();
    // A reply (in memory), twice refused before it goes: signed once, not three times.
    flow.channel().fail_next(&conversation, [unavailable(), unavailable()]);
    flow.user_says("hi").await;
    flow.bot_says("echo: hi — bot").await;
    assert_eq!(*attempts.lock().unwrap(), 3);
    // A proactive message (through the outbox), the same.
    flow.channel().fail_next(&conversation, [unavailable()]);
    flow.bot().send(Message::new().address(flow.address()).text("news")).await.unwrap();
    flow.bot_says("news — bot").await;
    assert_eq!(*attempts.lock().unwrap(), 5);
    // Observers see what was sent.
    let mut outgoing = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let BotEvent::Outgoing { activity, .. } = event {
            outgoing.push(activity.text().to_owned());
        }
    }
    assert_eq!(outgoing, ["echo: hi — bot", "news — bot"]);
}

/// Withholds messages that contain a word.
struct Censor(&'static str);

#[async_trait]
impl Middleware for Censor {
    async fn on_send(
        &self,
        address: &Address,
        activity: &mut Activity,
        next: SendNext<'_>,
    ) -> Result<Delivered, DeliveryError> {
        if activity.text().contains(self.0) {
            return Err(DeliveryError::Withheld(format!("contains {:?}", self.0)));
        }
        next.run(address, activity).await
    }
}

#[tokio::test]
async fn a_withheld_message_is_withdrawn_not_a_dead_letter() {
    let mut flow = TestFlow::new(echo().middleware(Censor("secret")));
    let bot = flow.bot().clone();
    let mut events = bot.events();
    let error = bot.send(Message::new().address(flow.address()).text("the secret plan")).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn { .. }), "{error:?}");
    let sent = bot.send(Message::new().address(flow.address()).text("the plan")).await.unwrap();
    assert!(sent.activity_id.is_some());
    flow.bot_says("the plan").await;
    flow.no_more_replies().await;
    // The outbox keeps its record of it, saying why; no dead-letter event is raised.
    let records = bot.outbox().unwrap().dead_letters(10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(DeadLetterReason::parse(&records[0].reason), DeadLetterReason::Withheld);
    while let Ok(event) = events.try_recv() {
        assert!(!matches!(event, BotEvent::DeadLetter { .. }), "{event:?}");
    }
    // A reply, too.
    flow.user_says("secret").await;
    flow.no_more_replies().await;
}

/// The hooks of 0.1, which return `false` to stop what they were given.
struct OldStyle;

#[async_trait]
#[allow(deprecated)]
impl Middleware for OldStyle {
    async fn receive(&self, activity: &mut Activity) -> bool {
        activity.text() != "drop me"
    }

    async fn send(&self, activity: &mut Activity) -> bool {
        if let Some(text) = &mut activity.text {
            *text = text.to_uppercase();
        }
        true
    }
}

#[tokio::test]
async fn the_older_boolean_hooks_still_drop_and_rewrite() {
    let mut flow = TestFlow::new(echo().middleware(OldStyle));
    let dropped = flow.message("drop me");
    assert_eq!(flow.bot().receive(dropped).await.unwrap(), TurnOutcome::Dropped);
    flow.user_says("keep me").await;
    flow.bot_says("ECHO: KEEP ME").await;
    flow.timeout(Duration::from_millis(200)).no_more_replies().await;
}
