//! Keeps the materialised matches current. The pure engine is `domain::matching`; this module
//! decides *which* pairs to evaluate and writes what changed.
//!
//! # How changes reach the matches
//!
//! - **Firm-side changes** (profile, financials, tier, reserve pool, lead bank, bulk imports, and
//!   any future firm fact) write an outbox event in their transaction; a database trigger on
//!   `events` queues the firm in `match_queue` in that same transaction (migration 0004). Single-firm
//!   API changes also call [`refresh_firm`] before committing, so the enterprise and the banks see
//!   the new matches the moment the request returns; bulk imports leave the work to the queue.
//! - **Product changes** queue the product; a product job walks every firm in id order in batches,
//!   recording its progress in the queue row so a crash resumes where it stopped.
//! - **Time**: each firm and product stores its next recheck date (an anniversary that moves a
//!   years-in-operation rule, a validity window opening or closing); due subjects are re-queued.
//! - **Consents** never change a match, only who may see it (decided at read time); granting,
//!   revoking and expiry "touch" the firm's rows so that incremental sync reports them.
//! - **LPR fixings** change no eligibility, score or reason (rates are shown, computed at read
//!   time from the table), so an LPR change re-evaluates nothing.
//!
//! # Crash safety and concurrency
//!
//! A queue row is deleted in the same transaction that writes its results, and only if its
//! generation is still the one read (`gen` is bumped by every enqueue), so a change committed
//! while a job runs is processed again and a crash loses nothing: the row is still there.
//! On PostgreSQL, firm batches hold a shared transaction-level advisory lock and claim queue rows
//! with `FOR UPDATE SKIP LOCKED` (instances share the work); product jobs and the rematch hold it
//! exclusively, because they touch pairs of every firm. So two transactions never compute the same
//! pair concurrently from different snapshots, and each one reads data committed before it began
//! (each batch is one transaction that takes the lock first). SQLite runs one writer at a time.
//! Only pairs whose outcome fingerprint changed are written, a chunk of them per upsert.
//!
//! The worker's passes and draining the queue are in `worker.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::Notify;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::{Db, Dialect};
use crate::domain::events::MatchReason;
use crate::domain::ids::{BankId, FirmId};
use crate::domain::matching::{
    CompiledProduct, FirmFacts, MatchProduct, RuleKind, RuleSet, evaluate, explain, recheck_on,
};
use crate::domain::product::LoanProduct;
use crate::error::AppResult;
use crate::service::events::{self, NewEvent, Numbering};
use crate::store::matches::{self as store, ChangeKind, Existing, FirmSel, MatchWrite, Subject};
use crate::store::{Conn, products};

mod worker;
pub use worker::{DrainReport, drain, drain_available, drain_within, run_worker};

/// Firms per queue batch, per product-job step and per rematch step.
pub const FIRM_BATCH: u32 = 500;
pub const PRODUCT_STEP: u32 = 2000;
pub const REMATCH_STEP: u32 = 1000;

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Nudges the matching worker of this process (after committing queued work).
pub fn wake() {
    WAKE.notify_one();
}

pub async fn woken() {
    WAKE.notified().await;
}

/// What a run evaluated and changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    /// Firms evaluated.
    pub firms: u64,
    /// Firm × product pairs evaluated.
    pub pairs: u64,
    /// Pairs found eligible.
    pub eligible: u64,
    /// Matches that appeared (new, or active again after a withdrawal).
    pub created: u64,
    /// Active matches whose score or reasons changed.
    pub updated: u64,
    /// Matches that disappeared.
    pub withdrawn: u64,
    /// Eligible pairs whose stored outcome was already current (nothing written).
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.firms += o.firms;
        self.pairs += o.pairs;
        self.eligible += o.eligible;
        self.created += o.created;
        self.updated += o.updated;
        self.withdrawn += o.withdrawn;
        self.unchanged += o.unchanged;
    }
}

