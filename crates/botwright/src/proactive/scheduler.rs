//! The scheduler: proactive jobs kept in the store, claimed with leases.
//!
//! [`Bot::schedule`] stores a job in the [`JobStore`](crate::storage::JobStore) (its payload is
//! JSON: when, and what to do). A loop in every started bot instance claims due jobs with a lease
//! ([`ProactiveSettings::job_lease`](super::ProactiveSettings::job_lease)), runs them, and then
//! deletes a one-off job or moves a recurring one to its next time. So a restart loses nothing,
//! and two instances never both run one job while its lease holds. If an instance dies after
//! running a job and before finishing it, the job runs again once the lease expires (at least
//! once).
//!
//! Running a job is quick: a message job writes the message to the outbox (the outbox worker
//! delivers it, with retries); a dialog job runs a proactive turn
//! ([`Bot::begin_dialog`]) whose messages go to the outbox.
//!
//! A recurring job that was due while no instance ran fires once when one starts, then at its
//! next time after now (missed occurrences are not replayed).

use crate::address::Address;
use crate::bot::{Bot, BotInner, StackPolicy};
use crate::error::TurnError;
use crate::event::BotEvent;
use crate::message::Message;
use crate::storage::{Job, StorageError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

/// When a job runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum When {
    /// Once, at this time.
    At(SystemTime),
    /// Every time the cron expression matches, in a time zone (IANA name, e.g.
    /// `Europe/Madrid`; `UTC` for none). The expression has 5 fields (`min hour day month
    /// weekday`) or 6–7 with seconds first and years last: `0 9 * * Mon-Fri` is 9:00 on
    /// weekdays.
    Cron {
        /// The expression.
        expr: String,
        /// The time zone.
        time_zone: String,
    },
}

impl When {
    /// Once, `delay` from now.
    pub fn after(delay: Duration) -> Self {
        When::At(crate::later::system_after(SystemTime::now(), delay))
    }

    /// Every time `expr` matches in `time_zone` (see [`When::Cron`]).
    ///
    /// ```
    /// use botwright::proactive::When;
    /// let standup = When::cron("0 9 * * Mon-Fri", "Europe/Madrid");
    /// assert!(standup.next_after(std::time::SystemTime::now()).is_ok());
    /// assert!(When::cron("0 9 * *", "UTC").next_after(std::time::SystemTime::now()).is_err());
    /// assert!(When::cron("0 9 * * *", "Mars/Olympus").next_after(std::time::SystemTime::now()).is_err());
    /// ```
    pub fn cron(expr: impl Into<String>, time_zone: impl Into<String>) -> Self {
        When::Cron { expr: expr.into(), time_zone: time_zone.into() }
    }

    /// The first time strictly after `now` (for [`When::At`]: its time, even if past).
    pub fn next_after(&self, now: SystemTime) -> Result<SystemTime, ScheduleError> {
        match self {
            When::At(at) => Ok(*at),
            When::Cron { expr, time_zone } => {
                let (schedule, tz) = parse_cron(expr, time_zone)?;
                let now: DateTime<Utc> = now.into();
                schedule
                    .after(&now.with_timezone(&tz))
                    .next()
                    .map(SystemTime::from)
                    .ok_or_else(|| ScheduleError::NeverDue(expr.clone()))
            }
        }
    }

    fn recurs(&self) -> bool {
        matches!(self, When::Cron { .. })
    }
}

fn parse_cron(expr: &str, time_zone: &str) -> Result<(cron::Schedule, Tz), ScheduleError> {
    let tz = Tz::from_str(time_zone).map_err(|_| ScheduleError::UnknownTimeZone(time_zone.to_owned()))?;
    let fields = expr.split_whitespace().count();
    // Classic 5-field cron: run at second 0.
    let full = if fields == 5 { format!("0 {expr}") } else { expr.to_owned() };
    let schedule = cron::Schedule::from_str(&full)
        .map_err(|e| ScheduleError::InvalidCron { expr: expr.to_owned(), reason: e.to_string() })?;
    Ok((schedule, tz))
}

/// What a scheduled job does.
#[allow(clippy::large_enum_variant)] // jobs are few; their size does not matter
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProactiveJob {
    /// Sends a message to the address it carries (a localized message resolves in the user's
    /// preferred locale when the job runs).
    Message(Message),
    /// Begins a dialog with the user at an address.
    Dialog {
        /// The user.
        address: Address,
        /// The dialog.
        dialog_id: String,
        /// Its arguments.
        args: Value,
        /// What happens to the dialog the user is in.
        policy: StackPolicy,
    },
}

