//! The inputs kept beside a firm's record (see `domain::firm_inputs`): dated share capital and
//! market-value estimates, equity rounds, attestations, tier scoring inputs per fiscal year, tier
//! recognition years. Writes are batched multi-row statements, so the bulk import and a single API
//! call share them; "replace" writes delete the firm's section first, in the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{Bind, RowExt, list_placeholders, values_placeholders};
use crate::db::types::{day, fen, opt_fen, ts};
use crate::domain::firm_inputs::{
    AttestationStatement, EquityFinancingRecord, EquityRound, FirmRecords, MarketValueEstimate, ShareCapitalEntry,
    TierInputs, TierRecognition,
};
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};

fn money(field: &str, v: rust_decimal::Decimal) -> AppResult<i64> {
    fen(v).map_err(|e| AppError::field(field, "out_of_range", e.to_string()))
}

fn opt_money(field: &str, v: Option<rust_decimal::Decimal>) -> AppResult<Option<i64>> {
    opt_fen(v).map_err(|e| AppError::field(field, "out_of_range", e.to_string()))
}

fn decimal_text(v: Option<rust_decimal::Decimal>) -> Bind {
    Bind::OptText(v.map(|d| d.normalize().to_string()))
}

/// `INSERT INTO … (cols) VALUES (…), (…) tail` in chunks that fit the backend's parameter limit.
async fn insert_rows(
    conn: &mut Conn,
    dialect: Dialect,
    head: &str,
    cols: usize,
    tail: &str,
    rows: Vec<Vec<Bind>>,
) -> AppResult<usize> {
    let n = rows.len();
    for chunk in rows.chunks(dialect.batch_rows(cols)) {
        let sql = format!("{head} VALUES {} {tail}", values_placeholders(chunk.len(), cols, 1));
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for b in row {
                q = b.clone().bind_to(q);
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(n)
}

/// A section kept per firm that a writer may replace whole.
#[derive(Debug, Clone, Copy)]
pub enum Section {
    ShareCapital,
    MarketValueEstimates,
    TierRecognitions,
}

/// Removes a firm's section, before the writer puts the new entries.
pub async fn clear(conn: &mut Conn, section: Section, firm_id: FirmId) -> AppResult<()> {
    let table = match section {
        Section::ShareCapital => "share_capital_history",
        Section::MarketValueEstimates => "market_value_estimates",
        Section::TierRecognitions => "tier_recognitions",
    };
    sqlx::query(&format!("DELETE FROM {table} WHERE firm_id = $1"))
        .bind(firm_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads.

const TIER_INPUT_COLUMNS: &str = "fiscal_year, ip_best_class, class_i_ip_in_use, strategic_emerging_industry, \
    niche_market_years, product_chain_role, digitalisation_level, quality_items, rd_institution_level, \
    national_niche_market_share, provincial_key_industry, innovative_operation_items, niche_share_rank, \
    cloud_migrated, key_chain_supplier, source";

fn tier_inputs_from_row(r: &AnyRow) -> Result<TierInputs, sqlx::Error> {
    Ok(TierInputs {
        fiscal_year: r.int("fiscal_year")? as i32,
        ip_best_class: r.opt_vocab("ip_best_class")?,
        class_i_ip_in_use: r.opt_int("class_i_ip_in_use")?,
        strategic_emerging_industry: r.opt_flag("strategic_emerging_industry")?,
        niche_market_years: r.opt_decimal("niche_market_years")?,
        product_chain_role: r.opt_vocab("product_chain_role")?,
        digitalisation_level: r.opt_int("digitalisation_level")?,
        quality_items: r.opt_int("quality_items")?,
        rd_institution_level: r.opt_vocab("rd_institution_level")?,
        national_niche_market_share: r.opt_decimal("national_niche_market_share")?,
        provincial_key_industry: r.opt_vocab("provincial_key_industry")?,
        innovative_operation_items: r.opt_int("innovative_operation_items")?,
        niche_share_rank: r.opt_vocab("niche_share_rank")?,
        cloud_migrated: r.opt_flag("cloud_migrated")?,
        key_chain_supplier: r.opt_flag("key_chain_supplier")?,
        source: r.opt_vocab("source")?,
    })
}

/// Everything on record for one firm.
pub async fn load(conn: &mut Conn, firm_id: FirmId) -> AppResult<FirmRecords> {
    let id = firm_id.to_string();
    let mut out = FirmRecords::default();
    let rows = sqlx::query(
        "SELECT effective_on, amount, document_ref, source FROM share_capital_history \
         WHERE firm_id = $1 ORDER BY effective_on",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        out.share_capital.push(ShareCapitalEntry {
            effective_on: r.day("effective_on")?,
            amount: r.money("amount")?,
            document_ref: r.opt_text("document_ref")?,
            source: r.vocab("source")?,
        });
    }
    let rows = sqlx::query(
        "SELECT estimated_on, amount, basis, document_ref, source FROM market_value_estimates \
         WHERE firm_id = $1 ORDER BY estimated_on",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        out.market_value_estimates.push(MarketValueEstimate {
            estimated_on: r.day("estimated_on")?,
            amount: r.money("amount")?,
            basis: r.opt_text("basis")?,
            document_ref: r.opt_text("document_ref")?,
            source: r.vocab("source")?,
        });
    }
    let record = sqlx::query("SELECT complete_through FROM equity_financing_records WHERE firm_id = $1")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(record) = record {
        let rows = sqlx::query(
            "SELECT id, paid_in_on, amount, post_money_valuation, round, investor, investor_kind, \
             by_qualified_institution, document_ref, source FROM equity_rounds WHERE firm_id = $1 \
             ORDER BY paid_in_on, id",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?;
        let mut rounds = Vec::with_capacity(rows.len());
        for r in &rows {
            rounds.push(EquityRound {
                id: r.uuid("id")?,
                paid_in_on: r.day("paid_in_on")?,
                amount: r.money("amount")?,
                post_money_valuation: r.opt_money("post_money_valuation")?,
                round: r.opt_vocab("round")?,
                investor: r.opt_text("investor")?,
                investor_kind: r.opt_vocab("investor_kind")?,
                by_qualified_institution: r.flag("by_qualified_institution")?,
                document_ref: r.opt_text("document_ref")?,
                source: r.vocab("source")?,
            });
        }
        out.equity_financings =
            Some(EquityFinancingRecord { complete_through: record.opt_day("complete_through")?, rounds });
    }
    let rows = sqlx::query(
        "SELECT tier, recognized_year, document_ref FROM tier_recognitions WHERE firm_id = $1 ORDER BY recognized_year",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        out.tier_recognitions.push(TierRecognition {
            tier: r.vocab("tier")?,
            recognized_year: r.int("recognized_year")? as i32,
            document_ref: r.opt_text("document_ref")?,
        });
    }
    out.tier_recognitions.sort_by_key(|r| r.tier);
    let rows = sqlx::query(
        "SELECT id, key, holds, stated_on, valid_until, document_ref, remark, source, recorded_at FROM attestations \
         WHERE firm_id = $1 ORDER BY recorded_at, id",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        out.attestations.push(AttestationStatement {
            id: r.uuid("id")?,
            key: r.text("key")?,
            holds: r.flag("holds")?,
            stated_on: r.day("stated_on")?,
            valid_until: r.opt_day("valid_until")?,
            document_ref: r.opt_text("document_ref")?,
            remark: r.opt_text("remark")?,
            source: r.vocab("source")?,
            recorded_at: r.ts("recorded_at")?,
        });
    }
    let rows =
        sqlx::query(&format!("SELECT {TIER_INPUT_COLUMNS} FROM tier_inputs WHERE firm_id = $1 ORDER BY fiscal_year"))
            .bind(&id)
            .fetch_all(&mut *conn)
            .await?;
    out.tier_inputs = rows.iter().map(tier_inputs_from_row).collect::<Result<_, _>>()?;
    Ok(out)
}

/// The firms' ids by credit code, for writers that know firms by code (the bulk import).
pub async fn ids_by_code(
    conn: &mut Conn,
    dialect: Dialect,
    codes: &[&str],
) -> AppResult<std::collections::HashMap<String, FirmId>> {
    let mut out = std::collections::HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(dialect.batch_rows(1)) {
        let sql =
            format!("SELECT id, credit_code FROM firms WHERE credit_code IN ({})", list_placeholders(chunk.len(), 1));
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(c.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(r.text("credit_code")?, r.id("id")?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Writes.

/// Inserts or replaces share-capital entries (by firm and date).
pub async fn upsert_share_capital(
    conn: &mut Conn,
    dialect: Dialect,
    rows: &[(FirmId, &ShareCapitalEntry)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut binds = Vec::with_capacity(rows.len());
    for (firm, e) in rows {
        binds.push(vec![
            Bind::Text(firm.to_string()),
            Bind::Text(day(e.effective_on)),
            Bind::Int(money("share_capital.amount", e.amount)?),
            Bind::OptText(e.document_ref.clone()),
            Bind::Text(e.source.as_str().to_owned()),
            Bind::Text(ts(now)),
        ]);
    }
    insert_rows(
        conn,
        dialect,
        "INSERT INTO share_capital_history (firm_id, effective_on, amount, document_ref, source, recorded_at)",
        6,
        "ON CONFLICT (firm_id, effective_on) DO UPDATE SET amount = excluded.amount, \
         document_ref = excluded.document_ref, source = excluded.source, recorded_at = excluded.recorded_at",
        binds,
    )
    .await
}

/// Inserts or replaces market-value estimates (by firm and date).
pub async fn upsert_estimates(
    conn: &mut Conn,
    dialect: Dialect,
    rows: &[(FirmId, &MarketValueEstimate)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut binds = Vec::with_capacity(rows.len());
    for (firm, e) in rows {
        binds.push(vec![
            Bind::Text(firm.to_string()),
            Bind::Text(day(e.estimated_on)),
            Bind::Int(money("market_value_estimates.amount", e.amount)?),
            Bind::OptText(e.basis.clone()),
            Bind::OptText(e.document_ref.clone()),
            Bind::Text(e.source.as_str().to_owned()),
            Bind::Text(ts(now)),
        ]);
    }
    insert_rows(
        conn,
        dialect,
        "INSERT INTO market_value_estimates (firm_id, estimated_on, amount, basis, document_ref, source, recorded_at)",
        7,
        "ON CONFLICT (firm_id, estimated_on) DO UPDATE SET amount = excluded.amount, basis = excluded.basis, \
         document_ref = excluded.document_ref, source = excluded.source, recorded_at = excluded.recorded_at",
        binds,
    )
    .await
}

/// Replaces each firm's financing record whole: the completeness date and every round.
pub async fn replace_financings(
    conn: &mut Conn,
    dialect: Dialect,
    records: &[(FirmId, &EquityFinancingRecord)],
    source: crate::domain::firm_inputs::InputSource,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if records.is_empty() {
        return Ok(0);
    }
    for chunk in records.chunks(dialect.batch_rows(1)) {
        let sql = format!("DELETE FROM equity_rounds WHERE firm_id IN ({})", list_placeholders(chunk.len(), 1));
        let mut q = sqlx::query(&sql);
        for (firm, _) in chunk {
            q = q.bind(firm.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    let heads: Vec<Vec<Bind>> = records
        .iter()
        .map(|(firm, r)| {
            vec![
                Bind::Text(firm.to_string()),
                Bind::OptText(r.complete_through.map(day)),
                Bind::Text(source.as_str().to_owned()),
                Bind::Text(ts(now)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        dialect,
        "INSERT INTO equity_financing_records (firm_id, complete_through, source, recorded_at)",
        4,
        "ON CONFLICT (firm_id) DO UPDATE SET complete_through = excluded.complete_through, \
         source = excluded.source, recorded_at = excluded.recorded_at",
        heads,
    )
    .await?;
    let mut rounds = Vec::new();
    for (firm, record) in records {
        for r in &record.rounds {
            rounds.push(vec![
                Bind::Text(r.id.to_string()),
                Bind::Text(firm.to_string()),
                Bind::Text(day(r.paid_in_on)),
                Bind::Int(money("equity_financings.rounds.amount", r.amount)?),
                Bind::OptInt(opt_money("equity_financings.rounds.post_money_valuation", r.post_money_valuation)?),
                Bind::OptText(r.round.map(|x| x.as_str().to_owned())),
                Bind::OptText(r.investor.clone()),
                Bind::OptText(r.investor_kind.map(|x| x.as_str().to_owned())),
                Bind::Bool(r.by_qualified_institution),
                Bind::OptText(r.document_ref.clone()),
                Bind::Text(r.source.as_str().to_owned()),
                Bind::Text(ts(now)),
            ]);
        }
    }
    insert_rows(
        conn,
        dialect,
        "INSERT INTO equity_rounds (id, firm_id, paid_in_on, amount, post_money_valuation, round, investor, \
         investor_kind, by_qualified_institution, document_ref, source, recorded_at)",
        12,
        "",
        rounds,
    )
    .await?;
    Ok(records.len())
}

/// Inserts or replaces first-recognition years (by firm and tier).
pub async fn upsert_recognitions(
    conn: &mut Conn,
    dialect: Dialect,
    rows: &[(FirmId, &TierRecognition)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let binds = rows
        .iter()
        .map(|(firm, r)| {
            vec![
                Bind::Text(firm.to_string()),
                Bind::Text(r.tier.as_str().to_owned()),
                Bind::Int(i64::from(r.recognized_year)),
                Bind::OptText(r.document_ref.clone()),
                Bind::Text(ts(now)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        dialect,
        "INSERT INTO tier_recognitions (firm_id, tier, recognized_year, document_ref, recorded_at)",
        5,
        "ON CONFLICT (firm_id, tier) DO UPDATE SET recognized_year = excluded.recognized_year, \
         document_ref = excluded.document_ref, recorded_at = excluded.recorded_at",
        binds,
    )
    .await
}

/// Appends statements; a statement whose id is already stored is skipped (an import run twice
/// records each statement once).
pub async fn insert_attestations(
    conn: &mut Conn,
    dialect: Dialect,
    rows: &[(FirmId, &AttestationStatement, Option<Uuid>)],
) -> AppResult<usize> {
    let binds = rows
        .iter()
        .map(|(firm, s, actor)| {
            vec![
                Bind::Text(s.id.to_string()),
                Bind::Text(firm.to_string()),
                Bind::Text(s.key.clone()),
                Bind::Bool(s.holds),
                Bind::Text(day(s.stated_on)),
                Bind::OptText(s.valid_until.map(day)),
                Bind::OptText(s.document_ref.clone()),
                Bind::OptText(s.remark.clone()),
                Bind::Text(s.source.as_str().to_owned()),
                Bind::OptText(actor.map(|a| a.to_string())),
                Bind::Text(ts(s.recorded_at)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        dialect,
        "INSERT INTO attestations (id, firm_id, key, holds, stated_on, valid_until, document_ref, remark, source, \
         actor_key_id, recorded_at)",
        11,
        "ON CONFLICT (id) DO NOTHING",
        binds,
    )
    .await
}

/// Inserts or replaces whole fiscal years of tier inputs (PUT semantics per year).
pub async fn upsert_tier_inputs(
    conn: &mut Conn,
    dialect: Dialect,
    rows: &[(FirmId, &TierInputs)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let vocab = |v: Option<&'static str>| Bind::OptText(v.map(str::to_owned));
    let binds = rows
        .iter()
        .map(|(firm, t)| {
            vec![
                Bind::Text(firm.to_string()),
                Bind::Int(i64::from(t.fiscal_year)),
                vocab(t.ip_best_class.map(|v| v.as_str())),
                Bind::OptInt(t.class_i_ip_in_use),
                Bind::OptBool(t.strategic_emerging_industry),
                decimal_text(t.niche_market_years),
                vocab(t.product_chain_role.map(|v| v.as_str())),
                Bind::OptInt(t.digitalisation_level),
                Bind::OptInt(t.quality_items),
                vocab(t.rd_institution_level.map(|v| v.as_str())),
                decimal_text(t.national_niche_market_share),
                vocab(t.provincial_key_industry.map(|v| v.as_str())),
                Bind::OptInt(t.innovative_operation_items),
                vocab(t.niche_share_rank.map(|v| v.as_str())),
                Bind::OptBool(t.cloud_migrated),
                Bind::OptBool(t.key_chain_supplier),
                Bind::Text(t.source.unwrap_or(crate::domain::firm_inputs::InputSource::Office).as_str().to_owned()),
                Bind::Text(ts(now)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        dialect,
        &format!("INSERT INTO tier_inputs (firm_id, {TIER_INPUT_COLUMNS}, updated_at)"),
        18,
        "ON CONFLICT (firm_id, fiscal_year) DO UPDATE SET ip_best_class = excluded.ip_best_class, \
         class_i_ip_in_use = excluded.class_i_ip_in_use, \
         strategic_emerging_industry = excluded.strategic_emerging_industry, \
         niche_market_years = excluded.niche_market_years, product_chain_role = excluded.product_chain_role, \
         digitalisation_level = excluded.digitalisation_level, quality_items = excluded.quality_items, \
         rd_institution_level = excluded.rd_institution_level, \
         national_niche_market_share = excluded.national_niche_market_share, \
         provincial_key_industry = excluded.provincial_key_industry, \
         innovative_operation_items = excluded.innovative_operation_items, \
         niche_share_rank = excluded.niche_share_rank, cloud_migrated = excluded.cloud_migrated, \
         key_chain_supplier = excluded.key_chain_supplier, source = excluded.source, updated_at = excluded.updated_at",
        binds,
    )
    .await
}
