//! The worker loop: polls for due deliveries (or is woken), hands each round to the
//! dispatcher, batches the results to the recorder, and keeps the gauges and the purge going.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::{Dispatcher, Finish};
use crate::runtime::WorkerContext;
use crate::store::webhooks as store;

const PURGE_EVERY: Duration = Duration::from_secs(60);

static WAKE: Notify = Notify::const_new();
static WAKE_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Makes every dispatcher in this process look for due deliveries now (instead of at its next
/// poll). Call after committing work that queued deliveries. Waking more dispatchers than needed
/// is harmless: each only polls the database, which stays the source of truth.
pub fn wake() {
    WAKE_GENERATION.fetch_add(1, Ordering::SeqCst);
    WAKE.notify_waiters();
}

/// Collects results and writes them in batches (a few milliseconds' worth, one transaction).
async fn recorder(d: Arc<Dispatcher>, mut rx: mpsc::Receiver<Finish>) {
    let mut batch: Vec<Finish> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let deadline = Instant::now() + Duration::from_millis(5);
        while batch.len() < 500 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(f)) => batch.push(f),
                _ => break,
            }
        }
        let mut tries = 0;
        loop {
            match d.record(&batch).await {
                Ok(()) => break,
                Err(e) => {
                    tries += 1;
                    tracing::error!(error = %e, tries, "recording webhook results failed");
                    if tries >= 5 {
                        // The claims' leases run out and the deliveries are tried again.
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
            }
        }
        batch.clear();
    }
}

/// Gauges every second, purge every minute, until shutdown.
async fn maintenance(d: Arc<Dispatcher>, shutdown: tokio_util::sync::CancellationToken) {
    let mut last_purge: Option<Instant> = None;
    loop {
        d.refresh_gauges().await;
        if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
            last_purge = Some(Instant::now());
            match d.purge().await {
                Ok(p) if p != store::Purged::default() => {
                    tracing::info!(
                        messages = p.messages,
                        attempts = p.attempts,
                        secrets = p.secrets,
                        "webhook data purged"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook purge failed"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The worker: runs until the shutdown token is cancelled, then lets sends in flight finish
/// (within the request timeout) and records their results.
#[tracing::instrument(skip_all)]
pub async fn run(ctx: WorkerContext) {
    let d = match Dispatcher::new(&ctx) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            tracing::error!(error = %e, "webhook dispatcher cannot start");
            return;
        }
    };
    let (tx, rx) = mpsc::channel::<Finish>(4096);
    let recorder = tokio::spawn(recorder(Arc::clone(&d), rx));
    let upkeep = tokio::spawn(maintenance(Arc::clone(&d), ctx.shutdown.clone()));
    tracing::info!("webhook dispatcher started");
    loop {
        if ctx.shutdown.is_cancelled() {
            break;
        }
        let seen = WAKE_GENERATION.load(Ordering::SeqCst);
        let wake = WAKE.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let full = match d.round(&tx).await {
            Ok(full) => full,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                tokio::select! {
                    _ = ctx.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                false
            }
        };
        let saturated = d.in_flight.available_permits() == 0;
        if full && !saturated {
            continue;
        }
        if WAKE_GENERATION.load(Ordering::SeqCst) != seen {
            continue;
        }
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = &mut wake => {}
            _ = d.capacity.notified(), if full || saturated => {}
            _ = tokio::time::sleep(d.poll) => {}
        }
    }
    // Let sends in flight finish, then stop the recorder.
    let grace = d.timeout + Duration::from_secs(2);
    let _ = tokio::time::timeout(grace, d.in_flight.acquire_many(d.max_in_flight)).await;
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(10), recorder).await;
    let _ = upkeep.await;
    tracing::info!("webhook dispatcher stopped");
}