impl ProactiveJob {
    /// A job that sends `message` (which carries its address).
    pub fn message(message: Message) -> Self {
        ProactiveJob::Message(message)
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledJob {
    /// Its id.
    pub id: String,
    /// When it runs next.
    pub due_at: SystemTime,
    /// Its schedule.
    pub when: When,
    /// What it does.
    pub job: ProactiveJob,
}

/// Why a job could not be scheduled or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The bot's store keeps no jobs.
    #[error("this bot has no job store")]
    NoJobStore,
    /// The cron expression does not parse.
    #[error("invalid cron expression {expr:?}: {reason}")]
    InvalidCron {
        /// The expression.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The time zone is not an IANA name.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// The cron expression never matches again.
    #[error("cron expression {0:?} never matches again")]
    NeverDue(String),
    /// A message job without an address.
    #[error("a scheduled message needs an address")]
    MissingAddress,
    /// The dialog of a dialog job does not exist.
    #[error("no dialog with id {0:?}")]
    UnknownDialog(String),
    /// The store failed, or a stored job could not be read.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The stored JSON of a job.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    when: When,
    job: StoredJob,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum StoredJob {
    Message {
        message: Message,
    },
    #[serde(rename_all = "camelCase")]
    Dialog {
        address: Address,
        dialog_id: String,
        args: Value,
        push: bool,
    },
}

impl Stored {
    fn new(when: When, job: ProactiveJob) -> Self {
        let job = match job {
            ProactiveJob::Message(message) => StoredJob::Message { message },
            ProactiveJob::Dialog { address, dialog_id, args, policy } => {
                StoredJob::Dialog { address, dialog_id, args, push: policy == StackPolicy::Push }
            }
        };
        Stored { when, job }
    }

    fn parse(job: &Job) -> Result<Self, StorageError> {
        serde_json::from_str(&job.payload)
            .map_err(|e| StorageError::Corrupt { key: format!("job/{}", job.id), reason: e.to_string() })
    }

    fn into_job(self) -> ProactiveJob {
        match self.job {
            StoredJob::Message { message } => ProactiveJob::Message(message),
            StoredJob::Dialog { address, dialog_id, args, push } => ProactiveJob::Dialog {
                address,
                dialog_id,
                args,
                policy: if push { StackPolicy::Push } else { StackPolicy::Replace },
            },
        }
    }
}

impl Bot {
    /// Schedules `job` under `id` (replacing a job with that id); returns when it first runs.
    ///
    /// ```
    /// use botwright::{Bot, Message, Prompt, StackPolicy, Waterfall};
    /// use botwright::proactive::{ProactiveJob, When};
    /// use botwright::testing::TestFlow;
    /// # tokio_test::block_on(async {
    /// let flow = TestFlow::new(Bot::builder().dialog("standup", Waterfall::new().step(|s, _| async move {
    ///     s.prompt(Prompt::text("What is your status for today?"));
    ///     Ok(())
    /// })));
    /// let bot = flow.bot();
    /// bot.schedule("standup/ana", When::cron("0 9 * * Mon-Fri", "Europe/Madrid"), ProactiveJob::Dialog {
    ///     address: flow.address(), dialog_id: "standup".into(), args: serde_json::Value::Null, policy: StackPolicy::Push,
    /// }).await.unwrap();
    /// bot.schedule("reminder/ana", When::after(std::time::Duration::from_secs(3600)),
    ///     ProactiveJob::message(Message::localized("reminder").address(flow.address()))).await.unwrap();
    /// assert_eq!(bot.scheduled().await.unwrap().len(), 2);
    /// assert!(bot.cancel_schedule("reminder/ana").await.unwrap());
    /// # });
    /// ```
    pub async fn schedule(
        &self,
        id: impl Into<String>,
        when: When,
        job: ProactiveJob,
    ) -> Result<SystemTime, ScheduleError> {
        let store = self.job_store().ok_or(ScheduleError::NoJobStore)?.clone();
        match &job {
            ProactiveJob::Message(m) if m.address_ref().is_none() => return Err(ScheduleError::MissingAddress),
            ProactiveJob::Dialog { dialog_id, .. } if self.dialog(dialog_id).is_none() => {
                return Err(ScheduleError::UnknownDialog(dialog_id.clone()));
            }
            _ => {}
        }
        let due_at = when.next_after(SystemTime::now())?;
        let payload = serde_json::to_string(&Stored::new(when, job)).map_err(StorageError::backend)?;
        store.put_job(&Job { id: id.into(), due_at, payload }).await?;
        ensure(self);
        self.inner.scheduler.wake();
        Ok(due_at)
    }

    /// Deletes a scheduled job; returns whether it existed.
    pub async fn cancel_schedule(&self, id: &str) -> Result<bool, ScheduleError> {
        let store = self.job_store().ok_or(ScheduleError::NoJobStore)?;
        Ok(store.cancel_job(id).await?)
    }

    /// Every scheduled job, by due time.
    pub async fn scheduled(&self) -> Result<Vec<ScheduledJob>, ScheduleError> {
        let store = self.job_store().ok_or(ScheduleError::NoJobStore)?;
        let mut out = Vec::new();
        for job in store.jobs().await? {
            let stored = Stored::parse(&job)?;
            out.push(ScheduledJob {
                id: job.id,
                due_at: job.due_at,
                when: stored.when.clone(),
                job: stored.into_job(),
            });
        }
        Ok(out)
    }
}

/// Releases the job claims a previous run under this instance id held (when `fresh`: this run
/// has claimed nothing yet), then starts the scheduler loop.
pub(super) async fn start(bot: &Bot, fresh: bool) {
    if let Some(jobs) = bot.job_store().filter(|_| fresh) {
        let owner = &bot.inner.delivery.settings().instance_id;
        match jobs.release_job_claims(owner).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, instance = %owner, "took back jobs a previous run had claimed"),
            Err(e) => tracing::warn!(error = %e, "could not release a previous run's job claims"),
        }
    }
    ensure(bot);
}

/// Starts this bot's scheduler loop, once.
fn ensure(bot: &Bot) {
    if bot.job_store().is_none() || bot.inner.delivery.lifecycle().is_stopping() {
        return;
    }
    if bot.inner.scheduler.start_once() {
        let weak = Arc::downgrade(&bot.inner);
        let wake = bot.inner.scheduler.bell();
        let stopping = bot.inner.delivery.lifecycle().stopping();
        tokio::spawn(run(weak, wake, stopping));
    }
}

/// How many due jobs one claim takes.
const CLAIM_BATCH: usize = 32;

async fn run(weak: Weak<BotInner>, wake: Arc<tokio::sync::Notify>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let Some(inner) = weak.upgrade() else { return };
        let bot = Bot { inner };
        let claimed = tick(&bot).await;
        let poll = bot.inner.delivery.settings().poll_interval;
        drop(bot);
        if claimed >= CLAIM_BATCH {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// Claims and runs what is due; returns how many jobs were claimed.
async fn tick(bot: &Bot) -> usize {
    let Some(store) = bot.job_store().cloned() else { return 0 };
    let settings = bot.inner.delivery.settings();
    let owner = settings.instance_id.clone();
    let jobs = match store.claim_due_jobs(&owner, SystemTime::now(), CLAIM_BATCH, settings.job_lease).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "claiming scheduled jobs failed; trying again");
            return 0;
        }
    };
    let n = jobs.len();
    for job in jobs {
        let next_due = fire(bot, &job).await;
        match store.finish_job(&job.id, &owner, next_due).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(job = %job.id, "a job's lease expired while it ran; it may run again"),
            Err(e) => {
                tracing::warn!(error = %e, job = %job.id, "could not finish a job; it runs again once its lease expires")
            }
        }
    }
    n
}

