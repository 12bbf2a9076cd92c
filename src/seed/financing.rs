//! Demo and benchmark data for the financing capability: partner banks, loan products modelled on
//! the reference (`financing-domain.md` §2), the LPR table, consents, lead banks and the
//! financial-tutoring whitelist; then one full rematch so the demo shows matches at once.
//!
//! The product terms are **indicative**: they follow broker-aggregator pages and press reports
//! cited in the reference ([P1]–[P13], [I1]–[I3]), not the banks' current offers.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::clock::SystemClock;
use crate::db::Db;
use crate::db::types::ts;
use crate::domain::bank::NewBank;
use crate::domain::events::EventKind;
use crate::domain::firm::{City, TaxCreditGrade, Tier, Venue};
use crate::domain::ids::{BankId, FirmId};
use crate::domain::product::{Collateral, Eligibility, LprFixing, ProductDraft, ProductKind, ProductTerms};
use crate::service::events::{self, NewEvent, Numbering};
use crate::service::matching::{self, RematchReport};
use crate::store::seed as seed_store;
use crate::store::{banks, lpr, products};

/// LPR fixings, percent (1-year, 5-year-and-above), on the dates they changed. Data recalled from
/// the PBOC / National Interbank Funding Center announcements (published on the 20th, or the next
/// working day); months without a change are omitted because a fixing stays in force until the
/// next one. Check against chinamoney.com.cn before relying on it.
pub const LPR_HISTORY: &[(&str, &str, &str)] = &[
    ("2019-08-20", "4.25", "4.85"),
    ("2019-09-20", "4.20", "4.85"),
    ("2019-11-20", "4.15", "4.80"),
    ("2020-02-20", "4.05", "4.75"),
    ("2020-04-20", "3.85", "4.65"),
    ("2021-12-20", "3.80", "4.65"),
    ("2022-01-20", "3.70", "4.60"),
    ("2022-05-20", "3.70", "4.45"),
    ("2022-08-22", "3.65", "4.30"),
    ("2023-06-20", "3.55", "4.20"),
    ("2023-08-21", "3.45", "4.20"),
    ("2024-02-20", "3.45", "3.95"),
    ("2024-07-22", "3.35", "3.85"),
    ("2024-10-21", "3.10", "3.60"),
    ("2025-05-20", "3.00", "3.50"),
];

/// (code, name, mailbox). `DEMO-BANK` is the bank the demo's bank key acts for.
pub const BANKS: &[(&str, &str, &str)] = &[
    ("DEMO-BANK", "齐鲁示范银行（演示）", "sme-finance@bank.example.cn"),
    ("QILU-BANK", "齐鲁银行", "kjjr@qilu-bank.example.cn"),
    ("ICBC-SD", "中国工商银行山东省分行", "sme@icbc-sd.example.cn"),
    ("BOC-SD", "中国银行山东省分行", "sme@boc-sd.example.cn"),
    ("CCB-SD", "中国建设银行山东省分行", "sme@ccb-sd.example.cn"),
    ("ABC-SD", "中国农业银行山东省分行", "sme@abc-sd.example.cn"),
    ("QD-BANK", "青岛银行", "kc@qdbank.example.cn"),
];

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

struct Template {
    bank: &'static str,
    name: &'static str,
    kind: ProductKind,
    amount: (&'static str, &'static str),
    term: (i32, i32),
    /// (spread bp, five-year LPR?)
    spread: (i32, bool),
    collateral: &'static [Collateral],
    eligibility: Eligibility,
}

fn tiers(t: &[Tier]) -> Vec<Tier> {
    t.to_vec()
}

