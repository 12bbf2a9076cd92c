//! Roadshow registrations. Writers hold the roadshow's lock (`roadshows::lock`); status changes
//! are conditional on the status the caller read, so a lost race changes nothing.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::ts;
use crate::domain::roadshow::{Registration, RegistrationStatus};
use crate::error::AppResult;

/// The current place on the waitlist is counted, not stored: promotions and cancellations ahead
/// move everyone up without rewriting rows.
const COLUMNS: &str = "g.id, g.roadshow_id, g.fund_id, g.status, g.attendee_name, g.attendee_email, g.party_size, \
    g.checkin_token, g.checked_in_at, g.confirmed_at, g.cancelled_at, g.cancel_reason, g.created_at, g.updated_at, \
    CASE WHEN g.status = 'waitlisted' THEN (SELECT COUNT(*) FROM roadshow_registrations w \
        WHERE w.roadshow_id = g.roadshow_id AND w.status = 'waitlisted' AND w.waitlist_seq <= g.waitlist_seq) \
    END AS waitlist_position";

fn from_row(r: &AnyRow) -> Result<Registration, sqlx::Error> {
    Ok(Registration {
        id: r.uuid("id")?,
        roadshow_id: r.uuid("roadshow_id")?,
        fund_id: r.uuid("fund_id")?,
        status: r.vocab("status")?,
        waitlist_position: r.opt_int("waitlist_position")?,
        attendee_name: r.text("attendee_name")?,
        attendee_email: r.text("attendee_email")?,
        party_size: r.int("party_size")?,
        checkin_token: r.text("checkin_token")?,
        checked_in_at: r.opt_ts("checked_in_at")?,
        confirmed_at: r.opt_ts("confirmed_at")?,
        cancelled_at: r.opt_ts("cancelled_at")?,
        cancel_reason: r.opt_text("cancel_reason")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub struct NewRegistration<'a> {
    pub id: Uuid,
    pub roadshow_id: Uuid,
    pub fund_id: Uuid,
    pub status: RegistrationStatus,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
    pub email_key: &'a str,
    pub party_size: i64,
    pub waitlist_seq: Option<i64>,
    pub checkin_token: &'a str,
    /// SEQUENCE of the calendar object about to be mailed with the creation (confirmed: 0).
    pub ics_sequence: Option<i64>,
    pub created_by_key: Uuid,
}

/// Inserts unless the e-mail already has an active registration for the roadshow (the partial
/// unique index decides; `ON CONFLICT DO NOTHING` keeps a PostgreSQL transaction usable).
pub async fn insert(conn: &mut Conn, n: &NewRegistration<'_>, now: DateTime<Utc>) -> AppResult<bool> {
    let confirmed_at = (n.status == RegistrationStatus::Confirmed).then(|| ts(now));
    let r = sqlx::query(
        "INSERT INTO roadshow_registrations (id, roadshow_id, fund_id, status, attendee_name, attendee_email, email_key, \
         party_size, waitlist_seq, checkin_token, ics_sequence, confirmed_at, created_by_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) ON CONFLICT DO NOTHING",
    )
    .bind(n.id.to_string())
    .bind(n.roadshow_id.to_string())
    .bind(n.fund_id.to_string())
    .bind(n.status.as_str())
    .bind(n.attendee_name)
    .bind(n.attendee_email)
    .bind(n.email_key)
    .bind(n.party_size)
    .bind(n.waitlist_seq)
    .bind(n.checkin_token)
    .bind(n.ics_sequence)
    .bind(confirmed_at)
    .bind(n.created_by_key.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<Registration>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM roadshow_registrations g WHERE g.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn find_active_by_email(
    conn: &mut Conn,
    roadshow_id: Uuid,
    email_key: &str,
) -> AppResult<Option<Registration>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM roadshow_registrations g WHERE g.roadshow_id = $1 AND g.email_key = $2 \
         AND g.status IN ('pending_approval', 'confirmed', 'waitlisted')"
    ))
    .bind(roadshow_id.to_string())
    .bind(email_key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn find_by_token(conn: &mut Conn, roadshow_id: Uuid, token: &str) -> AppResult<Option<Registration>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM roadshow_registrations g WHERE g.roadshow_id = $1 AND g.checkin_token = $2"
    ))
    .bind(roadshow_id.to_string())
    .bind(token)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

#[derive(Debug, Clone, Default)]
pub struct RegistrationFilter {
    pub fund_id: Option<Uuid>,
    pub status: Option<RegistrationStatus>,
}

pub async fn list(
    conn: &mut Conn,
    roadshow_id: Uuid,
    filter: &RegistrationFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Registration>> {
    let mut f = Filter::default();
    f.and("g.roadshow_id = {}", Bind::Text(roadshow_id.to_string()));
    if let Some(fund) = filter.fund_id {
        f.and("g.fund_id = {}", Bind::Text(fund.to_string()));
    }
    if let Some(s) = filter.status {
        f.and("g.status = {}", Bind::Text(s.as_str().into()));
    }
    if let Some(a) = after {
        f.and("g.id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM roadshow_registrations g{} ORDER BY g.id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A fund's registrations across roadshows, newest first.
pub async fn of_fund(conn: &mut Conn, fund_id: Uuid, limit: u32) -> AppResult<Vec<Registration>> {
    let sql =
        format!("SELECT {COLUMNS} FROM roadshow_registrations g WHERE g.fund_id = $1 ORDER BY g.id DESC LIMIT {limit}");
    let rows = sqlx::query(&sql).bind(fund_id.to_string()).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Registrations of a roadshow in these statuses (for change and cancellation mails).
pub async fn with_status(
    conn: &mut Conn,
    roadshow_id: Uuid,
    statuses: &[RegistrationStatus],
) -> AppResult<Vec<Registration>> {
    let mut f = Filter::default();
    f.and("g.roadshow_id = {}", Bind::Text(roadshow_id.to_string()));
    let ps: Vec<String> = statuses.iter().map(|s| f.bind(Bind::Text(s.as_str().into()))).collect();
    f.and_raw(&format!("g.status IN ({})", ps.join(", ")));
    let sql = format!("SELECT {COLUMNS} FROM roadshow_registrations g{} ORDER BY g.id", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The current place of the waitlisted registration with order key `seq`.
pub async fn waitlist_position(conn: &mut Conn, roadshow_id: Uuid, seq: i64) -> AppResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM roadshow_registrations WHERE roadshow_id = $1 AND status = 'waitlisted' \
         AND waitlist_seq <= $2",
    )
    .bind(roadshow_id.to_string())
    .bind(seq)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.int("n")?)
}

/// The waitlist in order: (id, party size).
pub async fn waitlist(conn: &mut Conn, roadshow_id: Uuid) -> AppResult<Vec<(Uuid, i64)>> {
    let rows = sqlx::query(
        "SELECT id, party_size FROM roadshow_registrations WHERE roadshow_id = $1 AND status = 'waitlisted' \
         ORDER BY waitlist_seq",
    )
    .bind(roadshow_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.uuid("id")?, r.int("party_size")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Moves a registration from `from` to `to`; `false` if it was no longer in `from`.
/// `waitlist_seq` is set for `waitlisted` and cleared otherwise, as the table's CHECK requires.
pub async fn transition(
    conn: &mut Conn,
    id: Uuid,
    from: RegistrationStatus,
    to: RegistrationStatus,
    waitlist_seq: Option<i64>,
    cancel_reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let now_s = ts(now);
    let confirmed_at = (to == RegistrationStatus::Confirmed).then(|| now_s.clone());
    let cancelled_at =
        matches!(to, RegistrationStatus::Cancelled | RegistrationStatus::Rejected).then(|| now_s.clone());
    let r = sqlx::query(
        "UPDATE roadshow_registrations SET status = $3, waitlist_seq = $4, confirmed_at = COALESCE($5, confirmed_at), \
         cancelled_at = $6, cancel_reason = $7, updated_at = $8 WHERE id = $1 AND status = $2",
    )
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(waitlist_seq)
    .bind(confirmed_at)
    .bind(cancelled_at)
    .bind(cancel_reason)
    .bind(now_s)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Raises the registration's calendar SEQUENCE and returns it (0 for the first calendar object).
pub async fn next_ics_sequence(conn: &mut Conn, id: Uuid) -> AppResult<u32> {
    let row = sqlx::query(
        "UPDATE roadshow_registrations SET ics_sequence = COALESCE(ics_sequence + 1, 0) WHERE id = $1 RETURNING ics_sequence",
    )
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(row.int("ics_sequence")?).unwrap_or(0))
}

/// Marks a confirmed registration checked in. `Some(first)`: `true` the first time, `false` when
/// it was already checked in; `None` when it is not confirmed.
pub async fn check_in(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> AppResult<Option<bool>> {
    let r = sqlx::query(
        "UPDATE roadshow_registrations SET checked_in_at = $2, updated_at = $2 \
         WHERE id = $1 AND status = 'confirmed' AND checked_in_at IS NULL",
    )
    .bind(id.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 1 {
        return Ok(Some(true));
    }
    let reg = get(conn, id).await?;
    Ok(reg.filter(|g| g.status == RegistrationStatus::Confirmed && g.checked_in_at.is_some()).map(|_| false))
}

pub async fn log_checkin(
    conn: &mut Conn,
    roadshow_id: Uuid,
    registration_id: Option<Uuid>,
    outcome: &str,
    actor_key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO roadshow_checkins (id, roadshow_id, registration_id, outcome, actor_key_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(roadshow_id.to_string())
    .bind(registration_id.map(|r| r.to_string()))
    .bind(outcome)
    .bind(actor_key_id.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Per status: (registrations, seats); and how many registrations checked in.
pub async fn counts(conn: &mut Conn, roadshow_id: Uuid) -> AppResult<(Vec<(RegistrationStatus, i64, i64)>, i64)> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n, CAST(SUM(party_size) AS BIGINT) AS seats FROM roadshow_registrations \
         WHERE roadshow_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(roadshow_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let by_status = rows
        .iter()
        .map(|r| Ok((r.vocab("status")?, r.int("n")?, r.int("seats")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let checked_in = sqlx::query(
        "SELECT COUNT(*) AS n FROM roadshow_registrations WHERE roadshow_id = $1 AND checked_in_at IS NOT NULL",
    )
    .bind(roadshow_id.to_string())
    .fetch_one(&mut *conn)
    .await?
    .int("n")?;
    Ok((by_status, checked_in))
}
