//! The one writer: a thread that owns the write connection and commits writes in batches.
//!
//! Every write is a closure sent to the writer thread. The thread takes whatever writes are
//! waiting (up to the configured batch size) and runs them in one transaction, each inside its own
//! savepoint so that a write that fails (a version conflict) is rolled back alone. The batch is
//! committed once, with one flush to disk, and only then does each caller get its result: a write
//! reported as done is on disk. Under load, writes pile up while a batch is being flushed and the
//! next batch carries them all (group commit).
//!
//! Some writes need not wait for the disk: an outbox claim or an attempt's outcome, lost on a
//! power failure, only makes a message go again. A batch made only of such relaxed writes is
//! committed without the flush (`synchronous = NORMAL` for that commit: it survives a crash of
//! the process, and the next flushed commit makes it durable too), so they never wait for one.

use crate::error::SqliteError;
use botwright::storage::StorageError;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// What a write sees: the connection, inside the batch's transaction, and the version counter.
#[derive(Debug)]
pub(crate) struct WriterContext {
    pub(crate) conn: Connection,
    next_version: i64,
    persisted_version: i64,
    /// Whether commits are flushed to disk ([`Synchronous::Full`](crate::Synchronous::Full)).
    flush: bool,
    /// Whether the connection is set to commit without a flush now.
    relaxed: bool,
}

impl WriterContext {
    /// A document version never handed out before.
    pub(crate) fn next_version(&mut self) -> i64 {
        let version = self.next_version;
        self.next_version += 1;
        version
    }
}

trait WriteOp: Send {
    /// Whether its commit must reach the disk before it is reported done.
    fn durable(&self) -> bool;
    /// Runs the write; returns whether it succeeded (else its savepoint is rolled back).
    fn apply(&mut self, ctx: &mut WriterContext) -> bool;
    /// Reports the outcome once the batch is committed (or failed).
    fn finish(self: Box<Self>, commit: Result<(), &Arc<rusqlite::Error>>);
}

struct Pending<F, R> {
    durable: bool,
    work: Option<F>,
    result: Option<Result<R, StorageError>>,
    reply: oneshot::Sender<Result<R, StorageError>>,
}

impl<F, R> WriteOp for Pending<F, R>
where
    F: FnOnce(&mut WriterContext) -> Result<R, StorageError> + Send,
    R: Send,
{
    fn durable(&self) -> bool {
        self.durable
    }

    fn apply(&mut self, ctx: &mut WriterContext) -> bool {
        let Some(work) = self.work.take() else { return false };
        match catch_unwind(AssertUnwindSafe(|| work(ctx))) {
            Ok(result) => {
                let ok = result.is_ok();
                self.result = Some(result);
                ok
            }
            Err(_) => false,
        }
    }

    fn finish(self: Box<Self>, commit: Result<(), &Arc<rusqlite::Error>>) {
        let result = match (self.result, commit) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(error)) => Err(SqliteError::Commit(Arc::clone(error)).into()),
            (None, Ok(())) => Err(SqliteError::WritePanicked.into()),
        };
        // The caller may have gone away; the write stands regardless.
        let _ = self.reply.send(result);
    }
}

/// How much the writer has committed since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteStats {
    /// Transactions committed.
    pub batches: u64,
    /// Those of them flushed to disk (with [`Synchronous::Full`](crate::Synchronous::Full), every
    /// batch with a write that must be durable).
    pub flushed: u64,
    /// Writes committed in them (successful or refused by a precondition).
    pub writes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    flushed: AtomicU64,
    writes: AtomicU64,
}

