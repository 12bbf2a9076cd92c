//! Reading matches: the bank pull (JSON pages or CSV, incremental with `updated_since`), one pair,
//! and a firm's own view with near misses. The API and the pages both call these.
//!
//! # Incremental sync
//!
//! Every change to a bank's view of a match (it appears, changes, is withdrawn, or a consent
//! grant, revocation or expiry makes the firm visible or invisible) gives the row a new `seq`
//! from one counter whose row lock is held until commit, so `seq` order is commit order. Every
//! answer carries `sync_token`: the highest `seq` committed when the pull started. Rows are
//! ordered by `(seq, firm_id, product_id)` and only rows at or below that mark are returned, so
//! the pages of one pull are a consistent cut. Next time pass the token as `updated_since`: you
//! get every row changed since, including withdrawals (`status: withdrawn`) and firms whose
//! consent no longer covers you (reported as withdrawn with `withdrawn_reason: consent_not_in_force`,
//! ids only). Upsert active items, delete withdrawn ones, and your copy equals the full list.
//! `updated_since` also accepts an RFC 3339 instant (rows with `updated_at` at or after it), which
//! is convenient but can miss a row committed late by a long transaction; prefer the token.

use crate::csv_out::CsvWriter;
use crate::domain::ids::{BankId, FirmId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::access::{ActsFor, Principal, Role};
use crate::domain::firm::{City, FinancialYear, TaxCreditGrade, Tier, Venue, vocabulary};
use crate::domain::matching::{FirmFacts, MatchFirm, RuleResult, explain, near_miss};
use crate::error::{AppError, AppResult};
use crate::service::matching::{self, CachedProduct, Compiled};
use crate::service::paging::{self as pagination, query_vocab};
use crate::service::products::{ProductView, view};
use crate::store::match_reads::{self, MatchRow, Mode, PullFilter, Reader};
use crate::store::{Conn, banks, consents, financials, firms, lpr, pool};

vocabulary!(
    MatchStatus {
        Active = "active" / "有效匹配",
        Withdrawn = "withdrawn" / "已撤销",
    }
);

vocabulary!(
    /// Why a withdrawn item is withdrawn.
    WithdrawnReason {
        NoLongerEligible = "no_longer_eligible" / "企业不再符合产品条件",
        ProductWithdrawn = "product_withdrawn" / "产品已下架",
        ConsentNotInForce = "consent_not_in_force" / "企业授权已撤回或到期",
    }
);

/// The firm as a loan officer needs it. Present only while the firm's consent covers the bank.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchedFirm {
    pub name: String,
    pub credit_code: String,
    pub city: City,
    pub district: Option<String>,
    pub industry_code: String,
    pub tier: Option<Tier>,
    pub tier_recognized_year: Option<i32>,
    pub founded_on: Option<NaiveDate>,
    pub tax_credit_grade: Option<TaxCreditGrade>,
    pub in_reserve_pool: bool,
    /// The reserve pool's target venue, if the firm is in the pool.
    pub target_venue: Option<Venue>,
    /// Whether the reading bank is the firm's lead bank (主办行). Another bank's lead-bank role is
    /// never disclosed.
    pub lead_bank: bool,
    /// On the financial-tutoring whitelist (金融辅导白名单).
    pub tutoring_whitelist: bool,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

/// One match (`firm_id`, `product_id`) as a bank (or the office) sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchItem {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub product_id: Uuid,
    pub product_name: String,
    #[schema(value_type = Uuid)]
    pub bank_id: BankId,
    pub status: MatchStatus,
    /// Present on withdrawn items.
    pub withdrawn_reason: Option<WithdrawnReason>,
    /// 0..=100 (eligible firms score 60 or more); `null` when the firm is not visible.
    pub score: Option<u8>,
    /// Increases with every appearance, change and withdrawal of this pair (`match.*` events
    /// carry the same number).
    pub version: i64,
    /// The rules met, with the firm's actual value and the product's requirement.
    pub reasons: Vec<RuleResult>,
    /// The rules not met (withdrawn items), with what it would take.
    pub unmet: Vec<RuleResult>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub firm: Option<MatchedFirm>,
    pub latest_financials: Option<FinancialYear>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchPage {
    pub items: Vec<MatchItem>,
    pub next_cursor: Option<String>,
    /// Pass as `updated_since` next time (after the last page) to get only what changed.
    pub sync_token: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    pub product_id: Option<Uuid>,
    #[param(minimum = 0, maximum = 100)]
    pub min_score: Option<u8>,
    #[param(value_type = Option<City>)]
    pub city: Option<String>,
    #[param(value_type = Option<Tier>)]
    pub tier: Option<String>,
    /// The firm's reserve-pool target venue.
    #[param(value_type = Option<Venue>)]
    pub venue: Option<String>,
    /// `true`: only firms whose lead bank (主办行) is your bank; `false`: only the others.
    pub lead_bank: Option<bool>,
    /// `true`: only firms on the financial-tutoring whitelist (金融辅导白名单); `false`: only the others.
    pub tutoring: Option<bool>,
    /// A `sync_token` from an earlier answer (exact), or an RFC 3339 instant (approximate).
    /// Without it: the full list of active matches.
    pub updated_since: Option<String>,
    /// Admin keys only: one bank's matches.
    #[param(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// From `next_cursor`; send the same other parameters with it.
    pub cursor: Option<String>,
}

/// The shape of a sync token: 8 bytes (the high-water mark) in unpadded base64url, the last
/// character carrying two bits. Every token of that shape is a mark to continue from.
pub const SYNC_TOKEN_PATTERN: &str = "^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$";

pub fn sync_token(high_water: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(high_water.to_be_bytes())
}

fn parse_sync_token(s: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}

/// The shape of a pull cursor: 48 bytes in unpadded base64url (the pull's high-water mark, then
/// the last row's sequence, firm and product). Every cursor of that shape continues some cut, so
/// the document can state it exactly. Empty means the first page.
pub const MATCH_CURSOR_PATTERN: &str = "^([A-Za-z0-9_-]{64})?$";

fn encode_cursor(high_water: i64, last: &MatchRow) -> String {
    let mut bytes = Vec::with_capacity(48);
    bytes.extend_from_slice(&high_water.to_be_bytes());
    bytes.extend_from_slice(&last.seq.to_be_bytes());
    bytes.extend_from_slice(last.firm.id.uuid().as_bytes());
    bytes.extend_from_slice(last.product_id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_cursor(c: &str) -> AppResult<(i64, (i64, Uuid, Uuid))> {
    let bad =
        || AppError::bad_request("invalid_cursor", "the cursor is not one this service issued; start again without it");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let bytes: [u8; 48] = bytes.try_into().map_err(|_| bad())?;
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        i64::from_be_bytes(w)
    };
    let id = |at: usize| Uuid::from_slice(&bytes[at..at + 16]).map_err(|_| bad());
    Ok((word(0), (word(8), id(16)?, id(32)?)))
}

fn parse_since(s: Option<&str>) -> AppResult<Mode> {
    match pagination::given(s) {
        None => Ok(Mode::Full),
        Some(s) => {
            if let Some(seq) = parse_sync_token(s) {
                return Ok(Mode::SinceSeq(seq));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(Mode::SinceTime(t.with_timezone(&Utc)));
            }
            Err(AppError::bad_request(
                "invalid_updated_since",
                "updated_since must be a sync_token from an earlier answer or an RFC 3339 instant",
            ))
        }
    }
}

/// Turns stored rows into items: firm data and reasons only for covered firms.
async fn items(conn: &mut Conn, rows: Vec<MatchRow>, today: NaiveDate) -> AppResult<Vec<MatchItem>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.product_id).collect();
    let products = matching::products_by_id(conn, &ids).await?;
    Ok(rows.into_iter().map(|r| item(r, &products, today)).collect())
}

