//! Roadshows, their seat counter and waitlist counter, presenters, and firms' investor visibility.
//!
//! Concurrency: every transaction that changes a roadshow's registrations first calls [`lock`],
//! a no-op `UPDATE` of the roadshow row. On PostgreSQL that takes the row lock until commit, so
//! such transactions of one roadshow run one after the other; on SQLite `Db::begin` already took
//! the database write lock. Seats are taken only by [`take_seats`], a conditional `UPDATE` whose
//! `WHERE seats_taken + n <= capacity` (and the table's CHECK) make overselling impossible even
//! for a caller that forgot to lock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::{Bind, Filter, RowExt, list_placeholders};
use crate::db::types::ts;
use crate::domain::ids::FirmId;
use crate::domain::roadshow::{
    Candidate, Centre, InvestorVisibility, Presenter, Roadshow, RoadshowFields, RoadshowStatus,
};
use crate::error::AppResult;

const COLUMNS: &str = "r.id, r.title, r.centre, r.venue, r.starts_at, r.ends_at, r.registration_opens_at, \
    r.registration_closes_at, r.cancellation_deadline, r.capacity, r.seats_taken, r.requires_approval, r.status, \
    r.sequence, r.cancel_reason, r.created_at, r.updated_at";

fn from_row(r: &AnyRow, industry_focus: Vec<String>) -> Result<Roadshow, sqlx::Error> {
    let capacity = r.int("capacity")?;
    let seats_taken = r.int("seats_taken")?;
    Ok(Roadshow {
        id: r.uuid("id")?,
        title: r.text("title")?,
        centre: r.vocab("centre")?,
        venue: r.opt_text("venue")?,
        starts_at: r.ts("starts_at")?,
        ends_at: r.ts("ends_at")?,
        registration_opens_at: r.ts("registration_opens_at")?,
        registration_closes_at: r.ts("registration_closes_at")?,
        cancellation_deadline: r.ts("cancellation_deadline")?,
        capacity,
        seats_taken,
        seats_left: capacity - seats_taken,
        industry_focus,
        requires_approval: r.flag("requires_approval")?,
        status: r.vocab("status")?,
        sequence: r.int("sequence")?,
        cancel_reason: r.opt_text("cancel_reason")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

async fn industries(conn: &mut Conn, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<String>>> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT roadshow_id, prefix FROM roadshow_industries WHERE roadshow_id IN ({}) ORDER BY roadshow_id, prefix",
        list_placeholders(ids.len(), 1)
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.to_string());
    }
    for r in q.fetch_all(&mut *conn).await? {
        out.entry(r.uuid("roadshow_id")?).or_default().push(r.text("prefix")?);
    }
    Ok(out)
}

async fn set_industries(conn: &mut Conn, id: Uuid, focus: &[String]) -> AppResult<()> {
    sqlx::query("DELETE FROM roadshow_industries WHERE roadshow_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    for p in focus {
        sqlx::query("INSERT INTO roadshow_industries (roadshow_id, prefix) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(p)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert(
    conn: &mut Conn,
    f: &RoadshowFields,
    status: RoadshowStatus,
    now: DateTime<Utc>,
) -> AppResult<Roadshow> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO roadshows (id, title, centre, venue, starts_at, ends_at, registration_opens_at, \
         registration_closes_at, cancellation_deadline, capacity, requires_approval, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id.to_string())
    .bind(&f.title)
    .bind(f.centre.as_str())
    .bind(f.venue.clone())
    .bind(ts(f.starts_at))
    .bind(ts(f.ends_at))
    .bind(ts(f.registration_opens_at))
    .bind(ts(f.registration_closes_at))
    .bind(ts(f.cancellation_deadline))
    .bind(f.capacity)
    .bind(f.requires_approval)
    .bind(status.as_str())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    set_industries(conn, id, &f.industry_focus).await?;
    get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("inserted roadshow {id} not found").into())
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<Roadshow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM roadshows r WHERE r.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let focus = industries(conn, &[id]).await?.remove(&id).unwrap_or_default();
    Ok(Some(from_row(&row, focus)?))
}

/// Takes the roadshow's row lock for the rest of the transaction (see the module comment) and
/// reads the roadshow as it is under that lock, in one statement. `with_focus: false` leaves
/// `industry_focus` empty and saves a query (registration does not need it).
pub async fn lock(conn: &mut Conn, id: Uuid, with_focus: bool) -> AppResult<Option<Roadshow>> {
    let columns = COLUMNS.replace("r.", "");
    let row = sqlx::query(&format!("UPDATE roadshows SET seats_taken = seats_taken WHERE id = $1 RETURNING {columns}"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let focus = if with_focus { industries(conn, &[id]).await?.remove(&id).unwrap_or_default() } else { Vec::new() };
    Ok(Some(from_row(&row, focus)?))
}

/// How [`admit`] decided a new registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    Confirmed,
    /// On the waitlist, with this order key (`waitlist_seq`).
    Waitlisted(i64),
    PendingApproval,
}

/// Decides a new registration of `party_size` seats in one statement, which also takes the
/// roadshow's row lock for the rest of the transaction: a seat if enough are left, else the next
/// waitlist place; an approval roadshow takes neither yet. Both counters are changed by the same
/// conditional `UPDATE`, evaluated against the row as it is under the lock, so capacity holds
/// exactly and waitlist places come in lock order. `None` when the roadshow does not exist or is
/// not open for registration at `now` (nothing is changed then).
pub async fn admit(
    conn: &mut Conn,
    id: Uuid,
    party_size: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<(Roadshow, Admitted)>> {
    let columns = COLUMNS.replace("r.", "");
    let row = sqlx::query(&format!(
        "UPDATE roadshows SET \
           last_admission = CASE WHEN requires_approval THEN 'pending_approval' \
             WHEN seats_taken + $2 <= capacity THEN 'confirmed' ELSE 'waitlisted' END, \
           seats_taken = seats_taken + CASE WHEN NOT requires_approval AND seats_taken + $2 <= capacity \
             THEN $2 ELSE 0 END, \
           waitlist_seq = waitlist_seq + CASE WHEN NOT requires_approval AND seats_taken + $2 > capacity \
             THEN 1 ELSE 0 END \
         WHERE id = $1 AND status = 'published' AND registration_opens_at <= $3 AND registration_closes_at > $3 \
         RETURNING {columns}, last_admission, waitlist_seq"
    ))
    .bind(id.to_string())
    .bind(party_size)
    .bind(ts(now))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let admitted = match row.text("last_admission")?.as_str() {
        "confirmed" => Admitted::Confirmed,
        "waitlisted" => Admitted::Waitlisted(row.int("waitlist_seq")?),
        _ => Admitted::PendingApproval,
    };
    Ok(Some((from_row(&row, Vec::new())?, admitted)))
}

/// Takes `n` seats if they are free: the one place where seats are taken. `false`: not enough left.
pub async fn take_seats(conn: &mut Conn, id: Uuid, n: i64) -> AppResult<bool> {
    let r = sqlx::query(
        "UPDATE roadshows SET seats_taken = seats_taken + $2 WHERE id = $1 AND seats_taken + $2 <= capacity",
    )
    .bind(id.to_string())
    .bind(n)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn release_seats(conn: &mut Conn, id: Uuid, n: i64) -> AppResult<()> {
    sqlx::query("UPDATE roadshows SET seats_taken = seats_taken - $2 WHERE id = $1 AND seats_taken >= $2")
        .bind(id.to_string())
        .bind(n)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The next place in the roadshow's waitlist order, from its counter.
pub async fn next_waitlist_seq(conn: &mut Conn, id: Uuid) -> AppResult<i64> {
    let row = sqlx::query("UPDATE roadshows SET waitlist_seq = waitlist_seq + 1 WHERE id = $1 RETURNING waitlist_seq")
        .bind(id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.int("waitlist_seq")?)
}

/// Writes new details. `false` when the new capacity is below the seats already taken (nothing
/// is written then). `bump_sequence` raises the calendar SEQUENCE.
pub async fn update(
    conn: &mut Conn,
    id: Uuid,
    f: &RoadshowFields,
    bump_sequence: bool,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let r = sqlx::query(
        "UPDATE roadshows SET title = $2, centre = $3, venue = $4, starts_at = $5, ends_at = $6, \
         registration_opens_at = $7, registration_closes_at = $8, cancellation_deadline = $9, capacity = $10, \
         requires_approval = $11, sequence = sequence + $12, updated_at = $13 WHERE id = $1 AND seats_taken <= $10",
    )
    .bind(id.to_string())
    .bind(&f.title)
    .bind(f.centre.as_str())
    .bind(f.venue.clone())
    .bind(ts(f.starts_at))
    .bind(ts(f.ends_at))
    .bind(ts(f.registration_opens_at))
    .bind(ts(f.registration_closes_at))
    .bind(ts(f.cancellation_deadline))
    .bind(f.capacity)
    .bind(f.requires_approval)
    .bind(i64::from(bump_sequence))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    set_industries(conn, id, &f.industry_focus).await?;
    Ok(true)
}

pub async fn set_status(
    conn: &mut Conn,
    id: Uuid,
    status: RoadshowStatus,
    cancel_reason: Option<&str>,
    bump_sequence: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE roadshows SET status = $2, cancel_reason = COALESCE($3, cancel_reason), sequence = sequence + $4, \
         updated_at = $5 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(status.as_str())
    .bind(cancel_reason)
    .bind(i64::from(bump_sequence))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the seat counter to zero (every registration of a cancelled roadshow is cancelled).
pub async fn clear_seats(conn: &mut Conn, id: Uuid) -> AppResult<()> {
    sqlx::query("UPDATE roadshows SET seats_taken = 0 WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct RoadshowFilter {
    pub statuses: Vec<RoadshowStatus>,
    pub centre: Option<Centre>,
    /// `starts_at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `starts_at < until`.
    pub until: Option<DateTime<Utc>>,
    /// A GB/T 4754 code or prefix: roadshows whose focus overlaps it (either is a prefix of the
    /// other), and roadshows without a focus.
    pub industry: Option<String>,
}

pub async fn list(
    conn: &mut Conn,
    filter: &RoadshowFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Roadshow>> {
    let mut f = Filter::default();
    if !filter.statuses.is_empty() {
        let ps: Vec<String> = filter.statuses.iter().map(|s| f.bind(Bind::Text(s.as_str().into()))).collect();
        f.and_raw(&format!("r.status IN ({})", ps.join(", ")));
    }
    if let Some(c) = filter.centre {
        f.and("r.centre = {}", Bind::Text(c.as_str().into()));
    }
    if let Some(t) = filter.from {
        f.and("r.starts_at >= {}", Bind::Text(ts(t)));
    }
    if let Some(t) = filter.until {
        f.and("r.starts_at < {}", Bind::Text(ts(t)));
    }
    if let Some(ind) = &filter.industry {
        let like = f.bind(Bind::Text(format!("{ind}%")));
        let code = f.bind(Bind::Text(ind.clone()));
        f.and_raw(&format!(
            "(NOT EXISTS (SELECT 1 FROM roadshow_industries ri WHERE ri.roadshow_id = r.id) \
             OR EXISTS (SELECT 1 FROM roadshow_industries ri WHERE ri.roadshow_id = r.id \
             AND (ri.prefix LIKE {like} OR {code} LIKE (ri.prefix || '%'))))"
        ));
    }
    if let Some(a) = after {
        f.and("r.id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM roadshows r{} ORDER BY r.id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let ids = rows.iter().map(|r| r.uuid("id")).collect::<Result<Vec<_>, _>>()?;
    let mut focus = industries(conn, &ids).await?;
    rows.iter().zip(ids).map(|(r, id)| from_row(r, focus.remove(&id).unwrap_or_default()).map_err(Into::into)).collect()
}

pub async fn count(conn: &mut Conn) -> AppResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM roadshows").fetch_one(&mut *conn).await?.int("n")?)
}

// ---- presenters -------------------------------------------------------------------------------

const PRESENTER_COLUMNS: &str = "p.id, p.roadshow_id, p.firm_id, f.name AS firm_name, f.industry_code, \
    p.slot_starts_at, p.slot_ends_at, p.sequence, p.created_at, p.updated_at";

fn presenter_from_row(r: &AnyRow) -> Result<Presenter, sqlx::Error> {
    Ok(Presenter {
        id: r.uuid("id")?,
        roadshow_id: r.uuid("roadshow_id")?,
        firm_id: r.id("firm_id")?,
        firm_name: r.text("firm_name")?,
        industry_code: r.text("industry_code")?,
        slot_starts_at: r.ts("slot_starts_at")?,
        slot_ends_at: r.ts("slot_ends_at")?,
        sequence: r.int("sequence")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub async fn presenter(conn: &mut Conn, roadshow_id: Uuid, firm_id: FirmId) -> AppResult<Option<Presenter>> {
    let row = sqlx::query(&format!(
        "SELECT {PRESENTER_COLUMNS} FROM roadshow_presenters p JOIN firms f ON f.id = p.firm_id \
         WHERE p.roadshow_id = $1 AND p.firm_id = $2"
    ))
    .bind(roadshow_id.to_string())
    .bind(firm_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(presenter_from_row).transpose()?)
}

/// Presenters of a roadshow in slot order; `firm` restricts to one firm.
pub async fn presenters(conn: &mut Conn, roadshow_id: Uuid, firm: Option<FirmId>) -> AppResult<Vec<Presenter>> {
    let mut f = Filter::default();
    f.and("p.roadshow_id = {}", Bind::Text(roadshow_id.to_string()));
    if let Some(firm) = firm {
        f.and("p.firm_id = {}", Bind::Text(firm.to_string()));
    }
    let sql = format!(
        "SELECT {PRESENTER_COLUMNS} FROM roadshow_presenters p JOIN firms f ON f.id = p.firm_id{} \
         ORDER BY p.slot_starts_at, p.id",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(presenter_from_row).collect::<Result<_, _>>()?)
}

/// Another presenter's slot that overlaps `[start, end)`, if any.
pub async fn overlapping_slot(
    conn: &mut Conn,
    roadshow_id: Uuid,
    firm_id: FirmId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    let row = sqlx::query(
        "SELECT firm_id FROM roadshow_presenters WHERE roadshow_id = $1 AND firm_id <> $2 \
         AND slot_starts_at < $4 AND slot_ends_at > $3 ORDER BY slot_starts_at LIMIT 1",
    )
    .bind(roadshow_id.to_string())
    .bind(firm_id.to_string())
    .bind(ts(start))
    .bind(ts(end))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.id("firm_id")).transpose()?)
}

pub async fn insert_presenter(
    conn: &mut Conn,
    roadshow_id: Uuid,
    firm_id: FirmId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO roadshow_presenters (id, roadshow_id, firm_id, slot_starts_at, slot_ends_at, sequence, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(roadshow_id.to_string())
    .bind(firm_id.to_string())
    .bind(ts(start))
    .bind(ts(end))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves a slot (or only raises its SEQUENCE when the roadshow itself changed).
pub async fn move_presenter(
    conn: &mut Conn,
    roadshow_id: Uuid,
    firm_id: FirmId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE roadshow_presenters SET slot_starts_at = $3, slot_ends_at = $4, sequence = sequence + 1, updated_at = $5 \
         WHERE roadshow_id = $1 AND firm_id = $2",
    )
    .bind(roadshow_id.to_string())
    .bind(firm_id.to_string())
    .bind(ts(start))
    .bind(ts(end))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_presenter(conn: &mut Conn, roadshow_id: Uuid, firm_id: FirmId) -> AppResult<bool> {
    let r = sqlx::query("DELETE FROM roadshow_presenters WHERE roadshow_id = $1 AND firm_id = $2")
        .bind(roadshow_id.to_string())
        .bind(firm_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A firm's slots with the roadshow they belong to, for the firm's own view.
pub async fn slots_of_firm(
    conn: &mut Conn,
    firm_id: FirmId,
    public_only: bool,
) -> AppResult<Vec<(Presenter, Roadshow)>> {
    let mut f = Filter::default();
    f.and("p.firm_id = {}", Bind::Text(firm_id.to_string()));
    if public_only {
        f.and("r.status <> {}", Bind::Text(RoadshowStatus::Draft.as_str().into()));
    }
    let sql = format!(
        "SELECT {PRESENTER_COLUMNS}, r.id AS rid FROM roadshow_presenters p JOIN firms f ON f.id = p.firm_id \
         JOIN roadshows r ON r.id = p.roadshow_id{} ORDER BY p.slot_starts_at, p.id",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let p = presenter_from_row(r)?;
        if let Some(rs) = get(conn, r.uuid("rid")?).await? {
            out.push((p, rs));
        }
    }
    Ok(out)
}

// ---- investor visibility and presenter candidates ---------------------------------------------

pub async fn visibility(conn: &mut Conn, firm_id: FirmId) -> AppResult<InvestorVisibility> {
    let row = sqlx::query("SELECT visible, updated_at FROM firm_investor_visibility WHERE firm_id = $1")
        .bind(firm_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => InvestorVisibility { firm_id, visible: r.flag("visible")?, updated_at: Some(r.ts("updated_at")?) },
        None => InvestorVisibility { firm_id, visible: false, updated_at: None },
    })
}

pub async fn set_visibility(
    conn: &mut Conn,
    firm_id: FirmId,
    visible: bool,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<InvestorVisibility> {
    sqlx::query(
        "INSERT INTO firm_investor_visibility (firm_id, visible, updated_by_key, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (firm_id) DO UPDATE SET visible = excluded.visible, updated_by_key = excluded.updated_by_key, \
         updated_at = excluded.updated_at",
    )
    .bind(firm_id.to_string())
    .bind(visible)
    .bind(key_id.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(InvestorVisibility { firm_id, visible, updated_at: Some(now) })
}

/// Reserve-pool firms that opted in to investor visibility, inside the focus (none = all), and
/// not yet presenting at this roadshow.
pub async fn candidates(conn: &mut Conn, roadshow_id: Uuid, focus: &[String]) -> AppResult<Vec<Candidate>> {
    let mut f = Filter::default();
    f.and("v.visible = {}", Bind::Bool(true));
    if !focus.is_empty() {
        let ors: Vec<String> =
            focus.iter().map(|p| format!("f.industry_code LIKE {}", f.bind(Bind::Text(format!("{p}%"))))).collect();
        f.and_raw(&format!("({})", ors.join(" OR ")));
    }
    let rid = f.bind(Bind::Text(roadshow_id.to_string()));
    f.and_raw(&format!(
        "NOT EXISTS (SELECT 1 FROM roadshow_presenters p WHERE p.roadshow_id = {rid} AND p.firm_id = f.id)"
    ));
    let sql = format!(
        "SELECT f.id, f.name, f.city, f.tier, f.industry_code, rp.target_venue, rp.key_firm \
         FROM reserve_pool rp JOIN firms f ON f.id = rp.firm_id \
         JOIN firm_investor_visibility v ON v.firm_id = f.id{}",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(Candidate {
                firm_id: r.id("id")?,
                name: r.text("name")?,
                city: r.vocab("city")?,
                tier: r.opt_vocab("tier")?,
                industry_code: r.text("industry_code")?,
                target_venue: r.vocab("target_venue")?,
                key_firm: r.flag("key_firm")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