/// Runs one job; returns when it runs next (`None`: delete it).
async fn fire(bot: &Bot, job: &Job) -> Option<SystemTime> {
    let stored = match Stored::parse(job) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, job = %job.id, "a stored job cannot be read; it is deleted");
            return None;
        }
    };
    let now = SystemTime::now();
    let next = if stored.when.recurs() {
        match stored.when.next_after(now) {
            Ok(next) => Some(next),
            Err(e) => {
                tracing::warn!(error = %e, job = %job.id, "a recurring job has no next time; it is deleted");
                None
            }
        }
    } else {
        None
    };
    let retry = Some(crate::later::system_after(now, bot.inner.delivery.settings().job_retry));
    match stored.into_job() {
        ProactiveJob::Message(message) => {
            let address = message.address_ref().cloned();
            let accepted = if bot.outbox().is_some() {
                bot.enqueue(message).await.map(|_| ())
            } else {
                // Without an outbox: send from memory and report a failure as an event.
                let bot2 = bot.clone();
                tokio::spawn(async move {
                    if let Err(e) = bot2.send(message).await {
                        tracing::warn!(error = %e, "a scheduled message was not delivered");
                    }
                });
                Ok(())
            };
            match accepted {
                Ok(()) => next,
                Err(crate::error::SendError::Storage(e)) => {
                    tracing::warn!(error = %e, job = %job.id, "a scheduled message could not be accepted; it runs again later");
                    retry
                }
                // Released at once, for another instance or the next start.
                Err(crate::error::SendError::ShuttingDown) => Some(now),
                Err(e) => {
                    tracing::error!(error = %e, job = %job.id, "a scheduled message failed");
                    if let Some(address) = address {
                        bot.emit(|| BotEvent::Error { address: Box::new(address), error: e.to_string() });
                    }
                    next
                }
            }
        }
        ProactiveJob::Dialog { address, dialog_id, args, policy } => {
            match bot.begin_dialog(&address, &dialog_id, args, policy).await {
                Ok(()) => next,
                Err(e @ (TurnError::Storage(_) | TurnError::Contention { .. })) => {
                    tracing::warn!(error = %e, job = %job.id, "a scheduled dialog could not begin; it runs again later");
                    retry
                }
                Err(e) => {
                    tracing::error!(error = %e, job = %job.id, "a scheduled dialog failed");
                    bot.emit(|| BotEvent::Error { address: Box::new(address), error: e.to_string() });
                    next
                }
            }
        }
    }
}