fn item(r: MatchRow, products: &HashMap<Uuid, Arc<CachedProduct>>, today: NaiveDate) -> MatchItem {
    let product = products.get(&r.product_id);
    let withdrawn_reason = if !r.covered {
        Some(WithdrawnReason::ConsentNotInForce)
    } else if r.active {
        None
    } else if product.is_some_and(|p| !p.product.active) {
        Some(WithdrawnReason::ProductWithdrawn)
    } else {
        Some(WithdrawnReason::NoLongerEligible)
    };
    let mut out = MatchItem {
        firm_id: r.firm.id,
        product_id: r.product_id,
        product_name: product.map(|p| p.product.name.clone()).unwrap_or_default(),
        bank_id: r.bank_id,
        status: if r.covered && r.active { MatchStatus::Active } else { MatchStatus::Withdrawn },
        withdrawn_reason,
        score: None,
        version: r.version,
        reasons: Vec::new(),
        unmet: Vec::new(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        firm: None,
        latest_financials: None,
    };
    if !r.covered {
        return out;
    }
    let fy = r.latest_financials;
    if let Some(p) = product {
        let mf = MatchFirm::from_firm(&r.firm, fy.as_slice(), r.target_venue.as_slice());
        let outcome = explain(&FirmFacts::new(&mf, today), &p.compiled.cp);
        out.reasons = outcome.met;
        out.unmet = outcome.unmet;
    }
    out.score = Some(r.score);
    out.latest_financials = fy;
    out.firm = Some(MatchedFirm {
        name: r.firm.name,
        credit_code: r.firm.credit_code,
        city: r.firm.city,
        district: r.firm.district,
        industry_code: r.firm.industry_code,
        tier: r.firm.tier,
        tier_recognized_year: r.firm.tier_recognized_year,
        founded_on: r.firm.founded_on,
        tax_credit_grade: r.firm.tax_credit_grade,
        in_reserve_pool: r.firm.in_reserve_pool,
        target_venue: r.target_venue,
        lead_bank: r.firm.lead_bank_id == Some(r.bank_id),
        tutoring_whitelist: r.tutoring_whitelist,
        contact_name: r.firm.contact_name,
        contact_phone: r.firm.contact_phone,
        contact_email: r.firm.contact_email,
    });
    out
}

const CSV_HEADER: &[&str] = &[
    "firm_id",
    "product_id",
    "product_name",
    "status",
    "withdrawn_reason",
    "score",
    "version",
    "updated_at",
    "credit_code",
    "name",
    "city",
    "district",
    "industry_code",
    "tier",
    "founded_on",
    "tax_credit_grade",
    "in_reserve_pool",
    "target_venue",
    "lead_bank",
    "tutoring_whitelist",
    "contact_name",
    "contact_phone",
    "contact_email",
    "fiscal_year",
    "revenue",
    "net_profit",
    "rd_expense",
    "invention_patents",
    "reasons",
];

fn csv_record(i: &MatchItem) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let f = i.firm.as_ref();
    let y = i.latest_financials.as_ref();
    let reasons = i
        .reasons
        .iter()
        .map(|r| format!("{}={}/{}", r.rule, r.actual.as_deref().unwrap_or(""), r.required))
        .collect::<Vec<_>>()
        .join("; ");
    vec![
        i.firm_id.to_string(),
        i.product_id.to_string(),
        i.product_name.clone(),
        i.status.to_string(),
        opt(i.withdrawn_reason.map(|r| r.to_string())),
        opt(i.score.map(|s| s.to_string())),
        i.version.to_string(),
        crate::db::types::ts(i.updated_at),
        opt(f.map(|f| f.credit_code.clone())),
        opt(f.map(|f| f.name.clone())),
        opt(f.map(|f| f.city.to_string())),
        opt(f.and_then(|f| f.district.clone())),
        opt(f.map(|f| f.industry_code.clone())),
        opt(f.and_then(|f| f.tier.map(|t| t.to_string()))),
        opt(f.and_then(|f| f.founded_on.map(|d| d.to_string()))),
        opt(f.and_then(|f| f.tax_credit_grade.map(|g| g.to_string()))),
        opt(f.map(|f| f.in_reserve_pool.to_string())),
        opt(f.and_then(|f| f.target_venue.map(|v| v.to_string()))),
        opt(f.map(|f| f.lead_bank.to_string())),
        opt(f.map(|f| f.tutoring_whitelist.to_string())),
        opt(f.and_then(|f| f.contact_name.clone())),
        opt(f.and_then(|f| f.contact_phone.clone())),
        opt(f.and_then(|f| f.contact_email.clone())),
        opt(y.map(|y| y.fiscal_year.to_string())),
        opt(y.and_then(|y| y.revenue.map(|v| v.to_string()))),
        opt(y.and_then(|y| y.net_profit.map(|v| v.to_string()))),
        opt(y.and_then(|y| y.rd_expense.map(|v| v.to_string()))),
        opt(y.and_then(|y| y.invention_patents.map(|v| v.to_string()))),
        reasons,
    ]
}

