//! The webhook dispatcher: a background worker (one per service instance, switchable with
//! `SRDI_WORKERS_ENABLED`) that sends committed deliveries.
//!
//! One round:
//! 1. **Claim** up to `SRDI_WEBHOOKS_BATCH_SIZE` due deliveries in one autocommit statement
//!    (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances never claim the same row), stamping
//!    each with a lease (`locked_until`) and this round's `lock_token`. The claim is committed
//!    before anything is sent, and no transaction is open during any HTTP call.
//! 2. **Send** each concurrently, within this instance's in-flight cap, the endpoint's
//!    concurrency cap and its rate limit (a GCRA token bucket). Every attempt is signed afresh
//!    (Standard Webhooks; `webhook-timestamp` is the attempt's), resolves the host through the
//!    SSRF guard, has `SRDI_WEBHOOKS_REQUEST_TIMEOUT_MS` and follows no redirect; only 2xx counts.
//! 3. **Record** results in batches, one transaction per batch: the attempt log, the delivery's
//!    new state (only if it still carries this round's `lock_token`), retry times from the
//!    schedule (±20 % jitter, ≥ 60 s after 429/timeouts, `Retry-After` honoured within bounds),
//!    the endpoint's failure streak, and disabling (410 at once; 5 days failing with failures
//!    spanning ≥ 12 h), which records a `webhook.endpoint_disabled` event for the bank's e-mail.
//!
//! Crash safety: a delivery row exists exactly when its event committed. If the process dies
//! after a claim, the lease runs out and any instance claims the row again (at-least-once; the
//! stable `webhook-id` lets receivers drop the duplicate). A late result from a lease that was
//! taken over is logged as an attempt but does not overwrite the newer claim's state.
//!
//! The loop polls every `SRDI_WEBHOOKS_POLL_INTERVAL_MS`, re-polls at once after a full batch,
//! and wakes early on [`wake`] (API actions that queue deliveries call it after committing).
//!
//! Per-endpoint limits are in `rate_limit`, the polling loop that drives the rounds in `worker`.

mod rate_limit;
mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

use super::events::{self, NewEvent};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::events::EventKind;
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppResult, Context as _};
use crate::runtime::WorkerContext;
use crate::store::webhooks::{self as store, AttemptRecord, Claimed, RESPONSE_EXCERPT_BYTES};
use crate::webhooks::outbox::webhook_id;
use crate::webhooks::retry::{DisablePolicy, FailureStreak, Outcome, RetrySchedule, RngJitter, classify_response};
use crate::webhooks::signing::{SecretBox, WebhookSecret, webhook_headers};
use crate::webhooks::ssrf::{GuardedClient, find_refusal};
use crate::webhooks::{endpoint::DisabledReason, settings};
use rate_limit::{CLAIM_FACTOR, EndpointLimit, RATE_WAIT_HORIZON, gcra};
pub use worker::{run, wake};

/// The event-type header sent with every delivery (GitHub-style cheap routing).
pub const HEADER_EVENT_TYPE: &str = "webhook-event-type";
const USER_AGENT: &str = concat!("srdi-capital-webhooks/", env!("CARGO_PKG_VERSION"));
/// Time kept in reserve between the end of an attempt and the end of its lease.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
const PURGE_BATCH: u32 = 1000;

/// What a send task reports to the recorder.
#[derive(Debug)]
enum Finish {
    Attempt {
        token: Uuid,
        record: AttemptRecord,
        outcome: Outcome,
        bank_id: BankId,
    },
    /// Back to the queue without an attempt, due at `next`.
    Release {
        id: Uuid,
        token: Uuid,
        next: DateTime<Utc>,
    },
    /// Ended without an attempt.
    Abandon {
        id: Uuid,
        token: Uuid,
        reason: &'static str,
    },
}

pub struct Dispatcher {
    db: Db,
    clock: SharedClock,
    client: GuardedClient,
    secret_box: Option<SecretBox>,
    schedule: RetrySchedule,
    disable: DisablePolicy,
    timeout: Duration,
    lease: Duration,
    batch: u32,
    poll: Duration,
    retention: chrono::Duration,
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    limits: Mutex<HashMap<Uuid, EndpointLimit>>,
    capacity: Notify,
    /// Sender identity of the notice mailed to a bank when its endpoint is disabled.
    organizer: crate::mail::ics::Party,
}

