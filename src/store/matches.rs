//! Materialised matches, their change sequence, the re-evaluation queue and recheck dates.
//! The engine driver that uses these is `service::matching`; the read side for the API is
//! `store::match_reads`.
//!
//! Lock order (PostgreSQL), which every writer follows so that none can deadlock:
//! queue row(s) → matching advisory lock → `match_clock` row → `matches` rows → events → rechecks.
//! Writers that hold the exclusive advisory lock never wait for a queue row (they delete queue rows
//! with `SKIP LOCKED`), because an API transaction may hold its firm's queue row while it waits
//! for the shared advisory lock.
//!
//! The change sequence, the advisory lock and the watermarks are in `ordering.rs`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{RowExt, list_placeholders, values_placeholders};
use crate::db::types::{day, ts};
use crate::domain::events::EventKind;
use crate::domain::firm::{City, FinancialYear, Tier, Venue};
use crate::domain::ids::{BankId, FirmId};
use crate::domain::matching::MatchFirm;
use crate::error::AppResult;

mod ordering;
pub use ordering::{high_water, lock_exclusive, lock_shared, lock_state, next_seq, put_state, read_state};

/// Which firms a batch covers.
#[derive(Debug, Clone)]
pub enum FirmSel {
    Ids(Vec<Uuid>),
    /// Inclusive id range (rematch and product jobs walk firms in id order).
    Range(Uuid, Uuid),
}

impl FirmSel {
    fn clause(&self, col: &str, start: usize) -> (String, Vec<String>) {
        match self {
            FirmSel::Ids(ids) => (
                format!("{col} IN ({})", list_placeholders(ids.len().max(1), start)),
                if ids.is_empty() { vec![String::new()] } else { ids.iter().map(Uuid::to_string).collect() },
            ),
            FirmSel::Range(a, b) => {
                (format!("{col} >= ${start} AND {col} <= ${}", start + 1), vec![a.to_string(), b.to_string()])
            }
        }
    }
}

/// Up to `limit` firm ids after `after`, in id order.
pub async fn firm_ids_after(conn: &mut Conn, after: Option<Uuid>, limit: u32) -> AppResult<Vec<Uuid>> {
    let sql = format!("SELECT id FROM firms WHERE id > $1 ORDER BY id LIMIT {limit}");
    let rows = sqlx::query(&sql).bind(after.map(|a| a.to_string()).unwrap_or_default()).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| r.uuid("id")).collect::<Result<_, _>>()?)
}

/// How many firms there are, and how many of them sort at or before `upto` (a rematch's progress).
pub async fn firms_counted(conn: &mut Conn, upto: Option<Uuid>) -> AppResult<(u64, u64)> {
    let row = sqlx::query("SELECT COUNT(*) AS total, COUNT(CASE WHEN id <= $1 THEN 1 END) AS done FROM firms")
        .bind(upto.map(|u| u.to_string()).unwrap_or_default())
        .fetch_one(&mut *conn)
        .await?;
    let count = |name| row.int(name).map(|n| u64::try_from(n).unwrap_or(0));
    Ok((count("total")?, count("done")?))
}