/// Who reads a pull: a bank its own products' matches, the office any bank's (or all).
fn pull_reader(caller: &Principal, bank_id: Option<BankId>) -> AppResult<Reader> {
    match caller.role() {
        Role::Bank => match (caller.bank_id(), bank_id) {
            (Some(own), named) if named.is_none_or(|b| b == own) => Ok(Reader::Bank(own)),
            _ => Err(AppError::Forbidden("a bank key reads its own bank's matches only".into())),
        },
        Role::Admin => Ok(Reader::Admin(bank_id)),
        role => Err(AppError::Forbidden(format!("a {role} key cannot pull bank matches"))),
    }
}

fn pull_filter(q: &MatchQuery) -> AppResult<PullFilter> {
    if q.min_score.is_some_and(|s| s > 100) {
        return Err(AppError::field("min_score", "out_of_range", "must be between 0 and 100"));
    }
    Ok(PullFilter {
        product_id: q.product_id,
        min_score: q.min_score,
        city: query_vocab("city", q.city.as_deref())?,
        tier: query_vocab("tier", q.tier.as_deref())?,
        venue: query_vocab("venue", q.venue.as_deref())?,
        lead_bank: q.lead_bank,
        tutoring: q.tutoring,
    })
}

/// Where a pull resumes: the high-water mark and the last row seen, from a cursor.
type Resume = (Option<i64>, Option<(i64, Uuid, Uuid)>);

