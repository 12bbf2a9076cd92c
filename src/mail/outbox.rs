//! The mail outbox: a business change writes its mail as a row in its own transaction
//! ([`enqueue`]); the mail worker ([`run`]) sends due rows later, with retries.
//!
//! Delivery rules:
//! - A row is claimed with a lease (`locked_until = now + SRDI_MAIL_LEASE_SECS`; on PostgreSQL
//!   the claim reads with `FOR UPDATE SKIP LOCKED`, so several instances share the work and never
//!   take the same row). A crashed sender's rows become due again when the lease ends.
//! - Success marks the row `sent`, after which it is never claimed again. The only way a mail goes
//!   out twice is a crash between the server's acceptance and that mark; every retry of a row
//!   carries the same `Message-ID` (derived from the row id), so receivers can drop the copy.
//! - A transient failure (connection refused, timeout, 4xx reply, file system error) schedules
//!   the next attempt after the next delay of `SRDI_MAIL_RETRY_SCHEDULE`; when the schedule is
//!   used up the row becomes `failed`. A permanent rejection (5xx reply) fails the row at once.
//! - Errors stored and logged have e-mail addresses removed; logs name rows by id and kind only.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::db::row::{RowExt, list_placeholders};
use crate::db::types::ts;
use crate::error::{AppError, AppResult};
use crate::mail::ics::Party;
use crate::mail::message::build_message;
use crate::mail::templates::{MailKind, MailRequest};
use crate::mail::transport::{Mailer, SendFailure, redact};
use crate::store::Conn;
use crate::workers::WorkerContext;

/// The wire name of a mail kind (`registration_confirmed`, …), as stored in the `kind` column.
pub fn kind_name(kind: &MailKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The office as sender and calendar ORGANIZER, from `SRDI_MAIL_FROM` (`Name <address>`).
pub fn organizer(config: &Config) -> Party {
    match config.mail_from.parse::<Mailbox>() {
        Ok(m) => Party { name: m.name.unwrap_or_else(|| "SRDI Capital".to_owned()), email: m.email.to_string() },
        Err(_) => Party { name: "SRDI Capital".to_owned(), email: config.mail_from.clone() },
    }
}

/// Whether a mail to this address can be enqueued (callers with addresses of uncertain quality,
/// such as firm contacts from a spreadsheet import, check first and skip rather than fail).
pub fn deliverable(address: &str) -> bool {
    crate::domain::roadshow::valid_email(address)
}

/// Writes a mail into the outbox in the caller's transaction and returns its id. Renders it once
/// here, so a request that cannot be rendered fails the caller (a bug to fix) instead of becoming
/// a row that can never be sent. `req.context.created_at` should be `now`.
pub async fn enqueue(conn: &mut Conn, req: &MailRequest, now: DateTime<Utc>) -> AppResult<Uuid> {
    let rendered = req.render().map_err(|e| AppError::Internal(anyhow::anyhow!("mail cannot be rendered: {e}")))?;
    if !deliverable(&req.context.recipient.email) {
        return Err(AppError::field("recipient.email", "invalid", "the recipient's e-mail address is not deliverable"));
    }
    let id = Uuid::now_v7();
    let json = serde_json::to_string(req).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO mail_outbox (id, kind, subject, request, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(id.to_string())
    .bind(kind_name(&req.kind))
    .bind(&rendered.subject)
    .bind(json)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// An outbox row as operators and tests see it (no recipient address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<OutboxEntry>> {
    let row = sqlx::query(
        "SELECT id, kind, subject, status, attempts, next_attempt_at, last_error, created_at, sent_at \
         FROM mail_outbox WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(OutboxEntry {
        id: r.uuid("id")?,
        kind: r.text("kind")?,
        subject: r.text("subject")?,
        status: r.text("status")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.ts("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.ts("created_at")?,
        sent_at: r.opt_ts("sent_at")?,
    }))
}

/// A claimed row.
struct Claimed {
    id: Uuid,
    kind: String,
    attempt: i64,
    request: String,
}

const DUE: &str = "status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)";

/// Claims up to `limit` due rows under a lease. A cheap read first, so an idle worker never takes
/// SQLite's write lock.
async fn claim(db: &Db, now: DateTime<Utc>, lease: Duration, limit: u32) -> AppResult<Vec<Claimed>> {
    {
        let mut conn = db.pool().acquire().await?;
        let due = sqlx::query(&format!("SELECT id FROM mail_outbox WHERE {DUE} LIMIT 1"))
            .bind(ts(now))
            .fetch_optional(&mut *conn)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
    }
    let mut tx = db.begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT id, kind, attempts, request FROM mail_outbox WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $2{}",
        db.dialect().skip_locked()
    ))
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let claimed = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.uuid("id")?,
                kind: r.text("kind")?,
                attempt: r.int("attempts")? + 1,
                request: r.text("request")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
    let sql = format!(
        "UPDATE mail_outbox SET locked_until = $1, attempts = attempts + 1 WHERE id IN ({})",
        list_placeholders(claimed.len(), 2)
    );
    let mut q = sqlx::query(&sql).bind(ts(until));
    for c in &claimed {
        q = q.bind(c.id.to_string());
    }
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry { after: Duration, error: String },
    Failed { error: String },
}