/// Products modelled on the reference's table (§2.1; source tags in each comment).
fn templates() -> Vec<Template> {
    use Collateral::*;
    use TaxCreditGrade as G;
    vec![
        // [P1] ICBC 兴科贷: 高企 / 专精特新 / 科小; credit up to 500万 (专精特新), ~2.9 % quoted.
        Template {
            bank: "ICBC-SD",
            name: "兴科贷",
            kind: ProductKind::SrdiLoan,
            amount: ("300000", "5000000"),
            term: (6, 12),
            spread: (-10, false),
            collateral: &[Credit, Guarantee],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::InnovativeSme]),
                min_years_in_operation: Some(1),
                ..Eligibility::default()
            },
        },
        // [P1] ICBC "小巨人"贷: national 小巨人, up to 1000万, ~2.5 % (floor 2.1–2.2 %).
        Template {
            bank: "ICBC-SD",
            name: "\"小巨人\"贷",
            kind: ProductKind::LittleGiantLoan,
            amount: ("1000000", "10000000"),
            term: (6, 12),
            spread: (-50, false),
            collateral: &[Credit],
            eligibility: Eligibility { tiers: tiers(&[Tier::LittleGiant]), ..Eligibility::default() },
        },
        // [P12] ICBC 新一代经营快贷: operating ≥1 yr; credit ≤300万; inclusive-finance rate.
        Template {
            bank: "ICBC-SD",
            name: "经营快贷",
            kind: ProductKind::GeneralSme,
            amount: ("100000", "3000000"),
            term: (3, 12),
            spread: (35, false),
            collateral: &[Credit, Guarantee],
            eligibility: Eligibility {
                min_years_in_operation: Some(1),
                tax_credit_grades: vec![G::A, G::B, G::M],
                ..Eligibility::default()
            },
        },
        // [P3][P4] BOC 科创贷: tech SMEs ≥2 yrs, tax grade A/B/M, taxable sales ≥50万, ≤500万 credit, 1 yr.
        Template {
            bank: "BOC-SD",
            name: "科创贷",
            kind: ProductKind::SrdiLoan,
            amount: ("500000", "5000000"),
            term: (12, 12),
            spread: (0, false),
            collateral: &[Credit],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::InnovativeSme]),
                min_years_in_operation: Some(2),
                min_revenue: Some(d("500000")),
                tax_credit_grades: vec![G::A, G::B, G::M],
                ..Eligibility::default()
            },
        },
        // [P5] CCB 善科贷: core IP, R&D typically ≥3 % of sales, ≤1000万, ≤3 yrs, from 3.2 %.
        Template {
            bank: "CCB-SD",
            name: "善科贷",
            kind: ProductKind::SrdiLoan,
            amount: ("500000", "10000000"),
            term: (12, 36),
            spread: (20, false),
            collateral: &[Credit],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::InnovativeSme]),
                min_rd_ratio: Some(d("0.03")),
                min_invention_patents: Some(1),
                ..Eligibility::default()
            },
        },
        // [P1][P11] ABC 科捷贷 / "小巨人"贷: national-level firms up to 1000万, ~3.3 %.
        Template {
            bank: "ABC-SD",
            name: "科捷贷",
            kind: ProductKind::LittleGiantLoan,
            amount: ("1000000", "10000000"),
            term: (12, 36),
            spread: (30, false),
            collateral: &[Credit, IpPledge],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::LittleGiant]),
                tax_credit_grades: vec![G::A, G::B],
                ..Eligibility::default()
            },
        },
        // [P6] 齐鲁银行 科研贷: up to 10 yrs, example 5000万, credit or IP pledge.
        Template {
            bank: "QILU-BANK",
            name: "科研贷（中长期项目）",
            kind: ProductKind::ProjectLoan,
            amount: ("5000000", "50000000"),
            term: (36, 120),
            spread: (-30, true),
            collateral: &[Credit, IpPledge, Mortgage],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::ProvincialSrdi]),
                min_years_in_operation: Some(3),
                min_revenue: Some(d("50000000")),
                ..Eligibility::default()
            },
        },
        // Plan task 19 专精特新贷 at 齐鲁银行 ([P2]: stay at or below LPR × 1.3; [P13]: as low as LPR).
        Template {
            bank: "QILU-BANK",
            name: "专精特新贷",
            kind: ProductKind::SrdiLoan,
            amount: ("500000", "10000000"),
            term: (6, 36),
            spread: (-20, false),
            collateral: &[Credit],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::ProvincialSrdi]),
                min_years_in_operation: Some(2),
                min_revenue: Some(d("10000000")),
                min_rd_ratio: Some(d("0.03")),
                ..Eligibility::default()
            },
        },
        // [I1]–[I3] 知识产权质押: ≥2 yrs, tax grade B or better, invention patents preferred.
        Template {
            bank: "QILU-BANK",
            name: "知识产权质押贷（专利创新贷）",
            kind: ProductKind::PatentLoan,
            amount: ("1000000", "10000000"),
            term: (12, 36),
            spread: (50, false),
            collateral: &[IpPledge],
            eligibility: Eligibility {
                min_years_in_operation: Some(2),
                min_invention_patents: Some(3),
                tax_credit_grades: vec![G::A, G::B],
                ..Eligibility::default()
            },
        },
        // [P8] 青岛银行 科创 model: Qingdao tech firms, pure credit (example 800万 first loan).
        Template {
            bank: "QD-BANK",
            name: "人才贷·科创贷",
            kind: ProductKind::SrdiLoan,
            amount: ("500000", "8000000"),
            term: (12, 36),
            spread: (0, false),
            collateral: &[Credit],
            eligibility: Eligibility {
                cities: vec![City::Qingdao],
                industry_prefixes: vec!["C".into(), "I65".into(), "M73".into()],
                ..Eligibility::default()
            },
        },
        // The demo bank: a broad 信用应急贷 (short credit line, rows 5 and 9) ...
        Template {
            bank: "DEMO-BANK",
            name: "信用应急贷",
            kind: ProductKind::EmergencyCredit,
            amount: ("100000", "2000000"),
            term: (3, 12),
            spread: (-10, false),
            collateral: &[Credit, GovGuarantee],
            eligibility: Eligibility {
                min_years_in_operation: Some(1),
                tax_credit_grades: vec![G::A, G::B, G::M],
                ..Eligibility::default()
            },
        },
        // ... a 专精特新贷 ...
        Template {
            bank: "DEMO-BANK",
            name: "专精特新贷",
            kind: ProductKind::SrdiLoan,
            amount: ("500000", "10000000"),
            term: (6, 36),
            spread: (-20, false),
            collateral: &[Credit],
            eligibility: Eligibility {
                tiers: tiers(&[Tier::ProvincialSrdi]),
                min_years_in_operation: Some(2),
                min_revenue: Some(d("20000000")),
                ..Eligibility::default()
            },
        },
        // ... a 主办行专属 product (plan: 主办行 + 专属信贷产品) ...
        Template {
            bank: "DEMO-BANK",
            name: "主办行专属贷",
            kind: ProductKind::GeneralSme,
            amount: ("1000000", "30000000"),
            term: (12, 60),
            spread: (-40, false),
            collateral: &[Credit, Guarantee],
            eligibility: Eligibility { lead_bank_only: true, ..Eligibility::default() },
        },
        // ... and pre-IPO credit for the listing reserve pool.
        Template {
            bank: "DEMO-BANK",
            name: "上市后备企业贷",
            kind: ProductKind::ProjectLoan,
            amount: ("5000000", "50000000"),
            term: (12, 60),
            spread: (-30, true),
            collateral: &[Credit, IpPledge],
            eligibility: Eligibility {
                reserve_pool_only: true,
                target_venues: vec![Venue::Bse, Venue::Star, Venue::Chinext],
                min_revenue: Some(d("30000000")),
                ..Eligibility::default()
            },
        },
    ]
}