impl Dispatcher {
    pub fn new(ctx: &WorkerContext) -> anyhow::Result<Dispatcher> {
        let config = &ctx.config;
        let timeout = settings::request_timeout(config);
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(USER_AGENT)
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true);
        let client = GuardedClient::new(builder, settings::ssrf_policy(config))?;
        let secret_box = match settings::secret_box(config) {
            Ok(b) => Some(b),
            Err(_) => {
                tracing::warn!(
                    "{} is not set: webhook endpoints cannot be created and deliveries cannot be signed",
                    settings::SECRET_KEY_SETTING
                );
                None
            }
        };
        Ok(Dispatcher {
            db: ctx.db.clone(),
            clock: ctx.clock.clone(),
            client,
            secret_box,
            schedule: settings::retry_schedule(config),
            disable: DisablePolicy::default(),
            timeout,
            lease: (timeout * 4).max(timeout + Duration::from_secs(30)),
            batch: config.webhooks_batch_size.max(1),
            poll: Duration::from_millis(config.webhooks_poll_interval_ms.max(1)),
            retention: chrono::Duration::days(i64::from(config.webhooks_retention_days)),
            in_flight: Arc::new(Semaphore::new(config.webhooks_max_in_flight.max(1) as usize)),
            max_in_flight: config.webhooks_max_in_flight.max(1),
            limits: Mutex::new(HashMap::new()),
            capacity: Notify::new(),
            organizer: crate::mail::outbox::organizer(config),
        })
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, EndpointLimit>> {
        self.limits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims one batch and starts sending it; returns whether the batch was full (more may be
    /// due right now).
    async fn round(self: &Arc<Self>, results: &mpsc::Sender<Finish>) -> AppResult<bool> {
        let free = u32::try_from(self.in_flight.available_permits()).unwrap_or(u32::MAX);
        let want = self.batch.min(free);
        if want == 0 {
            return Ok(false);
        }
        let now = self.clock.now();
        let token = Uuid::now_v7();
        let lease_until = now + chrono::Duration::from_std(self.lease).unwrap_or_else(|_| chrono::Duration::minutes(1));
        let lease_deadline = Instant::now() + self.lease;
        let mut conn = self.db.pool().acquire().await?;
        if !store::any_due(&mut conn, now).await? {
            return Ok(false);
        }
        let ids = store::claim(&mut conn, self.db.dialect(), token, lease_until, now, want)
            .await
            .context("claiming due webhook deliveries")?;
        if ids.is_empty() {
            return Ok(false);
        }
        let claimed = store::load_claimed(&mut conn, &ids).await.context("loading the claimed deliveries")?;
        let firms: Vec<FirmId> = {
            let set: HashSet<FirmId> =
                claimed.iter().filter(|c| c.consent_required).filter_map(|c| c.firm_id).collect();
            set.into_iter().collect()
        };
        let coverage = store::consent_coverage(&mut conn, &firms, now).await.context("reading consent coverage")?;
        let endpoints: Vec<Uuid> = claimed.iter().map(|c| c.endpoint_id).collect::<HashSet<_>>().into_iter().collect();
        let sealed = store::signing_secrets(&mut conn, &endpoints, now).await.context("reading signing secrets")?;
        drop(conn);
        let secrets: HashMap<Uuid, Arc<Vec<WebhookSecret>>> = sealed
            .into_iter()
            .map(|(endpoint, list)| {
                let opened: Vec<WebhookSecret> = match &self.secret_box {
                    Some(b) => list
                        .iter()
                        .filter_map(|s| match b.open_secret(s) {
                            Ok(secret) => Some(secret),
                            Err(e) => {
                                tracing::error!(endpoint_id = %endpoint, error = %e, "a webhook signing secret does not open");
                                None
                            }
                        })
                        .collect(),
                    None => Vec::new(),
                };
                (endpoint, Arc::new(opened))
            })
            .collect();
        let full = ids.len() as u32 >= want;
        for c in claimed {
            let covered = !c.consent_required
                || c.firm_id.is_some_and(|f| {
                    coverage.get(&f).is_some_and(|banks| banks.iter().any(|b| b.is_none_or(|b| b == c.bank_id)))
                });
            let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
                // Cannot happen (only this loop takes permits); give the row back if it does.
                let _ = results.send(Finish::Release { id: c.id, token, next: now }).await;
                continue;
            };
            let (endpoint_sem, over) = {
                let mut limits = self.limits();
                let l = limits.entry(c.endpoint_id).or_insert_with(|| EndpointLimit {
                    concurrency: Arc::new(Semaphore::new(c.max_concurrency as usize)),
                    cap: c.max_concurrency,
                    tat: Instant::now(),
                    outstanding: 0,
                });
                if l.cap != c.max_concurrency && l.outstanding == 0 {
                    l.concurrency = Arc::new(Semaphore::new(c.max_concurrency as usize));
                    l.cap = c.max_concurrency;
                }
                let over = l.outstanding >= l.cap.saturating_mul(CLAIM_FACTOR);
                if !over {
                    l.outstanding += 1;
                }
                (l.concurrency.clone(), over)
            };
            if over {
                drop(permit);
                let next = now + chrono::Duration::seconds(1);
                let _ = results.send(Finish::Release { id: c.id, token, next }).await;
                continue;
            }
            let secrets = secrets.get(&c.endpoint_id).cloned().unwrap_or_default();
            let me = Arc::clone(self);
            let results = results.clone();
            tokio::spawn(async move {
                let endpoint_id = c.endpoint_id;
                let finish = me.deliver(c, token, covered, secrets, endpoint_sem, lease_deadline).await;
                let _ = results.send(finish).await;
                if let Some(l) = me.limits().get_mut(&endpoint_id) {
                    l.outstanding = l.outstanding.saturating_sub(1);
                }
                drop(permit);
                me.capacity.notify_one();
            });
        }
        Ok(full)
    }

    /// One attempt (or the reason there is none).
    async fn deliver(
        &self,
        c: Claimed,
        token: Uuid,
        covered: bool,
        secrets: Arc<Vec<WebhookSecret>>,
        endpoint_sem: Arc<Semaphore>,
        lease_deadline: Instant,
    ) -> Finish {
        if !c.enabled {
            return Finish::Abandon { id: c.id, token, reason: "endpoint disabled" };
        }
        if !covered {
            return Finish::Abandon { id: c.id, token, reason: "consent no longer covers this bank" };
        }
        let Some(body) = c.body.clone() else {
            return Finish::Abandon { id: c.id, token, reason: "payload purged" };
        };
        if secrets.is_empty() {
            tracing::error!(endpoint_id = %c.endpoint_id, "no usable signing secret; delivery postponed");
            return Finish::Release { id: c.id, token, next: self.clock.now() + chrono::Duration::seconds(60) };
        }
        let _slot: OwnedSemaphorePermit = match endpoint_sem.acquire_owned().await {
            Ok(p) => p,
            Err(_) => return Finish::Release { id: c.id, token, next: self.clock.now() },
        };
        let gate = {
            let mut limits = self.limits();
            match limits.get_mut(&c.endpoint_id) {
                Some(l) => gcra(&mut l.tat, c.rate_limit_per_second, Instant::now(), RATE_WAIT_HORIZON),
                None => Ok(Instant::now()),
            }
        };
        match gate {
            Ok(at) => tokio::time::sleep_until(at).await,
            Err(wait) => {
                let wait = chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(1));
                return Finish::Release { id: c.id, token, next: self.clock.now() + wait };
            }
        }
        if Instant::now() + self.timeout + LEASE_MARGIN > lease_deadline {
            // Too little of the lease is left to finish within it: let the next round take it.
            return Finish::Release { id: c.id, token, next: self.clock.now() };
        }
        self.attempt(c, token, body, &secrets).await
    }