/// A product compiled for the engine, with and without its validity window (the window-free
/// form yields the firm-side recheck dates; window edges are the product's own).
pub struct Compiled {
    pub id: Uuid,
    pub bank_id: BankId,
    pub cp: CompiledProduct,
    nowin: CompiledProduct,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

pub fn compile(p: &LoanProduct) -> Compiled {
    let mp = MatchProduct::from(p);
    let nowin = CompiledProduct::new(&MatchProduct { valid_from: None, valid_to: None, active: true, ..mp.clone() });
    Compiled {
        id: p.id,
        bank_id: p.bank_id,
        cp: CompiledProduct::new(&mp),
        nowin,
        valid_from: p.valid_from,
        valid_to: p.valid_to,
    }
}

/// A product with its compiled form, shared by every request that needs it at this version.
pub struct CachedProduct {
    pub product: LoanProduct,
    pub compiled: Compiled,
}

type Catalogue = HashMap<Uuid, (i64, Arc<CachedProduct>)>;

/// Products by (id, version): parsing and compiling the catalogue once per change instead of on
/// every pull and every single-firm refresh. Validated against the stored version on each use.
static CACHE: LazyLock<Mutex<Catalogue>> = LazyLock::new(|| Mutex::new(HashMap::new()));
const CACHE_CAP: usize = 20_000;

async fn through_cache(conn: &mut Conn, versions: Vec<(Uuid, i64)>) -> AppResult<Vec<Arc<CachedProduct>>> {
    let mut out: Vec<Option<Arc<CachedProduct>>> = Vec::with_capacity(versions.len());
    let mut missing = Vec::new();
    {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        for (i, (id, v)) in versions.iter().enumerate() {
            match cache.get(id) {
                Some((cv, p)) if cv == v => out.push(Some(p.clone())),
                _ => {
                    out.push(None);
                    missing.push((i, *id));
                }
            }
        }
    }
    if !missing.is_empty() {
        let ids: Vec<Uuid> = missing.iter().map(|(_, id)| *id).collect();
        let loaded: HashMap<Uuid, (LoanProduct, i64)> =
            products::get_many_versioned(conn, &ids).await?.into_iter().map(|(p, v)| (p.id, (p, v))).collect();
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > CACHE_CAP {
            cache.clear();
        }
        for (i, id) in missing {
            if let Some((p, v)) = loaded.get(&id) {
                let entry = Arc::new(CachedProduct { compiled: compile(p), product: p.clone() });
                cache.insert(id, (*v, entry.clone()));
                out[i] = Some(entry);
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// The active catalogue (optionally one bank's), in id order.
pub async fn active_catalogue(conn: &mut Conn, bank: Option<BankId>) -> AppResult<Vec<Arc<CachedProduct>>> {
    let versions = products::active_versions(conn, bank).await?;
    through_cache(conn, versions).await
}

/// The given products (any status), by id.
pub async fn products_by_id(conn: &mut Conn, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Arc<CachedProduct>>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let versions = products::versions_of(conn, &ids).await?;
    Ok(through_cache(conn, versions).await?.into_iter().map(|p| (p.product.id, p)).collect())
}

/// The next day on which the product opens or closes, after `today`.
fn window_edge(c: &Compiled, today: NaiveDate) -> Option<NaiveDate> {
    [c.valid_from, c.valid_to.and_then(|t| t.succ_opt())].into_iter().flatten().filter(|d| *d > today).min()
}

/// Compares fresh verdicts with stored ones; returns the writes and, per firm, its next recheck.
/// `whole_catalogue`: `products` are all active products, so a stored active match of any other
/// product is stale (its product was withdrawn) and is withdrawn here.
fn decide(
    facts: &[FirmFacts],
    products: &[&Compiled],
    existing: &HashMap<(FirmId, Uuid), Existing>,
    whole_catalogue: bool,
    counts: &mut Counts,
) -> (Vec<MatchWrite>, Vec<(FirmId, Option<NaiveDate>)>) {
    let mut writes = Vec::new();
    let mut rechecks = Vec::with_capacity(facts.len());
    for f in facts {
        counts.firms += 1;
        let mut due: Option<NaiveDate> = None;
        for p in products {
            counts.pairs += 1;
            let v = evaluate(f, &p.cp);
            if let Some(d) = recheck_on(f, &p.nowin) {
                due = Some(due.map_or(d, |x| x.min(d)));
            }
            let stored = existing.get(&(f.firm_id, p.id));
            let base = |kind, version, previous_score| MatchWrite {
                firm_id: f.firm_id,
                product_id: p.id,
                bank_id: p.bank_id,
                kind,
                score: v.score,
                previous_score,
                met_bits: v.met.bits(),
                unmet_bits: v.unmet.bits(),
                fingerprint: 0,
                version,
            };
            if v.eligible {
                counts.eligible += 1;
                // The fingerprint covers the displayed actual values too, not only the verdict.
                let fingerprint = explain(f, &p.cp).fingerprint() as i64;
                match stored {
                    Some(e) if e.active && e.fingerprint == fingerprint => counts.unchanged += 1,
                    Some(e) if e.active => {
                        counts.updated += 1;
                        writes.push(MatchWrite {
                            fingerprint,
                            ..base(ChangeKind::Updated, e.version + 1, Some(e.score))
                        });
                    }
                    Some(e) => {
                        counts.created += 1;
                        writes.push(MatchWrite { fingerprint, ..base(ChangeKind::Created, e.version + 1, None) });
                    }
                    None => {
                        counts.created += 1;
                        writes.push(MatchWrite { fingerprint, ..base(ChangeKind::Created, 1, None) });
                    }
                }
            } else if let Some(e) = stored
                && e.active
            {
                counts.withdrawn += 1;
                writes.push(base(ChangeKind::Withdrawn, e.version + 1, Some(e.score)));
            }
        }
        rechecks.push((f.firm_id, due));
    }
    if whole_catalogue {
        let live: HashSet<Uuid> = products.iter().map(|p| p.id).collect();
        let firms: HashSet<FirmId> = facts.iter().map(|f| f.firm_id).collect();
        let mut unmet = RuleSet::EMPTY;
        unmet.insert(RuleKind::ProductActive);
        let mut stale: Vec<(&(FirmId, Uuid), &Existing)> =
            existing.iter().filter(|((f, p), e)| e.active && firms.contains(f) && !live.contains(p)).collect();
        stale.sort_by_key(|(k, _)| **k);
        for ((firm_id, product_id), e) in stale {
            counts.withdrawn += 1;
            writes.push(MatchWrite {
                firm_id: *firm_id,
                product_id: *product_id,
                bank_id: e.bank_id,
                kind: ChangeKind::Withdrawn,
                score: 0,
                previous_score: Some(e.score),
                met_bits: 0,
                unmet_bits: unmet.bits(),
                fingerprint: 0,
                version: e.version + 1,
            });
        }
    }
    (writes, rechecks)
}

/// Writes the changed pairs and records one `match.*` event per pair, addressed to the product's
/// bank. Match events carry the pair's `version` and the change sequence number `seq` of the
/// write (the order a bank's mirror applies them in), not a firm sequence number.
async fn write_matches(conn: &mut Conn, writes: &[MatchWrite], now: DateTime<Utc>) -> AppResult<()> {
    let Some(seq) = store::write(conn, writes, now).await? else { return Ok(()) };
    let recorded = writes
        .iter()
        .map(|w| {
            let mut data = serde_json::json!({
                "firm_id": w.firm_id,
                "product_id": w.product_id,
                "version": w.version,
                "seq": seq,
                "status": if w.kind == ChangeKind::Withdrawn { "withdrawn" } else { "active" },
                "score": w.score,
                "reason": MatchReason::Eligibility,
            });
            if let Some(prev) = w.previous_score {
                data["previous_score"] = prev.into();
            }
            NewEvent {
                numbering: Numbering::Unnumbered,
                ..NewEvent::fact(
                    w.kind.event_kind(),
                    Some(w.firm_id),
                    Some(w.bank_id),
                    store::fact_key(w.firm_id, w.product_id, w.version),
                    data,
                )
            }
        })
        .collect();
    events::record_many(conn, recorded, now).await?;
    Ok(())
}

/// Evaluates the selected firms against the whole active catalogue and writes what changed.
async fn process_firms(conn: &mut Conn, sel: FirmSel, today: NaiveDate, now: DateTime<Utc>) -> AppResult<Counts> {
    let t0 = Instant::now();
    let cached = active_catalogue(conn, None).await?;
    let catalogue: Vec<&Compiled> = cached.iter().map(|c| &c.compiled).collect();
    let firms = store::load_firms(conn, &sel).await?;
    let facts: Vec<FirmFacts> = firms.iter().map(|f| FirmFacts::new(f, today)).collect();
    let existing = store::load_existing(conn, &sel, None).await?;
    let t1 = Instant::now();
    let mut counts = Counts::default();
    let (writes, rechecks) = decide(&facts, &catalogue, &existing, true, &mut counts);
    let t2 = Instant::now();
    write_matches(conn, &writes, now).await?;
    let t3 = Instant::now();
    store::set_firm_rechecks(conn, &rechecks).await?;
    tracing::debug!(
        firms = counts.firms,
        writes = writes.len(),
        read_ms = (t1 - t0).as_millis() as u64,
        compute_ms = (t2 - t1).as_millis() as u64,
        write_ms = (t3 - t2).as_millis() as u64,
        rechecks_ms = t3.elapsed().as_millis() as u64,
        "matching batch"
    );
    Ok(counts)
}

/// Re-evaluates one firm inside the caller's transaction (single-firm API changes call this
/// after their change and before committing). The firm's queue row is taken first, so no worker
/// evaluates the firm concurrently, and removed at the end: the work it stood for is done.
pub async fn refresh_firm(conn: &mut Conn, dialect: Dialect, firm_id: FirmId, now: DateTime<Utc>) -> AppResult<Counts> {
    store::enqueue(conn, Subject::Firm, firm_id.uuid(), now).await?;
    store::lock_shared(conn, dialect).await?;
    let counts = process_firms(conn, FirmSel::Ids(vec![firm_id.uuid()]), now.date_naive(), now).await?;
    store::dequeue_firm(conn, firm_id).await?;
    Ok(counts)
}

/// One batch of queued firms in its own transaction. `None` when nothing was claimable.
pub async fn run_firm_batch(db: &Db, now: DateTime<Utc>) -> AppResult<Option<Counts>> {
    let mut tx = db.begin().await?;
    store::lock_shared(&mut tx, db.dialect()).await?;
    let claimed = store::claim_firms(&mut tx, db.dialect(), FIRM_BATCH).await?;
    if claimed.is_empty() {
        tx.commit().await?;
        return Ok(None);
    }
    let ids: Vec<Uuid> = claimed.iter().map(|(id, _)| *id).collect();
    let counts = process_firms(&mut tx, FirmSel::Ids(ids), now.date_naive(), now).await?;
    store::finish(&mut tx, db.dialect(), Subject::Firm, &claimed, false).await?;
    tx.commit().await?;
    Ok(Some(counts))
}

/// One step of a queued product job (up to [`PRODUCT_STEP`] firms) in its own transaction.
pub async fn run_product_step(db: &Db, now: DateTime<Utc>) -> AppResult<Option<Counts>> {
    let today = now.date_naive();
    let mut tx = db.begin().await?;
    store::lock_exclusive(&mut tx, db.dialect()).await?;
    let Some(job) = store::claim_product(&mut tx, db.dialect()).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let Some(product) = products::get(&mut tx, job.product_id).await? else {
        store::finish(&mut tx, db.dialect(), Subject::Product, &[(job.product_id, job.generation)], false).await?;
        tx.commit().await?;
        return Ok(Some(Counts::default()));
    };
    let compiled = [compile(&product)];
    let ids = store::firm_ids_after(&mut tx, job.after, PRODUCT_STEP).await?;
    let mut counts = Counts::default();
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        let sel = FirmSel::Range(*first, *last);
        let firms = store::load_firms(&mut tx, &sel).await?;
        let facts: Vec<FirmFacts> = firms.iter().map(|f| FirmFacts::new(f, today)).collect();
        let existing = store::load_existing(&mut tx, &sel, Some(product.id)).await?;
        let (writes, rechecks) = decide(&facts, &[&compiled[0]], &existing, false, &mut counts);
        write_matches(&mut tx, &writes, now).await?;
        let due: Vec<(Uuid, NaiveDate)> =
            rechecks.into_iter().filter_map(|(id, d)| d.map(|d| (id.uuid(), d))).collect();
        store::upsert_rechecks(&mut tx, Subject::Firm, &due, true).await?;
    }
    if ids.len() < PRODUCT_STEP as usize {
        store::finish(&mut tx, db.dialect(), Subject::Product, &[(job.product_id, job.generation)], false).await?;
        set_product_recheck(&mut tx, &compiled[0], product.active, today).await?;
    } else if let Some(last) = ids.last() {
        store::product_progress(&mut tx, &job, *last).await?;
    }
    tx.commit().await?;
    Ok(Some(counts))
}

async fn set_product_recheck(conn: &mut Conn, c: &Compiled, active: bool, today: NaiveDate) -> AppResult<()> {
    match window_edge(c, today).filter(|_| active) {
        Some(d) => store::upsert_rechecks(conn, Subject::Product, &[(c.id, d)], false).await,
        None => store::clear_recheck(conn, Subject::Product, c.id).await,
    }
}

/// The answer of a full rebuild.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RematchReport {
    /// Active products evaluated.
    pub products: u64,
    /// Firms an earlier, interrupted rebuild had already done; this run continued after them.
    pub resumed_after_firms: u64,
    #[serde(flatten)]
    pub counts: Counts,
    pub duration_ms: u64,
}

/// Where a full rebuild stands, reported after every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RematchProgress {
    /// Firms done, including those an interrupted earlier run did.
    pub done: u64,
    pub total: u64,
}

/// The last firm a full rebuild has committed: a rebuild that is interrupted (killed, crashed,
/// database gone) continues after it when run again, instead of redoing the work done.
const REMATCH_CURSOR: &str = "rematch_after";

/// Rebuilds everything (see [`rematch_with`]) in steps of [`REMATCH_STEP`] firms.
pub async fn rematch(db: &Db, clock: &dyn Clock) -> AppResult<RematchReport> {
    rematch_with(db, clock, REMATCH_STEP, &|_| {}).await
}

/// Rebuilds everything: every firm against every active product, in steps of `step` firms, each
/// its own transaction under the exclusive lock. Each step also moves the rebuild's cursor, so an
/// interrupted rebuild resumes after the last committed step: every pair is written, and its
/// event recorded, exactly once. Queue entries that this rebuild covers are removed (only if
/// unchanged since it read them). `progress` hears after every step.
pub async fn rematch_with(
    db: &Db,
    clock: &dyn Clock,
    step: u32,
    progress: &(dyn Fn(RematchProgress) + Sync),
) -> AppResult<RematchReport> {
    let started = Instant::now();
    let dialect = db.dialect();
    let step = step.max(1);
    let (queued_products, mut total, resumed_after_firms) = {
        let mut conn = db.pool().acquire().await?;
        let cursor = store::read_state(&mut conn, REMATCH_CURSOR).await?.and_then(|v| Uuid::parse_str(&v).ok());
        let (total, done) = store::firms_counted(&mut conn, cursor).await?;
        (store::queued(&mut conn, Subject::Product, None).await?, total, if cursor.is_some() { done } else { 0 })
    };
    if resumed_after_firms > 0 {
        tracing::info!(done = resumed_after_firms, total, "rematch resumes after the firms an interrupted run did");
    }
    metrics::gauge!("matching_rematch_firms_planned").set(total as f64);
    metrics::gauge!("matching_rematch_firms_done").set(resumed_after_firms as f64);
    let mut done = resumed_after_firms;
    let mut counts = Counts::default();
    loop {
        let now = clock.now();
        let mut tx = db.begin().await?;
        store::lock_exclusive(&mut tx, dialect).await?;
        // Read under the lock: a concurrent rebuild continues this one's walk instead of repeating it.
        let after = store::lock_state(&mut tx, dialect, REMATCH_CURSOR).await?.and_then(|v| Uuid::parse_str(&v).ok());
        let ids = store::firm_ids_after(&mut tx, after, step).await?;
        let (Some(first), Some(last)) = (ids.first().copied(), ids.last().copied()) else {
            tx.commit().await?;
            break;
        };
        // Read the queue before the data: an entry whose generation moves after this point
        // stays queued and is processed again.
        let queued = store::queued(&mut tx, Subject::Firm, Some((first, last))).await?;
        counts.add(process_firms(&mut tx, FirmSel::Range(first, last), now.date_naive(), now).await?);
        store::finish(&mut tx, dialect, Subject::Firm, &queued, true).await?;
        store::put_state(&mut tx, REMATCH_CURSOR, &last.to_string()).await?;
        tx.commit().await?;
        done += ids.len() as u64;
        total = total.max(done);
        let secs = started.elapsed().as_secs_f64().max(0.001);
        tracing::info!(
            done,
            total,
            firms_per_s = ((done - resumed_after_firms) as f64 / secs).round() as u64,
            "rematch progress"
        );
        metrics::gauge!("matching_rematch_firms_done").set(done as f64);
        progress(RematchProgress { done, total });
    }
    let now = clock.now();
    let mut tx = db.begin().await?;
    store::lock_exclusive(&mut tx, dialect).await?;
    let active = products::active(&mut tx, None).await?;
    for p in &active {
        set_product_recheck(&mut tx, &compile(p), true, now.date_naive()).await?;
    }
    store::finish(&mut tx, dialect, Subject::Product, &queued_products, true).await?;
    store::put_state(&mut tx, REMATCH_CURSOR, "").await?;
    tx.commit().await?;
    let report = RematchReport {
        products: active.len() as u64,
        resumed_after_firms,
        counts,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    tracing::info!(
        firms = counts.firms,
        resumed_after_firms,
        products = report.products,
        created = counts.created,
        updated = counts.updated,
        withdrawn = counts.withdrawn,
        duration_ms = report.duration_ms,
        "rematch finished"
    );
    Ok(report)
}

/// Queues the firms and products whose recheck date has come.
async fn enqueue_due(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let today = now.date_naive();
    let mut total = 0;
    loop {
        // Look before taking a write transaction: most ticks find nothing due.
        let nothing_due = {
            let mut conn = db.pool().acquire().await?;
            store::due_rechecks(&mut conn, today, 1).await?.is_empty()
        };
        if nothing_due {
            return Ok(total);
        }
        let mut tx = db.begin().await?;
        let due = store::due_rechecks(&mut tx, today, 1000).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(total);
        }
        // Queue first, then clear: the same order as the jobs (queue row before recheck row).
        for kind in [Subject::Firm, Subject::Product] {
            let ids: Vec<Uuid> = due.iter().filter(|(k, _)| *k == kind).map(|(_, id)| *id).collect();
            store::enqueue_many(&mut tx, kind, &ids, now).await?;
        }
        store::clear_due(&mut tx, today, &due).await?;
        tx.commit().await?;
        total += due.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::firm::{City, Tier};
    use crate::domain::matching::MatchFirm;
    use crate::domain::product::{Collateral, Eligibility, ProductDraft, ProductKind};
    use rust_decimal::Decimal;

    fn product(min_revenue: &str, active: bool) -> LoanProduct {
        let terms = ProductDraft {
            name: Some("专精特新贷".into()),
            kind: Some(ProductKind::SrdiLoan),
            amount_max: Some(Decimal::from(10_000_000)),
            term_months_max: Some(36),
            rate_spread_bp: Some(-20),
            collateral: vec![Collateral::Credit],
            eligibility: Eligibility {
                tiers: vec![Tier::ProvincialSrdi],
                min_revenue: Some(min_revenue.parse().expect("decimal")),
                min_years_in_operation: Some(2),
                ..Eligibility::default()
            },
            ..ProductDraft::default()
        }
        .validate()
        .expect("valid");
        let t = DateTime::UNIX_EPOCH;
        LoanProduct::new(Uuid::from_u128(7), BankId::from_uuid(Uuid::from_u128(9)), terms, active, t, t)
    }

    fn facts(revenue: &str) -> FirmFacts {
        let firm = MatchFirm {
            id: FirmId::from_uuid(Uuid::from_u128(1)),
            city: City::Jinan,
            industry_code: "C3562".into(),
            tier: Some(Tier::LittleGiant),
            founded_on: NaiveDate::from_ymd_opt(2020, 3, 15),
            tax_credit_grade: None,
            lead_bank_id: None,
            in_reserve_pool: false,
            target_venues: vec![],
            fiscal_year: Some(2024),
            revenue: Some(revenue.parse().expect("decimal")),
            rd_expense: None,
            invention_patents: None,
        };
        FirmFacts::new(&firm, NaiveDate::from_ymd_opt(2025, 6, 1).expect("date"))
    }

    /// (revenue, stored state) → (change written, counts)
    #[test]
    fn decisions() {
        let p = [compile(&product("10000000", true))];
        let key = (FirmId::from_uuid(Uuid::from_u128(1)), Uuid::from_u128(7));
        let eligible = facts("20000000");
        let fp = explain(&eligible, &p[0].cp).fingerprint() as i64;
        let active = |fingerprint| Existing {
            bank_id: BankId::from_uuid(Uuid::from_u128(9)),
            active: true,
            score: 80,
            fingerprint,
            version: 3,
        };
        let withdrawn = Existing {
            bank_id: BankId::from_uuid(Uuid::from_u128(9)),
            active: false,
            score: 20,
            fingerprint: 0,
            version: 4,
        };
        type Case = (&'static str, FirmFacts, Option<Existing>, Option<(ChangeKind, i64)>);
        let cases: Vec<Case> = vec![
            ("new eligible", eligible.clone(), None, Some((ChangeKind::Created, 1))),
            ("unchanged", eligible.clone(), Some(active(fp)), None),
            ("reasons changed", eligible.clone(), Some(active(fp ^ 1)), Some((ChangeKind::Updated, 4))),
            ("eligible again", eligible.clone(), Some(withdrawn), Some((ChangeKind::Created, 5))),
            ("drops out", facts("9999999.99"), Some(active(fp)), Some((ChangeKind::Withdrawn, 4))),
            ("never eligible", facts("1"), None, None),
            ("stays withdrawn", facts("1"), Some(withdrawn), None),
        ];
        for (what, f, stored, want) in cases {
            let existing: HashMap<_, _> = stored.into_iter().map(|e| (key, e)).collect();
            let mut counts = Counts::default();
            let (writes, rechecks) = decide(std::slice::from_ref(&f), &[&p[0]], &existing, false, &mut counts);
            let got = writes.first().map(|w| (w.kind, w.version));
            assert_eq!(got, want, "{what}");
            assert!(writes.len() <= 1, "{what}");
            assert_eq!(counts.pairs, 1, "{what}");
            // Founded 2020-03-15, two-year rule: past twice the minimum, so yearly: next anniversary.
            assert_eq!(rechecks, vec![(f.firm_id, NaiveDate::from_ymd_opt(2026, 3, 15))], "{what}");
        }
    }

    #[test]
    fn withdrawn_products_drop_their_matches_in_a_whole_catalogue_pass() {
        let key = (FirmId::from_uuid(Uuid::from_u128(1)), Uuid::from_u128(7));
        let existing: HashMap<_, _> = [(
            key,
            Existing {
                bank_id: BankId::from_uuid(Uuid::from_u128(9)),
                active: true,
                score: 80,
                fingerprint: 1,
                version: 2,
            },
        )]
        .into();
        let mut counts = Counts::default();
        let (writes, _) = decide(&[facts("20000000")], &[], &existing, true, &mut counts);
        assert_eq!(writes.len(), 1);
        assert_eq!((writes[0].kind, writes[0].version, writes[0].score), (ChangeKind::Withdrawn, 3, 0));
        assert!(RuleSet::from_bits(writes[0].unmet_bits).contains(RuleKind::ProductActive));
        // A single-product pass must not touch other products' matches.
        let (writes, _) = decide(&[facts("20000000")], &[], &existing, false, &mut Counts::default());
        assert!(writes.is_empty());
    }

    #[test]
    fn product_window_edges() {
        let mut p = product("1", true);
        p.valid_from = NaiveDate::from_ymd_opt(2025, 7, 1);
        p.valid_to = NaiveDate::from_ymd_opt(2025, 12, 31);
        let c = compile(&p);
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).expect("date");
        assert_eq!(window_edge(&c, d(6, 1)), Some(d(7, 1)));
        assert_eq!(window_edge(&c, d(7, 1)), NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(window_edge(&c, NaiveDate::from_ymd_opt(2026, 1, 1).expect("d")), None);
    }
}
