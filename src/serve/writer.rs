//! The one writer: a thread that owns the registry's write handle and
//! takes requests from a channel. Deposits waiting together are appended
//! in one transaction under one checkpoint (group commit: one fsync for
//! all of them); a refused batch is retried one deposit at a time, so
//! each request gets the answer it would get alone. A reply is sent only
//! after the commit returned, and the store commits with
//! `synchronous=FULL`, so an acknowledged deposit is on disk.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::attest::dsse::Envelope;
use crate::attest::keys::PublicKey;
use crate::escrow::database::DatabaseUrl;
use crate::escrow::event::{Bond, EventTime};
use crate::escrow::receipt::Receipt;
use crate::escrow::registry::{Appended, DepositRequest, Registry, RegistryError};
use crate::validated::ValidatedManifest;

use super::Config;
use super::error::ApiError;

/// A deposit, validated and ready to append.
#[derive(Debug)]
pub struct DepositJob {
    /// The vendor's envelope.
    pub envelope: Envelope,
    /// Its manifest, re-validated as of `now`.
    pub manifest: ValidatedManifest,
    /// The bond.
    pub bond: Bond,
    /// The vendor key given with the request.
    pub vendor_key: Option<PublicKey>,
    /// The deposit time.
    pub now: EventTime,
    /// Where the receipt goes.
    pub reply: oneshot::Sender<Result<Receipt, ApiError>>,
}

/// Any other write: runs on the writer thread with the registry.
pub type WriteFn = Box<dyn FnOnce(&mut Registry) + Send>;

enum Job {
    Deposit(Box<DepositJob>),
    Other(WriteFn),
}

/// A handle to the writer thread.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

/// The thread; joined at shutdown after the last [`Writer`] is dropped.
#[derive(Debug)]
pub struct WriterThread(JoinHandle<()>);

impl WriterThread {
    /// Waits until every queued request is answered and the thread ends.
    pub fn join(self) {
        let _ = self.0.join();
    }
}

/// Why the writer could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the writer: {0}")]
pub struct StartError(#[from] RegistryError);

impl Writer {
    /// Opens the registry in `dir` (tables in `config.database` when
    /// given) for writing (the log key is loaded now, so a missing key
    /// fails at start) and starts the thread. At most `config.max_batch`
    /// deposits share one commit.
    pub fn start(dir: &Path, config: &Config) -> Result<(Writer, WriterThread), StartError> {
        let (max_batch, lock_timeout) = (config.max_batch, config.lock_timeout);
        let database = config.database.clone();
        let mut registry = Registry::open_in(dir, database.as_ref())?;
        registry.set_lock_timeout(lock_timeout)?;
        registry.check_writable()?;
        let (tx, rx) = mpsc::channel::<Job>();
        let max_batch = max_batch.max(1);
        let handle = std::thread::Builder::new()
            .name("registry-writer".into())
            .spawn({
                let dir = dir.to_owned();
                move || {
                    run(
                        registry,
                        &dir,
                        database.as_ref(),
                        lock_timeout,
                        rx,
                        max_batch,
                    )
                }
            })
            .map_err(|e| RegistryError::NotFound(format!("writer thread: {e}")))?;
        Ok((Writer { tx }, WriterThread(handle)))
    }

    /// Queues a deposit.
    pub fn deposit(&self, job: DepositJob) -> Result<(), ApiError> {
        self.tx
            .send(Job::Deposit(Box::new(job)))
            .map_err(|_| stopped())
    }

    /// Runs `f` on the writer thread and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Other(Box::new(move |r: &mut Registry| {
                let _ = reply.send(f(r));
            })))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "shutting_down",
        "the registry writer has stopped",
    )
}

fn run(
    mut registry: Registry,
    dir: &Path,
    database: Option<&DatabaseUrl>,
    lock_timeout: Duration,
    rx: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    let mut pending: Option<Job> = None;
    loop {
        if registry.is_poisoned() {
            // A commit failed (the request got its error); a fresh handle
            // re-checks the store before the next write.
            let reopened = Registry::open_in(dir, database).and_then(|mut r| {
                r.set_lock_timeout(lock_timeout)?;
                Ok(r)
            });
            match reopened {
                Ok(r) => {
                    tracing::warn!("a commit failed; reopened the registry");
                    registry = r;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a commit failed and the registry does not reopen")
                }
            }
        }
        let first = match pending.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                // Every sender is gone: the server has shut down.
                Err(_) => return,
            },
        };
        match first {
            Job::Other(f) => f(&mut registry),
            Job::Deposit(d) => {
                let mut batch = vec![*d];
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(Job::Deposit(d)) => batch.push(*d),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit(&mut registry, batch);
            }
        }
    }
}

fn request(d: &DepositJob) -> DepositRequest<'_> {
    DepositRequest {
        envelope: &d.envelope,
        manifest: &d.manifest,
        bond: d.bond.clone(),
        vendor_key: d.vendor_key,
        now: d.now,
    }
}

fn receipt(a: &Appended) -> Result<Receipt, ApiError> {
    Receipt::new(&a.entry, a.index, &a.checkpoint.note, &a.inclusion_proof)
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn commit(registry: &mut Registry, batch: Vec<DepositJob>) {
    if batch.len() > 1 {
        let reqs: Vec<DepositRequest<'_>> = batch.iter().map(request).collect();
        let result = registry.deposit_batch(&reqs);
        drop(reqs);
        if let Ok(appended) = result {
            tracing::debug!(deposits = batch.len(), "group commit");
            for (job, a) in batch.into_iter().zip(appended) {
                let _ = job.reply.send(receipt(&a));
            }
            return;
        }
    }
    // One at a time: a batch of one, or a refused batch retried so that
    // each request gets its own answer.
    for job in batch {
        let result = registry
            .deposit(&request(&job))
            .map_err(ApiError::from)
            .and_then(|a| receipt(&a));
        let _ = job.reply.send(result);
    }
}