/// The next step after attempt number `attempt` (1-based) failed with `failure`.
pub fn after_failure(failure: SendFailure, attempt: i64, schedule: &[u64]) -> Outcome {
    match failure {
        SendFailure::Permanent(error) => Outcome::Failed { error },
        SendFailure::Transient(error) => match usize::try_from(attempt - 1).ok().and_then(|i| schedule.get(i)) {
            Some(secs) => Outcome::Retry { after: Duration::from_secs(*secs), error },
            None => Outcome::Failed { error: format!("gave up after {attempt} attempts: {error}") },
        },
    }
}

/// Sign-in mails carry a usable link: once they are sent or given up, nothing needs the stored
/// request any more, and keeping it would keep a working credential in the database.
const SIGN_IN_KIND: &str = "sign_in_link";
const REDACTED_REQUEST: &str = "{}";

async fn record(db: &Db, id: Uuid, outcome: &Outcome, now: DateTime<Utc>) -> AppResult<()> {
    let mut conn = db.pool().acquire().await?;
    let q = match outcome {
        Outcome::Sent => sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at = $2, locked_until = NULL, last_error = NULL, \
             request = CASE WHEN kind = $3 THEN $4 ELSE request END WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(ts(now))
        .bind(SIGN_IN_KIND)
        .bind(REDACTED_REQUEST),
        Outcome::Retry { after, error } => sqlx::query(
            "UPDATE mail_outbox SET next_attempt_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id.to_string())
        .bind(ts(now + chrono::Duration::from_std(*after).unwrap_or(chrono::Duration::zero())))
        .bind(error.clone()),
        Outcome::Failed { error } => sqlx::query(
            "UPDATE mail_outbox SET status = 'failed', locked_until = NULL, last_error = $2, \
             request = CASE WHEN kind = $3 THEN $4 ELSE request END WHERE id = $1 AND status = 'pending'",
        )
        .bind(id.to_string())
        .bind(error.clone())
        .bind(SIGN_IN_KIND)
        .bind(REDACTED_REQUEST),
    };
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Everything one round of sending needs.
pub struct Sender {
    pub db: Db,
    pub clock: SharedClock,
    pub mailer: Mailer,
    pub from: Mailbox,
    pub message_id_domain: String,
    pub schedule: Vec<u64>,
    pub lease: Duration,
    pub batch: u32,
}

impl Sender {
    pub fn from_config(db: Db, clock: SharedClock, config: &Config) -> Result<Sender, String> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| format!("SRDI_MAIL_FROM: {e}"))?;
        let message_id_domain = from.email.domain().to_owned();
        Ok(Sender {
            db,
            clock,
            mailer: Mailer::from_config(config)?,
            from,
            message_id_domain,
            schedule: config.mail_retry_secs().map_err(|e| e.to_string())?,
            lease: Duration::from_secs(config.mail_lease_secs),
            batch: config.mail_batch_size.max(1),
        })
    }

    /// Sends what is due now; returns how many rows it worked on.
    pub async fn run_once(&self) -> AppResult<usize> {
        let claimed = claim(&self.db, self.clock.now(), self.lease, self.batch).await?;
        let n = claimed.len();
        for c in claimed {
            let outcome = match self.compose(&c) {
                Ok(message) => match self.mailer.send(message).await {
                    Ok(()) => Outcome::Sent,
                    Err(f) => after_failure(f, c.attempt, &self.schedule),
                },
                Err(error) => Outcome::Failed { error: redact(&error) },
            };
            match &outcome {
                Outcome::Sent => {
                    metrics::counter!("mail_sent_total", "kind" => c.kind.clone()).increment(1);
                    tracing::info!(outbox_id = %c.id, kind = %c.kind, attempt = c.attempt, "mail sent");
                }
                Outcome::Retry { after, error } => {
                    metrics::counter!("mail_retries_total", "kind" => c.kind.clone()).increment(1);
                    tracing::warn!(outbox_id = %c.id, kind = %c.kind, attempt = c.attempt, retry_in_s = after.as_secs(), error = %error, "mail not sent; will retry");
                }
                Outcome::Failed { error } => {
                    metrics::counter!("mail_failed_total", "kind" => c.kind.clone()).increment(1);
                    tracing::error!(outbox_id = %c.id, kind = %c.kind, attempt = c.attempt, error = %error, "mail failed for good");
                }
            }
            // After a successful send the mark must land, or the lease would expire and the mail
            // go out again: retry the write a few times before giving up on it.
            let mut tries = 0;
            loop {
                match record(&self.db, c.id, &outcome, self.clock.now()).await {
                    Ok(()) => break,
                    Err(e) if tries < 5 => {
                        tries += 1;
                        tracing::warn!(outbox_id = %c.id, error = %e, "recording the mail outcome failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                    }
                    Err(e) => {
                        tracing::error!(outbox_id = %c.id, error = %e, "could not record the mail outcome");
                        break;
                    }
                }
            }
        }
        Ok(n)
    }

    fn compose(&self, c: &Claimed) -> Result<lettre::Message, String> {
        let req: MailRequest =
            serde_json::from_str(&c.request).map_err(|e| format!("stored request unreadable: {e}"))?;
        let rendered = req.render().map_err(|e| e.to_string())?;
        let address =
            req.context.recipient.email.parse().map_err(|_| "the recipient address is not deliverable".to_owned())?;
        let to = Mailbox::new(Some(req.context.recipient.name.clone()), address);
        build_message(&self.from, &to, &rendered, c.id, &self.message_id_domain).map_err(|e| e.to_string())
    }
}

/// The mail worker: sends due rows until shutdown.
pub async fn run(ctx: WorkerContext) {
    let sender = match Sender::from_config(ctx.db.clone(), ctx.clock.clone(), &ctx.config) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            tracing::error!(error = %e, "mail worker not started");
            return;
        }
    };
    tracing::info!(transport = %sender.mailer.describe(), "mail worker started");
    let idle = Duration::from_millis(ctx.config.mail_poll_interval_ms.max(10));
    loop {
        let busy = match sender.run_once().await {
            Ok(n) => n >= sender.batch as usize,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker round failed");
                false
            }
        };
        if ctx.shutdown.is_cancelled() {
            break;
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = tokio::time::sleep(idle) => {}
        }
    }
    tracing::info!("mail worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedule_then_give_up_and_permanent_failures_stop_at_once() {
        let schedule = [1, 30, 300];
        let t = |s: &str| SendFailure::Transient(s.into());
        assert_eq!(
            after_failure(t("x"), 1, &schedule),
            Outcome::Retry { after: Duration::from_secs(1), error: "x".into() }
        );
        assert_eq!(
            after_failure(t("x"), 3, &schedule),
            Outcome::Retry { after: Duration::from_secs(300), error: "x".into() }
        );
        assert!(
            matches!(after_failure(t("x"), 4, &schedule), Outcome::Failed { error } if error.contains("gave up after 4"))
        );
        assert_eq!(
            after_failure(SendFailure::Permanent("550".into()), 1, &schedule),
            Outcome::Failed { error: "550".into() }
        );
        assert!(matches!(after_failure(t("x"), 1, &[]), Outcome::Failed { .. }));
    }

    #[test]
    fn kind_names_are_the_wire_tags() {
        assert_eq!(kind_name(&MailKind::RegistrationWaitlisted { position: 2 }), "registration_waitlisted");
        assert_eq!(kind_name(&MailKind::RoadshowCancelled { reason: None }), "roadshow_cancelled");
        assert_eq!(kind_name(&MailKind::SignInLink { links: Vec::new(), valid_minutes: 15 }), SIGN_IN_KIND);
    }

    #[test]
    fn organizer_from_the_from_setting() {
        let c = Config {
            mail_from: "山东省中小企业服务中心 <roadshow@srdi.example>".into(), ..Config::default()
        };
        assert_eq!(
            organizer(&c),
            Party { name: "山东省中小企业服务中心".into(), email: "roadshow@srdi.example".into() }
        );
    }
}