/// The handle of the writer thread; dropping it lets the thread finish and close the connection.
#[derive(Debug)]
pub(crate) struct Writer {
    sender: mpsc::Sender<Box<dyn WriteOp>>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer thread on `conn` (already migrated, with `synchronous = FULL` when
    /// `flush`).
    pub(crate) fn start(conn: Connection, max_batch: usize, flush: bool) -> Result<Writer, SqliteError> {
        let next_version: i64 =
            conn.query_row("SELECT value FROM meta WHERE name = 'next_version'", [], |row| row.get(0))?;
        let ctx = WriterContext { conn, next_version, persisted_version: next_version, flush, relaxed: false };
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("botwright-sqlite-writer".into())
            .spawn(move || run(ctx, receiver, max_batch, &thread_counters))
            .map_err(|_| SqliteError::WriterStopped)?;
        Ok(Writer { sender, counters })
    }

    /// Queues `work` for the writer thread; the receiver gets its result once committed.
    fn submit<R, F>(&self, durable: bool, work: F) -> Result<oneshot::Receiver<Result<R, StorageError>>, StorageError>
    where
        F: FnOnce(&mut WriterContext) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, receiver) = oneshot::channel();
        let op: Box<dyn WriteOp> = Box::new(Pending { durable, work: Some(work), result: None, reply });
        self.sender.send(op).map_err(|_| SqliteError::WriterStopped)?;
        Ok(receiver)
    }

    /// Runs `work` in the writer thread; returns its result once committed.
    pub(crate) async fn write<R, F>(&self, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&mut WriterContext) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        let receiver = self.submit(true, work)?;
        receiver.await.map_err(|_| SqliteError::WriterStopped)?
    }

    /// Runs `work` in the writer thread; returns its result once committed, flushed to disk or
    /// not (see the module's documentation).
    pub(crate) async fn write_relaxed<R, F>(&self, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&mut WriterContext) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        let receiver = self.submit(false, work)?;
        receiver.await.map_err(|_| SqliteError::WriterStopped)?
    }

    /// What has been committed so far.
    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            flushed: self.counters.flushed.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}

fn run(mut ctx: WriterContext, receiver: mpsc::Receiver<Box<dyn WriteOp>>, max_batch: usize, counters: &Counters) {
    let mut batch: Vec<Box<dyn WriteOp>> = Vec::with_capacity(max_batch);
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let flushed = ctx.flush && batch.iter().any(|op| op.durable());
        let outcome = commit_batch(&mut ctx, &mut batch, flushed).map_err(Arc::new);
        if let Err(error) = &outcome {
            tracing::error!(%error, writes = batch.len(), "an SQLite batch failed to commit");
            if !ctx.conn.is_autocommit() {
                let _ = ctx.conn.execute_batch("ROLLBACK");
            }
        } else {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            if flushed {
                counters.flushed.fetch_add(1, Ordering::Relaxed);
            }
            counters.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        for op in batch.drain(..) {
            op.finish(outcome.as_ref().map(|_| ()));
        }
    }
}