fn terms(t: &Template) -> anyhow::Result<ProductTerms> {
    ProductDraft {
        name: Some(t.name.to_owned()),
        kind: Some(t.kind),
        amount_min: Some(d(t.amount.0)),
        amount_max: Some(d(t.amount.1)),
        term_months_min: Some(t.term.0),
        term_months_max: Some(t.term.1),
        rate_spread_bp: Some(t.spread.0),
        lpr_tenor: Some(if t.spread.1 {
            crate::domain::product::LprTenor::FiveYear
        } else {
            crate::domain::product::LprTenor::OneYear
        }),
        fixed_rate: None,
        collateral: t.collateral.to_vec(),
        eligibility: t.eligibility.clone(),
        valid_from: None,
        valid_to: None,
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("seed product {} is invalid: {e:?}", t.name))
}

/// A synthetic variant of template `i` (benchmarks need more products than the realistic set):
/// the same shape with shifted thresholds and, for some, a city list.
fn variant(base: &ProductTerms, i: usize, rng: &mut StdRng) -> ProductTerms {
    let mut t = base.clone();
    t.name = format!("{}（第{}期）", base.name, i + 1);
    let e = &mut t.eligibility;
    if let Some(r) = e.min_revenue {
        e.min_revenue = Some((r * Decimal::from(rng.random_range(5..=30)) / Decimal::TEN).round_dp(2));
    } else if rng.random_bool(0.5) {
        e.min_revenue = Some(Decimal::from(rng.random_range(5..=200) * 1_000_000));
    }
    if rng.random_bool(0.3) {
        let mut cities: Vec<City> = (0..rng.random_range(1..=4)).map(|_| City::ALL[rng.random_range(0..16)]).collect();
        cities.sort();
        cities.dedup();
        e.cities = cities;
    }
    if rng.random_bool(0.3) {
        e.min_years_in_operation = Some(rng.random_range(1..=8));
    }
    t
}