    async fn attempt(&self, c: Claimed, token: Uuid, body: String, secrets: &[WebhookSecret]) -> Finish {
        let attempted_at = self.clock.now();
        let msg_id = webhook_id(c.event_id).to_string();
        let refs: Vec<&WebhookSecret> = secrets.iter().collect();
        let started = std::time::Instant::now();
        let (outcome, status_code, response_body, error) = match Url::parse(&c.url) {
            Err(e) => (Outcome::Refused, None, None, Some(format!("refused: stored URL does not parse ({e})"))),
            Ok(url) => match self.client.post(&url) {
                Err(refusal) => (Outcome::Refused, None, None, Some(refusal.to_string())),
                Ok(req) => {
                    let mut req = req
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(HEADER_EVENT_TYPE, c.event_type.clone());
                    for (name, value) in webhook_headers(&refs, &msg_id, attempted_at.timestamp(), body.as_bytes()) {
                        req = req.header(name, value);
                    }
                    match req.body(body).send().await {
                        Ok(mut resp) => {
                            let status = resp.status().as_u16();
                            let retry_after = resp
                                .headers()
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let mut excerpt: Vec<u8> = Vec::new();
                            while excerpt.len() < RESPONSE_EXCERPT_BYTES {
                                match resp.chunk().await {
                                    Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                                    _ => break,
                                }
                            }
                            excerpt.truncate(RESPONSE_EXCERPT_BYTES);
                            let text = String::from_utf8_lossy(&excerpt).into_owned();
                            let outcome = classify_response(status, retry_after.as_deref(), self.clock.now());
                            let error = (!outcome.is_success()).then(|| format!("HTTP {status}"));
                            (outcome, Some(status), (!text.is_empty()).then_some(text), error)
                        }
                        Err(e) => {
                            if let Some(refusal) = find_refusal(&e) {
                                (Outcome::Refused, None, None, Some(refusal.to_string()))
                            } else if e.is_timeout() {
                                let ms = self.timeout.as_millis();
                                (Outcome::Timeout, None, None, Some(format!("no response within {ms} ms")))
                            } else {
                                (Outcome::ConnectionError, None, None, Some(error_chain(&e)))
                            }
                        }
                    }
                }
            },
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let attempt_number = c.round_attempts + 1;
        let delay = self.schedule.next_attempt_delay(attempt_number, &outcome, &mut RngJitter(rand::rng()));
        let next_attempt_at =
            delay.map(|d| self.clock.now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()));
        Finish::Attempt {
            token,
            bank_id: c.bank_id,
            outcome,
            record: AttemptRecord {
                delivery_id: c.id,
                endpoint_id: c.endpoint_id,
                event_id: c.event_id,
                attempt_number: c.attempts + 1,
                origin: c.origin,
                attempted_at,
                outcome: outcome.as_str(),
                status_code,
                response_body,
                error,
                duration_ms,
                next_attempt_at,
            },
        }
    }

