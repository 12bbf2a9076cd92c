//! Rule sets as data, listing milestones, and each firm's current stage per venue.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::{day, ts};
use crate::domain::firm::Venue;
use crate::domain::ids::FirmId;
use crate::domain::listing_stage::{ListingEvent, ListingStage, Progress};
use crate::domain::readiness::rules::RuleSet;
use crate::domain::tier_check::TierScheme;
use crate::error::AppResult;

/// The tier scheme is not tied to a venue; its rows use this key.
const TIER_KEY: &str = "miit";

/// Stored rule sets of one kind, as JSON bodies.
pub async fn rule_bodies(conn: &mut Conn, kind: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query("SELECT body FROM rule_sets WHERE kind = $1 ORDER BY venue, scope, effective_from")
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(|r| r.text("body")).collect::<Result<_, _>>()?)
}

/// A fingerprint of the stored rules, so a process can tell when its cached book is stale.
pub async fn rules_stamp(conn: &mut Conn) -> AppResult<String> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MAX(updated_at) AS at FROM rule_sets").fetch_one(&mut *conn).await?;
    Ok(format!("{}:{}", row.int("n")?, row.opt_text("at")?.unwrap_or_default()))
}

#[allow(clippy::too_many_arguments)]
async fn upsert(
    conn: &mut Conn,
    kind: &str,
    key: (&str, &str, &str),
    dates: (NaiveDate, Option<NaiveDate>),
    body: &str,
    builtin: bool,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (venue, scope, version) = key;
    sqlx::query(
        "INSERT INTO rule_sets (kind, venue, scope, version, effective_from, effective_to, body, builtin, updated_at, updated_by_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (kind, venue, scope, version) DO UPDATE SET effective_from = excluded.effective_from, \
         effective_to = excluded.effective_to, body = excluded.body, builtin = excluded.builtin, \
         updated_at = excluded.updated_at, updated_by_key = excluded.updated_by_key",
    )
    .bind(kind)
    .bind(venue)
    .bind(scope)
    .bind(version)
    .bind(day(dates.0))
    .bind(dates.1.map(day))
    .bind(body)
    .bind(builtin)
    .bind(ts(now))
    .bind(actor.map(|a| a.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn put_rule_set(
    conn: &mut Conn,
    set: &RuleSet,
    builtin: bool,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let body = serde_json::to_string(set).map_err(|e| anyhow::anyhow!(e))?;
    let key = (set.venue.as_str(), set.scope.as_str(), set.version.as_str());
    upsert(conn, "listing", key, (set.effective_from, set.effective_to), &body, builtin, actor, now).await
}

pub async fn put_tier_scheme(
    conn: &mut Conn,
    s: &TierScheme,
    builtin: bool,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let body = serde_json::to_string(s).map_err(|e| anyhow::anyhow!(e))?;
    upsert(
        conn,
        "tier",
        (TIER_KEY, TIER_KEY, &s.version),
        (s.effective_from, s.effective_to),
        &body,
        builtin,
        actor,
        now,
    )
    .await
}

/// Stores the built-in versions the database does not have yet, and brings built-in versions
/// that nobody has edited up to date with the shipped data (a release that corrects a figure or
/// adds a condition reaches existing databases). A version an operator replaced through the API is
/// no longer `builtin` and is never overwritten, so an operator's correction survives upgrades.
pub async fn seed_builtin(
    conn: &mut Conn,
    sets: &[RuleSet],
    schemes: &[TierScheme],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    async fn stored(conn: &mut Conn, kind: &str, key: (&str, &str, &str)) -> AppResult<Option<(bool, String)>> {
        let row = sqlx::query(
            "SELECT builtin, body FROM rule_sets WHERE kind = $1 AND venue = $2 AND scope = $3 AND version = $4",
        )
        .bind(kind)
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|r| Ok::<_, sqlx::Error>((r.flag("builtin")?, r.text("body")?))).transpose()?)
    }
    let stale = |found: &Option<(bool, String)>, body: &str| match found {
        None => true,
        Some((builtin, stored)) => *builtin && stored != body,
    };
    let mut written = 0;
    for s in sets {
        let body = serde_json::to_string(s).map_err(|e| anyhow::anyhow!(e))?;
        let found = stored(conn, "listing", (s.venue.as_str(), s.scope.as_str(), &s.version)).await?;
        if stale(&found, &body) {
            put_rule_set(conn, s, true, None, now).await?;
            written += 1;
        }
    }
    for s in schemes {
        let body = serde_json::to_string(s).map_err(|e| anyhow::anyhow!(e))?;
        let found = stored(conn, "tier", (TIER_KEY, TIER_KEY, &s.version)).await?;
        if stale(&found, &body) {
            put_tier_scheme(conn, s, true, None, now).await?;
            written += 1;
        }
    }
    Ok(written)
}

fn event_from_row(r: &AnyRow) -> Result<ListingEvent, sqlx::Error> {
    Ok(ListingEvent {
        id: r.uuid("id")?,
        venue: r.vocab("venue")?,
        stage: r.vocab("stage")?,
        layer: r.opt_vocab("layer")?,
        reached_on: r.day("reached_on")?,
        document_ref: r.opt_text("document_ref")?,
        remark: r.opt_text("remark")?,
        corrects: r.opt_uuid("corrects")?,
        retracts: r.flag("retracts")?,
    })
}

/// A firm's milestones for one venue (or all venues), in recorded order.
pub async fn events(conn: &mut Conn, firm_id: FirmId, venue: Option<Venue>) -> AppResult<Vec<ListingEvent>> {
    let rows = sqlx::query(
        "SELECT id, venue, stage, layer, reached_on, document_ref, remark, corrects, retracts FROM listing_events \
         WHERE firm_id = $1 AND ($2 = '' OR venue = $2) ORDER BY recorded_at, id",
    )
    .bind(firm_id.to_string())
    .bind(venue.map(|v| v.as_str()).unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(event_from_row).collect::<Result<_, _>>()?)
}

pub async fn insert_event(
    conn: &mut Conn,
    firm_id: FirmId,
    e: &ListingEvent,
    actor: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO listing_events (id, firm_id, venue, stage, layer, reached_on, document_ref, remark, corrects, retracts, recorded_at, actor_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.id.to_string())
    .bind(firm_id.to_string())
    .bind(e.venue.as_str())
    .bind(e.stage.as_str())
    .bind(e.layer.map(|l| l.as_str()))
    .bind(day(e.reached_on))
    .bind(e.document_ref.clone())
    .bind(e.remark.clone())
    .bind(e.corrects.map(|c| c.to_string()))
    .bind(e.retracts)
    .bind(ts(now))
    .bind(actor.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores the folded state of a venue: current stage, and the dates statistics count by.
pub async fn put_status(conn: &mut Conn, firm_id: FirmId, p: &Progress, now: DateTime<Utc>) -> AppResult<()> {
    let reached = |stages: &[ListingStage]| p.history.iter().find(|s| stages.contains(&s.stage)).map(|s| s.reached_on);
    let reform_on = reached(&[ListingStage::ShareholdingReform]);
    let listed_on = reached(&[ListingStage::Listed, ListingStage::NeeqListed, ListingStage::RegionalListed]);
    sqlx::query(
        "INSERT INTO listing_status (firm_id, venue, current_stage, current_layer, since, reform_on, listed_on, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (firm_id, venue) DO UPDATE SET \
         current_stage = excluded.current_stage, current_layer = excluded.current_layer, since = excluded.since, \
         reform_on = excluded.reform_on, listed_on = excluded.listed_on, updated_at = excluded.updated_at",
    )
    .bind(firm_id.to_string())
    .bind(p.venue.as_str())
    .bind(p.current.map(|s| s.as_str()))
    .bind(p.current_layer.map(|l| l.as_str()))
    .bind(p.since.map(day))
    .bind(reform_on.map(day))
    .bind(listed_on.map(day))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
