//! A deterministic synthetic population of Shandong firms, for demos, tests and benchmarks.
//!
//! Plausible, not real: cities are weighted by approximate GDP, industries lean to manufacturing
//! (GB/T 4754 section C), tiers follow a reserve pool's skew towards recognised firms, and three
//! fiscal years grow from a log-uniform revenue base with tier-dependent R&D intensity and patents.
//! The same seed always yields the same firms and credit codes (all valid under GB 32100-2015).

pub mod financing;

use crate::csv_out::CsvWriter;
use crate::domain::ids::{BankId, FirmId};
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Db;
use crate::domain::credit_code::CreditCode;
use crate::domain::events::EventKind;
use crate::domain::firm::{City, FinancialsInput, FirmInput, Tier, Venue};
use crate::domain::firm_inputs::{
    AttestationInput, EquityFinancingsInput, EquityRoundInput, TierInputsInput, TierRecognitionInput,
};
use crate::service::events::{self, NewEvent, Numbering};
use crate::service::firm_inputs::{self as inputs_csv, RawInputs};
use crate::service::import::{self, RawRow};
use crate::store;

mod synthetic;
pub use synthetic::*;

pub struct SeedReport {
    pub firms: usize,
    pub created: usize,
    pub pool: usize,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} firms ({} new), {} admitted to the reserve pool", self.firms, self.created, self.pool)
    }
}

/// Firms per import window when seeding.
const SEED_WINDOW_FIRMS: usize = 2_000;

/// Seeds `n` firms and admits the first `pool` of them
/// to the reserve pool. Idempotent: re-running upserts the same firms and skips admitted ones.
pub async fn seed(db: &Db, n: usize, pool: usize, seed_value: u64, now: DateTime<Utc>) -> anyhow::Result<SeedReport> {
    seed_with(db, n, pool, seed_value, now, &|_, _| {}).await
}