/// What the engine needs of each selected firm (its latest fiscal year; its reserve-pool venue).
pub async fn load_firms(conn: &mut Conn, sel: &FirmSel) -> AppResult<Vec<MatchFirm>> {
    if matches!(sel, FirmSel::Ids(ids) if ids.is_empty()) {
        return Ok(Vec::new());
    }
    let mut out: Vec<MatchFirm> = Vec::new();
    let chunks: Vec<FirmSel> = match sel {
        FirmSel::Ids(ids) => ids.chunks(1000).map(|c| FirmSel::Ids(c.to_vec())).collect(),
        r => vec![r.clone()],
    };
    for sel in chunks {
        let (clause, binds) = sel.clause("f.id", 1);
        let sql = format!(
            "SELECT f.id, f.city, f.industry_code, f.tier, f.founded_on, f.tax_credit_grade, f.lead_bank_id, \
             f.in_reserve_pool, rp.target_venue FROM firms f LEFT JOIN reserve_pool rp ON rp.firm_id = f.id \
             WHERE {clause} ORDER BY f.id"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let start = out.len();
        for r in &rows {
            let venue: Option<Venue> = r.opt_vocab("target_venue")?;
            out.push(MatchFirm {
                id: r.id("id")?,
                city: r.vocab::<City>("city")?,
                industry_code: r.text("industry_code")?,
                tier: r.opt_vocab::<Tier>("tier")?,
                founded_on: r.opt_day("founded_on")?,
                tax_credit_grade: r.opt_vocab("tax_credit_grade")?,
                lead_bank_id: r.opt_id("lead_bank_id")?,
                in_reserve_pool: r.flag("in_reserve_pool")?,
                target_venues: venue.into_iter().collect(),
                fiscal_year: None,
                revenue: None,
                rd_expense: None,
                invention_patents: None,
            });
        }
        // The newest fiscal year of each firm, even if some of its figures are missing.
        let (clause, binds) = sel.clause("firm_id", 1);
        let sql = format!(
            "SELECT firm_id, fiscal_year, revenue, rd_expense, invention_patents FROM financials WHERE {clause}"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let mut latest: HashMap<FirmId, LatestYear> = HashMap::new();
        for r in q.fetch_all(&mut *conn).await? {
            let year = r.int("fiscal_year")?;
            let entry = (year, r.opt_int("revenue")?, r.opt_int("rd_expense")?, r.opt_int("invention_patents")?);
            let id = r.id("firm_id")?;
            match latest.get(&id) {
                Some(e) if e.0 >= year => {}
                _ => {
                    latest.insert(id, entry);
                }
            }
        }
        for f in &mut out[start..] {
            if let Some((year, revenue, rd, patents)) = latest.get(&f.id) {
                f.fiscal_year = Some(*year as i32);
                f.revenue = revenue.map(crate::db::types::yuan);
                f.rd_expense = rd.map(crate::db::types::yuan);
                f.invention_patents = *patents;
            }
        }
    }
    Ok(out)
}

/// (fiscal year, revenue fen, R&D fen, invention patents) of a firm's newest year.
type LatestYear = (i64, Option<i64>, Option<i64>, Option<i64>);

/// A stored match as the materialiser compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub bank_id: BankId,
    pub active: bool,
    pub score: u8,
    pub fingerprint: i64,
    pub version: i64,
}

/// Stored matches of the selected firms (optionally of one product), keyed by (firm, product).
pub async fn load_existing(
    conn: &mut Conn,
    sel: &FirmSel,
    product: Option<Uuid>,
) -> AppResult<HashMap<(FirmId, Uuid), Existing>> {
    let mut out = HashMap::new();
    let chunks: Vec<FirmSel> = match sel {
        FirmSel::Ids(ids) if ids.is_empty() => return Ok(out),
        FirmSel::Ids(ids) => ids.chunks(1000).map(|c| FirmSel::Ids(c.to_vec())).collect(),
        r => vec![r.clone()],
    };
    for sel in chunks {
        let (clause, binds) = sel.clause("firm_id", 1);
        let product_clause =
            if product.is_some() { format!(" AND product_id = ${}", binds.len() + 1) } else { String::new() };
        let sql = format!(
            "SELECT firm_id, product_id, bank_id, status, score, fingerprint, version FROM matches WHERE {clause}{product_clause}"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        if let Some(p) = product {
            q = q.bind(p.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(
                (r.id("firm_id")?, r.uuid("product_id")?),
                Existing {
                    bank_id: r.id("bank_id")?,
                    active: r.text("status")? == "active",
                    score: u8::try_from(r.int("score")?).unwrap_or(0),
                    fingerprint: r.int("fingerprint")?,
                    version: r.int("version")?,
                },
            );
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Withdrawn,
}

impl ChangeKind {
    pub fn event_kind(self) -> EventKind {
        match self {
            ChangeKind::Created => EventKind::MatchCreated,
            ChangeKind::Updated => EventKind::MatchUpdated,
            ChangeKind::Withdrawn => EventKind::MatchWithdrawn,
        }
    }
}

/// One pair to write.
#[derive(Debug, Clone)]
pub struct MatchWrite {
    pub firm_id: FirmId,
    pub product_id: Uuid,
    pub bank_id: BankId,
    pub kind: ChangeKind,
    pub score: u8,
    pub previous_score: Option<u8>,
    pub met_bits: u16,
    pub unmet_bits: u16,
    pub fingerprint: i64,
    pub version: i64,
}

/// The deterministic fact key of a match version (the event id derives from it).
pub fn fact_key(firm_id: FirmId, product_id: Uuid, version: i64) -> String {
    format!("match:{firm_id}:{product_id}:v{version}")
}

/// Pairs per statement: each travels as one JSON object (about 250 bytes), so a statement carries a
/// few megabytes at most.
const WRITE_CHUNK: usize = 10_000;

/// One pair as the upsert reads it from its JSON parameter.
#[derive(serde::Serialize)]
struct PairRow<'a> {
    firm_id: &'a FirmId,
    product_id: &'a Uuid,
    bank_id: &'a BankId,
    status: &'static str,
    score: u8,
    met_bits: u16,
    unmet_bits: u16,
    fingerprint: i64,
    version: i64,
}

/// Writes changed pairs and gives them one `seq`, which it returns (`None` when there was nothing
/// to write). The caller records their events. Each chunk is one upsert whose rows arrive as a
/// single JSON parameter: a round trip per chunk, no per-value binds.
pub async fn write(conn: &mut Conn, writes: &[MatchWrite], now: DateTime<Utc>) -> AppResult<Option<i64>> {
    if writes.is_empty() {
        return Ok(None);
    }
    let seq = next_seq(conn).await?;
    let rows = Dialect::of(conn).json_rows(
        1,
        "x",
        &[
            ("firm_id", "text"),
            ("product_id", "text"),
            ("bank_id", "text"),
            ("status", "text"),
            ("score", "integer"),
            ("met_bits", "integer"),
            ("unmet_bits", "integer"),
            ("fingerprint", "bigint"),
            ("version", "bigint"),
        ],
    );
    // `WHERE true`: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
    let sql = format!(
        "INSERT INTO matches (firm_id, product_id, bank_id, status, score, met_bits, unmet_bits, fingerprint, \
         version, seq, created_at, updated_at) \
         SELECT x.firm_id, x.product_id, x.bank_id, x.status, x.score, x.met_bits, x.unmet_bits, x.fingerprint, \
         x.version, $2, $3, $3 FROM {rows} WHERE true \
         ON CONFLICT (firm_id, product_id) DO UPDATE SET \
         status = excluded.status, score = excluded.score, met_bits = excluded.met_bits, \
         unmet_bits = excluded.unmet_bits, fingerprint = excluded.fingerprint, version = excluded.version, \
         seq = excluded.seq, updated_at = excluded.updated_at"
    );
    let now_s = ts(now);
    for chunk in writes.chunks(WRITE_CHUNK) {
        let rows: Vec<PairRow> = chunk
            .iter()
            .map(|w| PairRow {
                firm_id: &w.firm_id,
                product_id: &w.product_id,
                bank_id: &w.bank_id,
                status: if w.kind == ChangeKind::Withdrawn { "withdrawn" } else { "active" },
                score: w.score,
                met_bits: w.met_bits,
                unmet_bits: w.unmet_bits,
                fingerprint: w.fingerprint,
                version: w.version,
            })
            .collect();
        let json = serde_json::to_string(&rows).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        sqlx::query(&sql).bind(json).bind(seq).bind(now_s.clone()).execute(&mut *conn).await?;
    }
    Ok(Some(seq))
}

/// The banks whose products the firm has active matches with.
pub async fn active_banks(conn: &mut Conn, firm_id: FirmId) -> AppResult<Vec<BankId>> {
    let rows =
        sqlx::query("SELECT DISTINCT bank_id FROM matches WHERE firm_id = $1 AND status = 'active' ORDER BY bank_id")
            .bind(firm_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.iter().map(|r| r.id("bank_id")).collect::<Result<_, _>>()?)
}

/// A pair whose visibility to its bank changed, as [`touch`] leaves it.
#[derive(Debug, Clone)]
pub struct Touched {
    pub product_id: Uuid,
    pub bank_id: BankId,
    pub active: bool,
    pub score: u8,
    pub version: i64,
}

/// Gives a firm's matches with these banks the change sequence number `seq` (taken by the
/// caller with [`next_seq`]) without changing them: a consent grant, revocation or expiry
/// changed what those banks may see, and incremental sync must report it.
pub async fn touch(
    conn: &mut Conn,
    firm_id: FirmId,
    banks: &[BankId],
    seq: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Touched>> {
    if banks.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE matches SET seq = $1, updated_at = $2 WHERE firm_id = $3 AND bank_id IN ({}) \
         RETURNING product_id, bank_id, status, score, version",
        list_placeholders(banks.len(), 4)
    );
    let mut q = sqlx::query(&sql).bind(seq).bind(ts(now)).bind(firm_id.to_string());
    for b in banks {
        q = q.bind(b.to_string());
    }
    let mut out: Vec<Touched> = q
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Touched {
                product_id: r.uuid("product_id")?,
                bank_id: r.id("bank_id")?,
                active: r.text("status")? == "active",
                score: u8::try_from(r.int("score")?).unwrap_or(0),
                version: r.int("version")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    out.sort_by_key(|t| t.product_id);
    Ok(out)
}

// ---------------------------------------------------------------- queue

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Firm,
    Product,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Firm => "firm",
            Subject::Product => "product",
        }
    }
}

/// Queues a firm or product for re-evaluation (or bumps its generation if already queued).
pub async fn enqueue(conn: &mut Conn, kind: Subject, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    enqueue_many(conn, kind, &[id], now).await
}

pub async fn enqueue_many(conn: &mut Conn, kind: Subject, ids: &[Uuid], now: DateTime<Utc>) -> AppResult<()> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "INSERT INTO match_queue (kind, subject_id, gen, enqueued_at) VALUES {} \
             ON CONFLICT (kind, subject_id) DO UPDATE SET gen = match_queue.gen + 1",
            values_placeholders(chunk.len(), 4, 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(kind.as_str()).bind(id.to_string()).bind(1i64).bind(ts(now));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Claims up to `limit` queued firms, oldest first; on PostgreSQL rows another worker holds are
/// skipped and the claimed ones stay locked until the caller's transaction ends.
pub async fn claim_firms(conn: &mut Conn, dialect: Dialect, limit: u32) -> AppResult<Vec<(Uuid, i64)>> {
    let sql = format!(
        "SELECT subject_id, gen FROM match_queue WHERE kind = 'firm' ORDER BY enqueued_at, subject_id LIMIT {limit}{}",
        dialect.skip_locked()
    );
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| Ok((r.uuid("subject_id")?, r.int("gen")?))).collect::<Result<_, sqlx::Error>>()?)
}

#[derive(Debug, Clone)]
pub struct ProductJob {
    pub product_id: Uuid,
    pub generation: i64,
    /// Where to resume: the last firm done under this generation.
    pub after: Option<Uuid>,
}

pub async fn claim_product(conn: &mut Conn, dialect: Dialect) -> AppResult<Option<ProductJob>> {
    let sql = format!(
        "SELECT subject_id, gen, progress_gen, progress_after FROM match_queue WHERE kind = 'product' \
         ORDER BY enqueued_at, subject_id LIMIT 1{}",
        dialect.skip_locked()
    );
    let Some(r) = sqlx::query(&sql).fetch_optional(&mut *conn).await? else { return Ok(None) };
    let generation = r.int("gen")?;
    let after = if r.opt_int("progress_gen")? == Some(generation) { r.opt_uuid("progress_after")? } else { None };
    Ok(Some(ProductJob { product_id: r.uuid("subject_id")?, generation, after }))
}

pub async fn product_progress(conn: &mut Conn, job: &ProductJob, last: Uuid) -> AppResult<()> {
    sqlx::query("UPDATE match_queue SET progress_gen = $3, progress_after = $4 WHERE kind = $1 AND subject_id = $2")
        .bind(Subject::Product.as_str())
        .bind(job.product_id.to_string())
        .bind(job.generation)
        .bind(last.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes queue rows whose generation is still the one the job read; a row re-queued in the
/// meantime stays. With `skip_locked`, rows another transaction holds are left alone too.
pub async fn finish(
    conn: &mut Conn,
    dialect: Dialect,
    kind: Subject,
    done: &[(Uuid, i64)],
    skip_locked: bool,
) -> AppResult<()> {
    for chunk in done.chunks(400) {
        let pairs = values_placeholders(chunk.len(), 2, 2);
        let sql = if skip_locked && dialect == Dialect::Postgres {
            format!(
                "DELETE FROM match_queue WHERE kind = $1 AND subject_id IN (SELECT subject_id FROM match_queue \
                 WHERE kind = $1 AND (subject_id, gen) IN (VALUES {pairs}) FOR UPDATE SKIP LOCKED)"
            )
        } else {
            format!("DELETE FROM match_queue WHERE kind = $1 AND (subject_id, gen) IN (VALUES {pairs})")
        };
        let mut q = sqlx::query(&sql).bind(kind.as_str());
        for (id, generation) in chunk {
            q = q.bind(id.to_string()).bind(*generation);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes a firm's queue row whatever its generation (the caller holds it and has just done the work).
pub async fn dequeue_firm(conn: &mut Conn, firm_id: FirmId) -> AppResult<()> {
    sqlx::query("DELETE FROM match_queue WHERE kind = 'firm' AND subject_id = $1")
        .bind(firm_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Generations of queued subjects, optionally only firms within an id range.
pub async fn queued(conn: &mut Conn, kind: Subject, range: Option<(Uuid, Uuid)>) -> AppResult<Vec<(Uuid, i64)>> {
    let rows = match range {
        Some((a, b)) => {
            sqlx::query(
                "SELECT subject_id, gen FROM match_queue WHERE kind = $1 AND subject_id >= $2 AND subject_id <= $3",
            )
            .bind(kind.as_str())
            .bind(a.to_string())
            .bind(b.to_string())
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query("SELECT subject_id, gen FROM match_queue WHERE kind = $1")
                .bind(kind.as_str())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    Ok(rows.iter().map(|r| Ok((r.uuid("subject_id")?, r.int("gen")?))).collect::<Result<_, sqlx::Error>>()?)
}

pub async fn queue_len(conn: &mut Conn) -> AppResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM match_queue").fetch_one(&mut *conn).await?.int("n")?)
}

// ---------------------------------------------------------------- rechecks

/// Sets (or clears) each firm's next recheck date exactly.
pub async fn set_firm_rechecks(conn: &mut Conn, due: &[(FirmId, Option<NaiveDate>)]) -> AppResult<()> {
    let set: Vec<(Uuid, NaiveDate)> = due.iter().filter_map(|(id, d)| d.map(|d| (id.uuid(), d))).collect();
    let clear: Vec<Uuid> = due.iter().filter(|(_, d)| d.is_none()).map(|(id, _)| id.uuid()).collect();
    upsert_rechecks(conn, Subject::Firm, &set, false).await?;
    for chunk in clear.chunks(500) {
        let sql = format!(
            "DELETE FROM match_rechecks WHERE kind = 'firm' AND subject_id IN ({})",
            list_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Upserts recheck dates; with `keep_earlier` an existing earlier date wins (a partial
/// evaluation, one product, cannot know the firm's other dates).
pub async fn upsert_rechecks(
    conn: &mut Conn,
    kind: Subject,
    due: &[(Uuid, NaiveDate)],
    keep_earlier: bool,
) -> AppResult<()> {
    let set = if keep_earlier {
        "due_on = CASE WHEN excluded.due_on < match_rechecks.due_on THEN excluded.due_on ELSE match_rechecks.due_on END"
    } else {
        "due_on = excluded.due_on"
    };
    for chunk in due.chunks(500) {
        let sql = format!(
            "INSERT INTO match_rechecks (kind, subject_id, due_on) VALUES {} ON CONFLICT (kind, subject_id) DO UPDATE SET {set}",
            values_placeholders(chunk.len(), 3, 1)
        );
        let mut q = sqlx::query(&sql);
        for (id, d) in chunk {
            q = q.bind(kind.as_str()).bind(id.to_string()).bind(day(*d));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn clear_recheck(conn: &mut Conn, kind: Subject, id: Uuid) -> AppResult<()> {
    sqlx::query("DELETE FROM match_rechecks WHERE kind = $1 AND subject_id = $2")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Subjects whose recheck date has come.
pub async fn due_rechecks(conn: &mut Conn, today: NaiveDate, limit: u32) -> AppResult<Vec<(Subject, Uuid)>> {
    let sql = format!(
        "SELECT kind, subject_id FROM match_rechecks WHERE due_on <= $1 ORDER BY due_on, kind, subject_id LIMIT {limit}"
    );
    let rows = sqlx::query(&sql).bind(day(today)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let kind = if r.text("kind")? == "product" { Subject::Product } else { Subject::Firm };
            Ok((kind, r.uuid("subject_id")?))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Deletes the given recheck rows if they are still due (a job may have moved them meanwhile).
pub async fn clear_due(conn: &mut Conn, today: NaiveDate, subjects: &[(Subject, Uuid)]) -> AppResult<()> {
    for chunk in subjects.chunks(400) {
        let sql = format!(
            "DELETE FROM match_rechecks WHERE due_on <= $1 AND (kind, subject_id) IN (VALUES {})",
            values_placeholders(chunk.len(), 2, 2)
        );
        let mut q = sqlx::query(&sql).bind(day(today));
        for (k, id) in chunk {
            q = q.bind(k.as_str()).bind(id.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The newest fiscal year among `years` (any order).
pub fn latest(years: Vec<FinancialYear>) -> Option<FinancialYear> {
    years.into_iter().max_by_key(|y| y.fiscal_year)
}
