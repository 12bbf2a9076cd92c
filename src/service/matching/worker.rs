//! The matching worker and draining: each pass queues due rechecks, touches the matches of lapsed
//! consents, then runs queued firm batches and product steps until nothing is claimable; [`drain`]
//! waits until the queue is empty.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Counts, enqueue_due, run_firm_batch, run_product_step, woken};
use crate::clock::Clock;
use crate::db::Db;
use crate::domain::consent::Consent;
use crate::domain::events::MatchReason;
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};
use crate::runtime::WorkerContext;
use crate::store::consents;
use crate::store::matches as store;

const CONSENT_WATERMARK: &str = "consent_expiry_processed_to";

/// Touches the matches of consents that lapsed since the last pass, so incremental sync reports
/// those firms as withdrawn for the banks that lost sight of them.
async fn process_consent_expiries(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    // Look before taking a write transaction: most ticks find no consent lapsed since the last one.
    {
        let mut conn = db.pool().acquire().await?;
        let from = store::read_state(&mut conn, CONSENT_WATERMARK).await?.unwrap_or_default();
        if consents::expired_between(&mut conn, &from, now).await?.is_empty() {
            return Ok(0);
        }
    }
    let mut tx = db.begin().await?;
    let from = store::lock_state(&mut tx, db.dialect(), CONSENT_WATERMARK).await?.unwrap_or_default();
    let lapsed = consents::expired_between(&mut tx, &from, now).await?;
    let mut firms: Vec<FirmId> = lapsed.iter().map(|(firm_id, _, _)| *firm_id).collect();
    firms.sort();
    firms.dedup();
    for firm_id in firms {
        // Before: the firm's consents as if those that ran out in this span had not.
        let after: Vec<Consent> =
            consents::for_firm(&mut tx, firm_id, now).await?.into_iter().map(|r| r.consent).collect();
        let before: Vec<Consent> = after
            .iter()
            .map(|c| {
                let lapsed_now =
                    c.expires_at <= now && lapsed.iter().any(|(f, _, x)| *f == firm_id && *x == c.expires_at);
                if lapsed_now { Consent { expires_at: DateTime::<Utc>::MAX_UTC, ..c.clone() } } else { c.clone() }
            })
            .collect();
        crate::service::consent::announce_coverage_change(
            &mut tx,
            firm_id,
            &before,
            &after,
            MatchReason::ConsentExpired,
            now,
        )
        .await?;
    }
    let to = crate::db::types::ts(now);
    if to > from {
        store::put_state(&mut tx, CONSENT_WATERMARK, &to).await?;
    }
    tx.commit().await?;
    Ok(lapsed.len())
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DrainReport {
    pub batches: u64,
    pub rechecks_queued: u64,
    pub consents_lapsed: u64,
    pub counts: Counts,
}

/// Processes every piece of work this instance can claim now: due rechecks, lapsed consents,
/// queued firms, queued products. Returns when nothing is claimable (rows other instances hold
/// are left to them). The worker calls this on every tick.
pub async fn drain_available(db: &Db, clock: &dyn Clock) -> AppResult<DrainReport> {
    drain_pass(db, clock, &CancellationToken::new()).await
}

/// [`drain_available`] that stops between batches once `stop` is cancelled.
async fn drain_pass(db: &Db, clock: &dyn Clock, stop: &CancellationToken) -> AppResult<DrainReport> {
    let mut report = DrainReport {
        rechecks_queued: enqueue_due(db, clock.now()).await? as u64,
        consents_lapsed: process_consent_expiries(db, clock.now()).await? as u64,
        ..DrainReport::default()
    };
    loop {
        let mut progressed = false;
        while !stop.is_cancelled()
            && let Some(c) = run_firm_batch(db, clock.now()).await?
        {
            report.batches += 1;
            report.counts.add(c);
            progressed = true;
        }
        if !stop.is_cancelled()
            && let Some(c) = run_product_step(db, clock.now()).await?
        {
            report.batches += 1;
            report.counts.add(c);
            progressed = true;
        }
        if !progressed || stop.is_cancelled() {
            return Ok(report);
        }
    }
}

/// The matching worker: drains on every tick (500 ms), at once when this process queued work
/// (`wake`), backing off after failures; stops between batches at shutdown.
pub async fn run_worker(ctx: WorkerContext) {
    const POLL: Duration = Duration::from_millis(500);
    let mut failures = 0u32;
    loop {
        match drain_pass(&ctx.db, &*ctx.clock, &ctx.shutdown).await {
            Ok(r) => {
                failures = 0;
                if r.batches > 0 {
                    tracing::debug!(
                        batches = r.batches,
                        created = r.counts.created,
                        updated = r.counts.updated,
                        withdrawn = r.counts.withdrawn,
                        "matching worker pass"
                    );
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = %e, failures, "matching worker pass failed; will retry");
            }
        }
        let wait = if failures == 0 { POLL } else { (POLL * 2u32.pow(failures.min(6))).min(Duration::from_secs(30)) };
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
            _ = woken() => {}
        }
    }
}

/// Processes pending work until the queue is empty, also waiting for work that another worker
/// (in this or another instance) holds, so that afterwards every change committed before the
/// call is reflected in the matches. For tests, the command line and the demo; errors after
/// `timeout`.
pub async fn drain(db: &Db, clock: &dyn Clock) -> AppResult<DrainReport> {
    drain_within(db, clock, Duration::from_secs(60)).await
}

pub async fn drain_within(db: &Db, clock: &dyn Clock, timeout: Duration) -> AppResult<DrainReport> {
    let deadline = Instant::now() + timeout;
    let mut total = DrainReport::default();
    loop {
        let r = drain_available(db, clock).await?;
        total.batches += r.batches;
        total.rechecks_queued += r.rechecks_queued;
        total.consents_lapsed += r.consents_lapsed;
        total.counts.add(r.counts);
        let left = {
            let mut conn = db.pool().acquire().await?;
            store::queue_len(&mut conn).await?
        };
        if left == 0 {
            return Ok(total);
        }
        if Instant::now() >= deadline {
            return Err(AppError::Internal(anyhow::anyhow!("matching queue not drained: {left} entries left")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