/// [`seed`], generating and importing the firms window by window (one transaction), so memory
/// stays flat however many firms are seeded; `progress` hears (firms done, n).
pub async fn seed_with(
    db: &Db,
    n: usize,
    pool: usize,
    seed_value: u64,
    now: DateTime<Utc>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<SeedReport> {
    let today = now.date_naive();
    let mut firms = synthetic_firms(n, seed_value, today);
    let mut codes: Vec<String> = Vec::with_capacity(pool.min(n));
    let windows = std::iter::from_fn(|| {
        let window: Vec<RawRow> = firms.by_ref().take(SEED_WINDOW_FIRMS).flatten().collect();
        for r in window.iter().step_by(3) {
            if codes.len() < pool
                && let Some(code) = &r.firm.credit_code
            {
                codes.push(code.clone());
            }
        }
        (!window.is_empty()).then_some(Ok(window))
    });
    let report = import::run_windows(db, windows, import::ImportMode::default(), now, 3 * n as u64, &|rows, _| {
        progress(rows / 3, n as u64)
    })
    .await
    .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
    if report.rejected > 0 {
        anyhow::bail!("synthetic rows were rejected: {:?}", report.errors.first());
    }
    let mut rng = StdRng::seed_from_u64(seed_value ^ 0x9e37_79b9);
    let mut admitted = 0;
    let mut tx = db.begin().await?;
    for chunk in codes.chunks(db.dialect().batch_rows(8)) {
        let found = store::seed::unpooled_by_credit_code(&mut tx, chunk).await?;
        if found.is_empty() {
            continue;
        }
        let mut admissions = Vec::with_capacity(found.len());
        for r in &found {
            let venue = match rng.random_range(0..100) {
                0..35 => Venue::Bse,
                35..50 => Venue::Star,
                50..70 => Venue::Chinext,
                70..90 => Venue::Neeq,
                _ => Venue::RegionalSrdiBoard,
            };
            let key_firm = rng.random_range(0..100) < 22;
            let admitted_on = today - chrono::Duration::days(rng.random_range(30..1500));
            admissions.push(store::seed::Admission { firm_id: r.id, venue, key_firm, admitted_on });
        }
        store::seed::insert_admissions(&mut tx, &admissions, now).await?;
        // Each admission is its firm's next change; the firm rows are bumped just below.
        let admitted_events = admissions
            .iter()
            .zip(&found)
            .map(|(a, r)| NewEvent {
                numbering: Numbering::Given(r.event_seq + 1),
                ..NewEvent::firm_change(
                    EventKind::ReservePoolAdmitted,
                    a.firm_id,
                    serde_json::json!({ "firm_id": a.firm_id, "target_venue": a.venue, "key_firm": a.key_firm }),
                )
            })
            .collect();
        events::record_many(&mut tx, admitted_events, now).await?;
        let ids: Vec<FirmId> = admissions.iter().map(|a| a.firm_id).collect();
        store::seed::mark_pooled(&mut tx, &ids).await?;
        admitted += admissions.len();
    }
    tx.commit().await?;
    Ok(SeedReport { firms: n, created: report.created, pool: admitted })
}

/// The bank, fund and firm that the demo's keys act for.
#[derive(Debug, Clone, Copy)]
pub struct DemoSubjects {
    pub bank_id: BankId,
    pub fund_id: Uuid,
    pub firm_id: FirmId,
}

pub async fn demo_subjects(db: &Db, now: DateTime<Utc>) -> anyhow::Result<DemoSubjects> {
    let mut conn = db.pool().acquire().await?;
    let bank_id =
        store::seed::demo_bank(&mut conn, "DEMO-BANK", "齐鲁示范银行（演示）", "sme-finance@bank.example.cn", now)
            .await?;
    let fund_id =
        store::seed::demo_fund(&mut conn, "齐鲁示范创投基金（演示）", "vc", "deals@fund.example.cn", now).await?;
    let Some(firm_id) = store::seed::demo_firm(&mut conn).await? else {
        anyhow::bail!("the database has no firm in the reserve pool for the demo enterprise key");
    };
    drop(conn);
    seed_roadshows(db, firm_id, now).await?;
    Ok(DemoSubjects { bank_id, fund_id, firm_id })
}

/// Demo roadshows: one published roadshow at each 齐鲁企舞 centre and one online, in the
/// coming weeks, so the demo fund key can register; the demo firm presents at the Jinan one; key
/// reserve firms have opted in to investor visibility, so presenter recommendations have material.
/// Runs only while there are no roadshows yet.
pub async fn seed_roadshows(db: &Db, demo_firm: FirmId, now: DateTime<Utc>) -> anyhow::Result<usize> {
    use crate::domain::roadshow::{RoadshowInput, RoadshowStatus};
    use crate::store::roadshows;

    let mut tx = db.begin().await?;
    if roadshows::count(&mut tx).await.map_err(|e| anyhow::anyhow!("{e}"))? > 0 {
        return Ok(0);
    }
    store::seed::show_key_firms_to_investors(&mut tx, demo_firm, now).await?;
    let cst = chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("UTC+8"))?;
    let today = now.with_timezone(&cst).date_naive();
    let at = |days: i64, hm: &str| format!("{}T{hm}:00+08:00", today + chrono::Duration::days(days));
    /// Title, centre, venue, days from today, capacity, industry focus.
    type Plan = (&'static str, &'static str, &'static str, i64, i64, &'static [&'static str]);
    let plans: [Plan; 5] = [
        ("齐鲁企舞·线上专场 北交所上市后备企业路演", "online", "腾讯会议（报名成功后邮件发送会议号）", 7, 500, &[]),
        (
            "齐鲁企舞·济南站 高端装备与新材料专场",
            "jinan",
            "济南市历下区经十路 济南金融会展中心 3 楼路演厅",
            14,
            120,
            &["C26", "C34", "C35"],
        ),
        ("齐鲁企舞·北京站 专精特新“小巨人”企业专场", "beijing", "北京市西城区金融大街 路演中心", 28, 80, &[]),
        (
            "齐鲁企舞·上海站 生物医药与医疗器械专场",
            "shanghai",
            "上海市浦东新区陆家嘴 路演中心",
            42,
            100,
            &["C27", "C358"],
        ),
        ("齐鲁企舞·深圳站 电子信息与软件专场", "shenzhen", "深圳市福田区深南大道 路演中心", 56, 100, &["C39", "I65"]),
    ];
    let mut created = 0;
    for (title, centre, venue, days, capacity, focus) in plans {
        let input = RoadshowInput {
            title: Some(title.to_owned()),
            centre: Some(centre.to_owned()),
            venue: Some(venue.to_owned()),
            starts_at: Some(at(days, "09:30")),
            ends_at: Some(at(days, "12:00")),
            registration_opens_at: Some(at(-1, "09:00")),
            capacity: Some(capacity),
            industry_focus: Some(focus.iter().map(|s| (*s).to_owned()).collect()),
            ..RoadshowInput::default()
        };
        let fields = input.validate_onto(None, now).map_err(|e| anyhow::anyhow!("demo roadshow: {e:?}"))?;
        let rs = roadshows::insert(&mut tx, &fields, RoadshowStatus::Published, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if centre == "jinan" {
            let start = rs.starts_at + chrono::Duration::minutes(30);
            roadshows::insert_presenter(&mut tx, rs.id, demo_firm, start, start + chrono::Duration::minutes(20), now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// Everything `demo` puts in an empty database: the synthetic firms (7 in 8 in the reserve pool,
/// at least 1,000 when there are that many), banks, products, consents and matches, the demo bank,
/// fund and firm, and roadshows. Returns what was seeded (nothing when firms already exist) and
/// the demo subjects.
pub async fn demo_data(
    db: &Db,
    firms: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<(Option<(SeedReport, financing::FinancingSeedReport)>, DemoSubjects)> {
    let existing = {
        let mut conn = db.pool().acquire().await?;
        crate::store::firms::count(&mut conn).await.map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let seeded = if existing == 0 {
        let pool = (firms * 7 / 8).max(firms.min(1000));
        let report = seed(db, firms, pool, 2022, now).await?;
        let demo_firm = financing::demo_firm(db).await?;
        let financing = financing::seed(db, 0, 2022, demo_firm, now).await?;
        Some((report, financing))
    } else {
        None
    };
    Ok((seeded, demo_subjects(db, now).await?))
}
