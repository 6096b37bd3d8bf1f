//! The storage conformance suite: one set of checks that every store backend must pass.
//!
//! Compiled with the `conformance` feature. Each case is a public async function taking a
//! factory that makes a fresh, empty store; it panics (with a message saying what broke) when the
//! store misbehaves. [`run_all`] runs every case; the [`storage_conformance_tests!`] macro turns
//! every case into its own `#[tokio::test]` in the crate of a backend, and
//! [`storage_conformance_cases!`] hands the list of case names to a macro of the caller's, for
//! backends that need their own set-up and tear-down around each case.
//!
//! ```ignore
//! // In a backend's tests/conformance.rs:
//! async fn fresh() -> MyStore { MyStore::open_temporary().await.unwrap() }
//! botwright::storage_conformance_tests!(fresh);
//! ```
//!
//! [`storage_conformance_tests!`]: crate::storage_conformance_tests
//! [`storage_conformance_cases!`]: crate::storage_conformance_cases

mod documents;
mod jobs;
mod outbox;

pub use documents::*;
pub use jobs::*;
pub use outbox::*;

use super::{JobStore, Outbox, Storage, StorageError};
use std::future::Future;

/// Generates one `#[tokio::test]` per conformance case, each calling the case with `$make`
/// (an expression usable as a factory: `Fn() -> impl Future<Output = Store>`).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! storage_conformance_tests {
    ($make:expr) => {
        $crate::storage_conformance_cases!([$crate::storage_conformance_tests] (@cases $make;));
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::storage::conformance::$case($make).await;
            }
        )*
    };
}

/// Calls `$callback!(case, case, ...)` with the name of every conformance case (each a function
/// in [`storage::conformance`](crate::storage::conformance) taking a store factory), for
/// backends that wrap each case in their own set-up and tear-down. The one list of the cases:
/// [`storage_conformance_tests!`](crate::storage_conformance_tests) and [`run_all`] expand
/// from it too (`[path::to::macro] (tokens before the list)` is the general form).
#[macro_export]
macro_rules! storage_conformance_cases {
    ($callback:ident) => {
        $crate::storage_conformance_cases!([$callback] ());
    };
    ([$($callback:tt)+] ($($before:tt)*)) => {
        $($callback)+!(
            $($before)*
            version_conflicts,
            any_precondition_overwrites,
            concurrent_writers_lose_no_update,
            write_many_is_atomic,
            large_documents,
            unicode_keys_and_values,
            read_many_keeps_order,
            delete_with_preconditions,
            scan_by_prefix,
            scan_prefix_is_literal,
            conversation_lock_excludes,
            outbox_enqueue_claim_deliver,
            outbox_not_due_before_not_before,
            outbox_retry_later,
            outbox_dead_letters,
            outbox_withdraw,
            outbox_conversation_order,
            outbox_lease_expiry_takeover,
            outbox_concurrent_claims_are_disjoint,
            outbox_release_claims,
            outbox_settle_requires_the_claim,
            outbox_purge,
            jobs_put_and_list,
            jobs_claim_due,
            jobs_finish,
            jobs_finish_by_non_owner_refused,
            jobs_lease_expiry_takeover,
            jobs_cancel,
            jobs_concurrent_claims_are_disjoint,
            jobs_release_claims
        );
    };
}

/// Calls every case in turn with `$make`.
macro_rules! run_every_case {
    ($make:ident; $($case:ident),* $(,)?) => {
        $( $case(&$make).await; )*
    };
}

/// Runs every case, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Storage + Outbox + JobStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    crate::storage_conformance_cases!([run_every_case] (make;));
}

pub(crate) fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StorageError>, key: &str) -> bool {
    matches!(result, Err(StorageError::Conflict { key: k }) if k == key)
}