fn start_at(cursor: Option<&str>) -> AppResult<Resume> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) => decode_cursor(c).map(|(hw, last)| (Some(hw), Some(last))),
        None => Ok((None, None)),
    }
}

/// One page of the pull (see the module documentation of `api::matches` for the sync protocol).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn pull(conn: &mut Conn, caller: &Principal, q: &MatchQuery, now: DateTime<Utc>) -> AppResult<MatchPage> {
    let reader = pull_reader(caller, q.bank_id)?;
    let filter = pull_filter(q)?;
    let mode = parse_since(q.updated_since.as_deref())?;
    let (high_water, after) = start_at(q.cursor.as_deref())?;
    let limit = pagination::limit(q.limit)?;
    let (mut rows, high_water) =
        match_reads::pull(conn, reader, &mode, &filter, high_water, after, limit + 1, now).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(high_water, r)) } else { None };
    let items = items(conn, rows, now.date_naive()).await?;
    Ok(MatchPage { items, next_cursor, sync_token: sync_token(high_water) })
}

/// The whole pull (every page from the cursor on) as CSV, with the sync token for next time.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn pull_csv(
    conn: &mut Conn,
    caller: &Principal,
    q: &MatchQuery,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, String)> {
    let reader = pull_reader(caller, q.bank_id)?;
    let filter = pull_filter(q)?;
    let mode = parse_since(q.updated_since.as_deref())?;
    let (mut high_water, mut after) = start_at(q.cursor.as_deref())?;
    let today = now.date_naive();
    let mut w = CsvWriter::in_memory();
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    w.row(CSV_HEADER).map_err(csv_err)?;
    loop {
        let (rows, hw) = match_reads::pull(conn, reader, &mode, &filter, high_water, after, 1000, now).await?;
        high_water = Some(hw);
        let last = rows.last().map(|r| (r.seq, r.firm.id.uuid(), r.product_id));
        let n = rows.len();
        for i in items(conn, rows, today).await? {
            w.row(csv_record(&i)).map_err(csv_err)?;
        }
        match last {
            Some(l) if n == 1000 => after = Some(l),
            _ => break,
        }
    }
    let body = w.finish().map_err(AppError::Internal)?;
    Ok((body, sync_token(high_water.unwrap_or_default())))
}