fn execute_cached(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn commit_batch(ctx: &mut WriterContext, batch: &mut [Box<dyn WriteOp>], flush: bool) -> Result<(), rusqlite::Error> {
    // With `synchronous = FULL` configured, a batch of relaxed writes only commits without a flush.
    let relax = ctx.flush && !flush;
    if relax != ctx.relaxed {
        ctx.conn.pragma_update(None, "synchronous", if relax { "NORMAL" } else { "FULL" })?;
        ctx.relaxed = relax;
    }
    execute_cached(&ctx.conn, "BEGIN IMMEDIATE")?;
    for op in batch.iter_mut() {
        execute_cached(&ctx.conn, "SAVEPOINT write")?;
        if !op.apply(ctx) {
            execute_cached(&ctx.conn, "ROLLBACK TO write")?;
        }
        execute_cached(&ctx.conn, "RELEASE write")?;
    }
    if ctx.next_version != ctx.persisted_version {
        ctx.conn
            .prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'next_version'")?
            .execute([ctx.next_version])?;
    }
    execute_cached(&ctx.conn, "COMMIT")?;
    ctx.persisted_version = ctx.next_version;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SqliteConfig;
    use crate::schema;

    fn writer(dir: &tempfile::TempDir, max_batch: usize) -> Writer {
        let conn = schema::open_writer(&SqliteConfig::new(dir.path().join("w.db"))).unwrap();
        Writer::start(conn, max_batch, true).unwrap()
    }

    fn insert(n: i64) -> impl FnOnce(&mut WriterContext) -> Result<i64, StorageError> + Send + 'static {
        move |ctx| {
            let version = ctx.next_version();
            ctx.conn
                .execute("INSERT INTO documents (key, json, version) VALUES (?1, '0', ?2)", (format!("k{n}"), version))
                .map_err(crate::error::backend)?;
            Ok(n)
        }
    }

    /// Writes that wait while a batch is being committed go together into the next one.
    #[tokio::test]
    async fn waiting_writes_share_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, 1024);
        let (release, hold) = mpsc::channel::<()>();
        let first = writer
            .submit(true, move |_ctx| {
                hold.recv().map_err(|_| StorageError::backend("released"))?;
                Ok(0)
            })
            .unwrap();
        let rest: Vec<_> = (1..=99).map(|n| writer.submit(true, insert(n)).unwrap()).collect();
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (n, receiver) in (1..=99).zip(rest) {
            assert_eq!(receiver.await.unwrap().unwrap(), n);
        }
        // The held write commits alone or with the others (if they were queued before the writer
        // woke up); the 99 never need more than one more commit.
        let stats = writer.stats();
        assert_eq!(stats.writes, 100);
        assert!(stats.batches <= 2, "{stats:?}");
    }

    /// A batch of relaxed writes only commits without a flush; one durable write makes its
    /// batch flush; relaxed writes are visible and kept like any other.
    #[tokio::test]
    async fn only_batches_with_a_durable_write_are_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, 1024);
        writer.write_relaxed(insert(1)).await.unwrap();
        writer.write_relaxed(insert(2)).await.unwrap();
        assert_eq!((writer.stats().batches, writer.stats().flushed), (2, 0));
        writer.write(insert(3)).await.unwrap();
        assert_eq!((writer.stats().batches, writer.stats().flushed), (3, 1));
        let synchronous: i64 =
            writer.write(|ctx| Ok(ctx.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap())).await.unwrap();
        assert_eq!(synchronous, 2, "a durable write runs with synchronous = FULL again");
        // Held back, a relaxed and a durable write share one flushed batch.
        let (release, hold) = mpsc::channel::<()>();
        let first =
            writer.submit(false, move |_ctx| hold.recv().map_err(|_| StorageError::backend("released"))).unwrap();
        let relaxed = writer.submit(false, insert(4)).unwrap();
        let durable = writer.submit(true, insert(5)).unwrap();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        relaxed.await.unwrap().unwrap();
        durable.await.unwrap().unwrap();
        let stats = writer.stats();
        assert_eq!(stats.writes, 7);
        assert_eq!(stats.flushed, 3, "{stats:?}");
        let count: i64 = writer
            .write(|ctx| Ok(ctx.conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0)).unwrap()))
            .await
            .unwrap();
        assert_eq!(count, 5);
    }

    /// A batch never exceeds the configured size.
    #[tokio::test]
    async fn batches_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, 10);
        let (release, hold) = mpsc::channel::<()>();
        let first =
            writer.submit(true, move |_ctx| hold.recv().map_err(|_| StorageError::backend("released"))).unwrap();
        let rest: Vec<_> = (1..=25).map(|n| writer.submit(true, insert(n)).unwrap()).collect();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        for receiver in rest {
            receiver.await.unwrap().unwrap();
        }
        // At most 10 a batch: at least 3 batches; the 25 queued ones need no more than 3.
        let stats = writer.stats();
        assert_eq!(stats.writes, 26);
        assert!((3..=4).contains(&stats.batches), "{stats:?}");
    }

    /// A failed write in a batch is rolled back alone; the others commit.
    #[tokio::test]
    async fn a_failed_write_does_not_fail_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, 1024);
        let (release, hold) = mpsc::channel::<()>();
        let first =
            writer.submit(true, move |_ctx| hold.recv().map_err(|_| StorageError::backend("released"))).unwrap();
        let good = writer.submit(true, insert(1)).unwrap();
        let bad = writer
            .submit(true, |ctx| {
                insert(2)(ctx)?;
                Err::<(), _>(StorageError::Conflict { key: "k2".into() })
            })
            .unwrap();
        let panicking = writer
            .submit(true, |ctx| {
                insert(3)(ctx)?;
                if ctx.next_version() > 0 {
                    panic!("a bug in a write");
                }
                Ok(())
            })
            .unwrap();
        let also_good = writer.submit(true, insert(4)).unwrap();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(good.await.unwrap().unwrap(), 1);
        assert!(matches!(bad.await.unwrap(), Err(StorageError::Conflict { .. })));
        assert!(matches!(panicking.await.unwrap(), Err(StorageError::Backend(_))));
        assert_eq!(also_good.await.unwrap().unwrap(), 4);
        let keys = writer
            .write(|ctx| {
                let mut stmt = ctx.conn.prepare("SELECT key FROM documents ORDER BY key").unwrap();
                Ok(stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap())
            })
            .await
            .unwrap();
        assert_eq!(keys, ["k1", "k4"], "the failed writes left nothing behind");
        assert!(writer.stats().batches <= 3, "{:?}", writer.stats());
    }
}