    /// Writes one batch of results in one transaction.
    async fn record(&self, batch: &[Finish]) -> AppResult<()> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let attempts: Vec<AttemptRecord> = batch
            .iter()
            .filter_map(|f| match f {
                Finish::Attempt { record, .. } => Some(record.clone()),
                _ => None,
            })
            .collect();
        store::insert_attempts(&mut tx, &attempts).await.context("recording webhook attempts")?;
        let mut succeeded: HashMap<Uuid, Vec<(Uuid, DateTime<Utc>)>> = HashMap::new();
        let mut healthy: HashSet<Uuid> = HashSet::new();
        // endpoint → (bank, gone?, last failure time)
        let mut failing: HashMap<Uuid, (BankId, bool, DateTime<Utc>)> = HashMap::new();
        for f in batch {
            match f {
                Finish::Attempt { token, record, outcome, bank_id } => {
                    if outcome.is_success() {
                        succeeded.entry(*token).or_default().push((record.delivery_id, record.attempted_at));
                        healthy.insert(record.endpoint_id);
                    } else {
                        store::mark_failed_attempt(
                            &mut tx,
                            record.delivery_id,
                            *token,
                            record.attempted_at,
                            record.status_code,
                            record.error.as_deref().unwrap_or(outcome.as_str()),
                            record.next_attempt_at,
                        )
                        .await?;
                        let entry = failing.entry(record.endpoint_id).or_insert((*bank_id, false, record.attempted_at));
                        entry.1 |= outcome.disables_endpoint();
                        entry.2 = entry.2.max(record.attempted_at);
                    }
                }
                Finish::Release { id, token, next } => store::release(&mut tx, *id, *token, *next).await?,
                Finish::Abandon { id, token, reason } => store::abandon(&mut tx, *id, *token, reason).await?,
            }
        }
        for (token, done) in &succeeded {
            store::mark_succeeded(&mut tx, *token, done).await?;
        }
        let healthy: Vec<Uuid> = healthy.into_iter().collect();
        store::clear_failure_streaks(&mut tx, &healthy).await?;
        let mut disabled = Vec::new();
        for (endpoint_id, (bank_id, gone, last_failure)) in failing {
            let Some(health) = store::endpoint_health(&mut tx, endpoint_id).await? else { continue };
            if !health.enabled {
                // Disabled while the attempt was in flight: no retry is due any more.
                store::fail_pending_deliveries(&mut tx, endpoint_id).await?;
                continue;
            }
            let reason = if gone {
                Some(DisabledReason::Gone)
            } else if healthy.contains(&endpoint_id) {
                None
            } else {
                let previous = health.failing_since.map(|first| FailureStreak {
                    first_failure_at: first,
                    last_failure_at: health.last_failure_at.unwrap_or(first),
                });
                let streak = self.disable.record_failure(previous, last_failure);
                store::set_failure_streak(&mut tx, endpoint_id, streak.first_failure_at, streak.last_failure_at)
                    .await?;
                self.disable
                    .should_disable(streak.first_failure_at, streak.last_failure_at, now)
                    .then_some(DisabledReason::Failing)
            };
            if let Some(reason) = reason {
                let since = health.failing_since.unwrap_or(last_failure);
                disable(&mut tx, endpoint_id, bank_id, reason, since, now, &self.organizer).await?;
                disabled.push((endpoint_id, reason));
            }
        }
        tx.commit().await?;
        for f in batch {
            if let Finish::Attempt { outcome, record, .. } = f {
                metrics::counter!("webhook_delivery_attempts_total", "outcome" => outcome.as_str()).increment(1);
                metrics::histogram!("webhook_attempt_duration_seconds").record(record.duration_ms as f64 / 1000.0);
            }
        }
        for (endpoint_id, reason) in disabled {
            metrics::counter!("webhook_endpoints_disabled_total", "reason" => reason.as_str()).increment(1);
            tracing::warn!(endpoint_id = %endpoint_id, reason = %reason, "webhook endpoint disabled");
        }
        Ok(())
    }

    async fn refresh_gauges(&self) {
        let now = self.clock.now();
        let stats = async {
            let mut conn = self.db.pool().acquire().await?;
            store::queue_stats(&mut conn, now).await
        }
        .await;
        match stats {
            Ok((depth, oldest_due)) => {
                metrics::gauge!("webhook_queue_depth").set(depth as f64);
                let age = oldest_due.map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0).unwrap_or(0.0);
                metrics::gauge!("webhook_oldest_due_age_seconds").set(age);
            }
            Err(e) => tracing::warn!(error = %e, "webhook queue statistics unavailable"),
        }
        let busy = self.max_in_flight as usize - self.in_flight.available_permits().min(self.max_in_flight as usize);
        metrics::gauge!("webhook_in_flight").set(busy as f64);
    }

    /// Deletes payloads and attempts older than the retention period, in bounded batches.
    pub async fn purge(&self) -> AppResult<store::Purged> {
        let now = self.clock.now();
        let mut total = store::Purged::default();
        for _ in 0..20 {
            let mut conn = self.db.pool().acquire().await?;
            let p = store::purge(&mut conn, now - self.retention, now, PURGE_BATCH).await?;
            total.messages += p.messages;
            total.attempts += p.attempts;
            total.secrets += p.secrets;
            if p.messages < u64::from(PURGE_BATCH) && p.attempts < u64::from(PURGE_BATCH) {
                break;
            }
        }
        Ok(total)
    }
}