#[derive(Debug, Clone)]
pub struct FinancingSeedReport {
    pub banks: usize,
    pub products: usize,
    pub lpr_fixings: usize,
    pub consents: usize,
    pub lead_banks: usize,
    pub tutoring: usize,
    pub rematch: Option<RematchReport>,
}

impl std::fmt::Display for FinancingSeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} banks, {} loan products, {} LPR fixings, {} new consents, {} lead banks, {} on the tutoring whitelist",
            self.banks, self.products, self.lpr_fixings, self.consents, self.lead_banks, self.tutoring
        )?;
        if let Some(r) = &self.rematch {
            write!(
                f,
                "; matching: {} firms × {} products, {} active matches ({} ms)",
                r.counts.firms, r.products, r.counts.eligible, r.duration_ms
            )?;
        }
        Ok(())
    }
}

/// Seeds banks, products (at least `min_products`, topping the realistic set up with variants),
/// the LPR table, consents (about 60 % of firms consent to all partner banks), lead banks (~15 %),
/// the tutoring whitelist (~20 %), and a bank-specific consent of `demo_firm` to `DEMO-BANK`;
/// then rebuilds the matches. Idempotent: existing banks, products and consents are kept.
pub async fn seed(
    db: &Db,
    min_products: usize,
    seed_value: u64,
    demo_firm: Option<FirmId>,
    now: DateTime<Utc>,
) -> anyhow::Result<FinancingSeedReport> {
    let mut rng = StdRng::seed_from_u64(seed_value ^ 0x4f1b_bc59);
    let mut report = FinancingSeedReport {
        banks: 0,
        products: 0,
        lpr_fixings: 0,
        consents: 0,
        lead_banks: 0,
        tutoring: 0,
        rematch: None,
    };
    let mut tx = db.begin().await?;
    let mut bank_ids = Vec::new();
    for (code, name, mail) in BANKS {
        let id = match banks::get_by_code(&mut tx, code).await? {
            Some(b) => b.id,
            None => {
                let new = NewBank { code: (*code).into(), name: (*name).into(), contact_email: (*mail).into() };
                banks::insert(&mut tx, &new, now).await?.id
            }
        };
        bank_ids.push((*code, id));
    }
    report.banks = bank_ids.len();
    for (on, one, five) in LPR_HISTORY {
        let fixing = LprFixing { effective_on: on.parse::<NaiveDate>()?, one_year: d(one), five_year: d(five) };
        lpr::put(&mut tx, &fixing, now).await?;
    }
    report.lpr_fixings = LPR_HISTORY.len();
    let existing = seed_store::count_products(&mut tx).await?;
    let bank_of = |code: &str| {
        bank_ids
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, id)| *id)
            .ok_or_else(|| anyhow::anyhow!("a product template names bank {code}, which the seed does not create"))
    };
    if existing == 0 {
        let templates = templates();
        let base: Vec<(BankId, ProductTerms)> =
            templates.iter().map(|t| Ok((bank_of(t.bank)?, terms(t)?))).collect::<anyhow::Result<_>>()?;
        for (bank, t) in &base {
            products::insert(&mut tx, *bank, t, now).await?;
        }
        for i in 0..min_products.saturating_sub(base.len()) {
            let (bank, t) = &base[i % base.len()];
            products::insert(&mut tx, *bank, &variant(t, i, &mut rng), now).await?;
        }
    }
    report.products = seed_store::count_products(&mut tx).await?;

    // Consents, lead banks and the whitelist for firms that have none yet, in bulk.
    let firms = seed_store::financing_states(&mut tx).await?;
    let mut consent_rows: Vec<(Uuid, FirmId, Option<BankId>)> = Vec::new();
    let mut lead: Vec<(FirmId, BankId)> = Vec::new();
    let mut tutoring: Vec<FirmId> = Vec::new();
    for r in &firms {
        let id = r.id;
        let roll = rng.random_range(0..100);
        if r.consents == 0 {
            if roll < 60 {
                consent_rows.push((Uuid::now_v7(), id, None));
            }
            if Some(id) == demo_firm {
                consent_rows.push((Uuid::now_v7(), id, Some(bank_of("DEMO-BANK")?)));
            }
        }
        if r.lead_bank_id.is_none() && (roll % 7 == 0 || Some(id) == demo_firm) {
            let bank = if Some(id) == demo_firm {
                bank_of("DEMO-BANK")?
            } else {
                bank_ids[rng.random_range(0..bank_ids.len())].1
            };
            lead.push((id, bank));
        }
        if rng.random_range(0..100) < 20 {
            tutoring.push(id);
        }
    }
    let expires = ts(now + Duration::days(2 * 365));
    for chunk in consent_rows.chunks(500) {
        seed_store::insert_consents(&mut tx, chunk, now, &expires).await?;
        let granted = chunk
            .iter()
            .map(|(cid, firm, bank)| {
                let data = serde_json::json!({ "consent_id": cid, "firm_id": firm, "bank_id": bank,
                    "purpose": "financing_matching", "expires_at": expires });
                NewEvent {
                    numbering: Numbering::Unnumbered,
                    ..NewEvent::fact(
                        EventKind::ConsentGranted,
                        Some(*firm),
                        *bank,
                        format!("consent:{cid}:granted"),
                        data,
                    )
                }
            })
            .collect();
        events::record_many(&mut tx, granted, now).await?;
    }
    report.consents = consent_rows.len();
    for (firm, bank) in &lead {
        seed_store::set_lead_bank(&mut tx, *firm, *bank).await?;
    }
    report.lead_banks = lead.len();
    for chunk in tutoring.chunks(500) {
        seed_store::whitelist_for_tutoring(&mut tx, chunk).await?;
    }
    report.tutoring = tutoring.len();
    tx.commit().await?;
    report.rematch = Some(matching::rematch(db, &SystemClock).await.map_err(|e| anyhow::anyhow!("rematch: {e}"))?);
    Ok(report)
}

/// The firm the demo's enterprise key acts for (the same choice as `seed::demo_subjects`).
pub async fn demo_firm(db: &Db) -> anyhow::Result<Option<FirmId>> {
    let mut conn = db.pool().acquire().await?;
    Ok(seed_store::demo_firm(&mut conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_a_valid_product_and_lpr_history_is_ordered() {
        for t in templates() {
            let p = terms(&t).expect("valid");
            assert!(BANKS.iter().any(|(c, _, _)| *c == t.bank), "{}", t.name);
            let mut rng = StdRng::seed_from_u64(1);
            for i in 0..5 {
                let v = variant(&p, i, &mut rng);
                assert!(ProductDraft::from(&v).validate().is_ok(), "{} variant {i}", t.name);
            }
        }
        assert!(LPR_HISTORY.windows(2).all(|w| w[0].0 < w[1].0));
        for (on, one, five) in LPR_HISTORY {
            assert!(on.parse::<NaiveDate>().is_ok());
            assert!(d(one) > Decimal::ZERO && d(one) <= d(five), "{on}");
        }
    }
}