/// One match. A bank reads its own products' matches of firms whose consent covers it (not found
/// otherwise); an enterprise its own; the office any.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id, product_id = %product_id))]
pub async fn one(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<MatchItem> {
    let reader = match caller.acts_for {
        ActsFor::Bank(bank) => Reader::Bank(bank),
        ActsFor::Admin => Reader::Admin(None),
        ActsFor::Enterprise(_) => {
            caller.require_firm(firm_id)?;
            Reader::Admin(None)
        }
        ActsFor::Fund(_) => return Err(AppError::Forbidden("a fund key cannot read matches".into())),
    };
    let row = match_reads::one(conn, reader, firm_id, product_id, now).await?;
    // A firm that has not consented does not exist for the bank, match or not.
    let row = row.filter(|r| r.covered).ok_or(AppError::not_found("match"))?;
    let mut list = items(conn, vec![row], now.date_naive()).await?;
    list.pop().ok_or(AppError::not_found("match"))
}

/// A product as shown to an enterprise, with its bank's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductRef {
    #[serde(flatten)]
    pub product: ProductView,
    pub bank_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FirmMatch {
    pub product: ProductRef,
    pub score: u8,
    pub reasons: Vec<RuleResult>,
    /// When this match (last) appeared.
    pub matched_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NearMiss {
    pub product: ProductRef,
    pub score: u8,
    pub met: Vec<RuleResult>,
    /// The one or two rules failed, each with `advice`: what it would take.
    pub unmet: Vec<RuleResult>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FirmMatches {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub evaluated_on: NaiveDate,
    /// Products the firm qualifies for, best score first.
    pub matches: Vec<FirmMatch>,
    /// Open products the firm misses by one or two rules, closest first.
    pub near_misses: Vec<NearMiss>,
}

/// The matches and near misses of a firm, for a caller allowed to see it: the enterprise itself
/// and the office see every bank's products; a bank (only while the firm's consent covers it,
/// 404 otherwise) sees its own products.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn firm_matches(
    conn: &mut Conn,
    firm_id: FirmId,
    bank: Option<BankId>,
    now: DateTime<Utc>,
) -> AppResult<FirmMatches> {
    let today = now.date_naive();
    let firm = firms::get(conn, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let years = financials::list(conn, firm_id).await?;
    let venue = pool::get(conn, firm_id).await?.map(|e| e.target_venue);
    let facts = FirmFacts::new(&MatchFirm::from_firm(&firm, &years, venue.as_slice()), today);
    let cached = matching::active_catalogue(conn, bank).await?;
    let catalogue: Vec<&crate::domain::product::LoanProduct> = cached.iter().map(|c| &c.product).collect();
    let compiled: HashMap<Uuid, &Compiled> = cached.iter().map(|c| (c.product.id, &c.compiled)).collect();
    let table = lpr::list(conn).await?;
    let names = banks::names(conn).await?;
    let product_ref = |p: &crate::domain::product::LoanProduct| ProductRef {
        bank_name: names.get(&p.bank_id).cloned().unwrap_or_default(),
        product: view(p.clone(), &table, today),
    };
    let by_id: HashMap<Uuid, &crate::domain::product::LoanProduct> = catalogue.iter().map(|p| (p.id, *p)).collect();
    let rows = match_reads::active_for_firm(conn, firm_id, bank).await?;
    let mut matched = HashSet::new();
    let mut out_matches = Vec::new();
    for r in rows {
        let Some(p) = by_id.get(&r.product_id) else { continue };
        matched.insert(p.id);
        let outcome = explain(&facts, &compiled[&p.id].cp);
        out_matches.push(FirmMatch {
            product: product_ref(p),
            score: r.score,
            reasons: outcome.met,
            matched_at: r.created_at,
            updated_at: r.updated_at,
        });
    }
    let mut near = Vec::new();
    for p in catalogue.iter().filter(|p| !matched.contains(&p.id)) {
        let outcome = explain(&facts, &compiled[&p.id].cp);
        if !outcome.eligible && near_miss(&outcome) {
            near.push(NearMiss {
                product: product_ref(p),
                score: outcome.score,
                met: outcome.met,
                unmet: outcome.unmet,
            });
        }
    }
    near.sort_by(|a, b| b.score.cmp(&a.score).then(a.product.product.product.id.cmp(&b.product.product.product.id)));
    Ok(FirmMatches { firm_id, evaluated_on: today, matches: out_matches, near_misses: near })
}

/// A firm's matches and near misses as the caller may see them: the enterprise itself and the
/// office see every bank's products; a bank (only while the firm's consent covers it, not found
/// otherwise) sees its own.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn firm_matches_for(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
    now: DateTime<Utc>,
) -> AppResult<FirmMatches> {
    let bank = match caller.acts_for {
        ActsFor::Bank(bank) => {
            if !consents::covers(conn, firm_id, bank, now).await? {
                return Err(AppError::not_found("firm"));
            }
            Some(bank)
        }
        _ => {
            caller.require_firm(firm_id)?;
            None
        }
    };
    firm_matches(conn, firm_id, bank, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_cursors_round_trip_and_reject_garbage() {
        assert_eq!(parse_sync_token(&sync_token(42)), Some(42));
        assert!(matches!(parse_since(Some(&sync_token(7))).expect("token"), Mode::SinceSeq(7)));
        assert!(matches!(parse_since(Some("2025-06-01T00:00:00Z")).expect("instant"), Mode::SinceTime(_)));
        assert!(matches!(parse_since(None).expect("none"), Mode::Full));
        assert!(parse_since(Some("yesterday")).is_err());
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&9i64.to_be_bytes());
        bytes.extend_from_slice(&5i64.to_be_bytes());
        bytes.extend_from_slice(Uuid::nil().as_bytes());
        bytes.extend_from_slice(Uuid::max().as_bytes());
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(encoded.len(), 64, "the documented shape");
        assert_eq!(decode_cursor(&encoded).expect("valid"), (9, (5, Uuid::nil(), Uuid::max())));
        for bad in ["", "!!", &sync_token(3), "bTF8eHw1fGF8Yg", &encoded[..60]] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