/// Disables an endpoint automatically and records the event the bank's e-mail is sent from.
#[allow(clippy::too_many_arguments)]
async fn disable(
    conn: &mut crate::store::Conn,
    endpoint_id: Uuid,
    bank_id: BankId,
    reason: DisabledReason,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    organizer: &crate::mail::ics::Party,
) -> AppResult<()> {
    if !store::set_enabled(conn, endpoint_id, false, Some(reason), now).await? {
        return Ok(());
    }
    let data = serde_json::json!({
        "endpoint_id": endpoint_id,
        "reason": reason,
        "failing_since": crate::db::types::ts(failing_since),
    });
    let key = format!("endpoint:{endpoint_id}:disabled:{}", crate::db::types::ts(now));
    events::record(conn, NewEvent::fact(EventKind::EndpointDisabled, None, Some(bank_id), key, data), now)
        .await
        .context("recording an endpoint's automatic disable")?;
    // The bank's contact is told by mail, queued in the same transaction as the disable.
    let bank = crate::store::banks::get(conn, bank_id).await?;
    let endpoint = store::get_endpoint(conn, endpoint_id).await?;
    if let (Some(bank), Some(endpoint)) = (bank, endpoint)
        && let Some(email) = bank.contact_email.filter(|e| crate::mail::outbox::deliverable(e))
    {
        use crate::mail::templates::{MailContext, MailKind, MailRequest};
        let request = MailRequest {
            kind: MailKind::WebhookEndpointDisabled {
                endpoint_id,
                endpoint_url: endpoint.url,
                reason: match reason {
                    DisabledReason::Gone => "the endpoint answered 410 Gone".to_owned(),
                    _ => "deliveries kept failing for five days".to_owned(),
                },
                since: failing_since,
            },
            context: MailContext::notice(crate::mail::ics::Party { name: bank.name, email }, organizer.clone(), now),
        };
        crate::mail::outbox::enqueue(conn, &request, now).await?;
    }
    Ok(())
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    let mut out = parts.join(": ");
    out.truncate(1000);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_joins_distinct_causes() {
        let inner = std::io::Error::other("connection refused");
        let outer = std::io::Error::other(format!("connect failed: {inner}"));
        assert_eq!(error_chain(&outer), "connect failed: connection refused");
    }
}
