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
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::mail::ics::Party;
use crate::mail::message::build_message;
use crate::mail::templates::{MailKind, MailRequest};
use crate::mail::transport::{Mailer, SendFailure, redact};
use crate::runtime::WorkerContext;
use crate::store::Conn;
use crate::store::mail_outbox::{self as store, Claimed};
pub use crate::store::mail_outbox::{OutboxEntry, get};

/// The wire name of a mail kind (`registration_confirmed`, …), as stored in the `kind` column.
pub fn kind_name(kind: &MailKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The office as sender and calendar ORGANIZER, from `SRDI_MAIL_FROM` (`Name <address>`).
pub fn organizer(config: &Config) -> Party {
    let from = &config.mail_from;
    Party { name: from.name.clone().unwrap_or_else(|| "SRDI Capital".to_owned()), email: from.email.to_string() }
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
    store::insert(&mut *conn, id, &kind_name(&req.kind), &rendered.subject, &json, now).await?;
    Ok(id)
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
    match outcome {
        Outcome::Sent => store::mark_sent(&mut conn, id, now, SIGN_IN_KIND, REDACTED_REQUEST).await,
        Outcome::Retry { after, error } => {
            let at = now + chrono::Duration::from_std(*after).unwrap_or(chrono::Duration::zero());
            store::schedule_retry(&mut conn, id, at, error).await
        }
        Outcome::Failed { error } => store::mark_failed(&mut conn, id, error, SIGN_IN_KIND, REDACTED_REQUEST).await,
    }
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
        let from = config.mail_from.clone();
        let message_id_domain = from.email.domain().to_owned();
        Ok(Sender {
            db,
            clock,
            mailer: Mailer::from_config(config)?,
            from,
            message_id_domain,
            schedule: config.mail_retry_schedule.clone(),
            lease: Duration::from_secs(config.mail_lease_secs),
            batch: config.mail_batch_size.max(1),
        })
    }

    /// Sends what is due now; returns how many rows it worked on.
    pub async fn run_once(&self) -> AppResult<usize> {
        let claimed = store::claim(&self.db, self.clock.now(), self.lease, self.batch).await?;
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
            mail_from: "山东省中小企业服务中心 <roadshow@srdi.example>".parse().expect("address"),
            ..Config::default()
        };
        assert_eq!(
            organizer(&c),
            Party { name: "山东省中小企业服务中心".into(), email: "roadshow@srdi.example".into() }
        );
    }
}
