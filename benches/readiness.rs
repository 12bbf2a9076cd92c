//! Listing-readiness throughput: every venue (and NEEQ's two scopes) for a batch of synthetic
//! firms, reported as firm-venue evaluations per second.
//!
//! Run: `cargo bench --bench readiness` (add `-- --quick` for a short run).

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use srdi_capital::domain::firm::{FinancialYear, NeeqLayer, Tier};
use srdi_capital::domain::readiness::{ReadinessInput, RuleBook};

const FIRMS: usize = 1_000;

/// Deterministic pseudo-random numbers (64-bit LCG), so every run measures the same batch.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A whole number of yuan in [lo, hi).
    fn yuan(&mut self, lo: i64, hi: i64) -> Decimal {
        let span = u64::try_from(hi - lo).unwrap_or(1).max(1);
        Decimal::from(lo + i64::try_from(self.next() % span).unwrap_or(0))
    }
}

/// Firms spread from small (a few thousand 万 of revenue) to listing-ready, with some data
/// missing, as in a real reserve pool.
fn synthetic_firms(n: usize, on: NaiveDate) -> Vec<ReadinessInput> {
    let mut rng = Lcg(0x5eed);
    (0..n)
        .map(|i| {
            let scale = 1 + (rng.next() % 40) as i64; // ×1千万 of revenue
            let mut revenue = scale * 10_000_000;
            let mut financials = Vec::with_capacity(4);
            for year in 2021..=2024 {
                revenue = revenue * (90 + (rng.next() % 50) as i64) / 100;
                let margin = rng.yuan(-5, 25);
                let profit = Decimal::from(revenue) * margin / Decimal::ONE_HUNDRED;
                let deducted = profit - rng.yuan(0, 2_000_000);
                let mut y = FinancialYear { fiscal_year: year, ..FinancialYear::default() };
                let r = Decimal::from(revenue);
                y.revenue = Some(r);
                y.main_business_revenue = Some(Decimal::from(revenue * 9 / 10));
                y.net_profit = Some(profit);
                // Every 17th firm lacks one 扣非 figure, so `unknown` paths are exercised.
                y.net_profit_deducted = (i % 17 != 0 || year != 2024).then_some(deducted);
                y.rd_expense = Some(r * rng.yuan(1, 20) / Decimal::ONE_HUNDRED);
                y.operating_cash_flow = Some(rng.yuan(-5_000_000, 60_000_000));
                y.total_assets = Some(r * Decimal::TWO);
                y.total_liabilities = Some(r * rng.yuan(20, 150) / Decimal::ONE_HUNDRED);
                y.net_assets = Some(r * rng.yuan(30, 150) / Decimal::ONE_HUNDRED);
                y.weighted_roe = Some(rng.yuan(-3, 25));
                y.invention_patents = Some(i64::try_from(rng.next() % 60).unwrap_or(0));
                y.employees = Some(100 + i64::try_from(rng.next() % 900).unwrap_or(0));
                y.rd_staff = Some(10 + i64::try_from(rng.next() % 150).unwrap_or(0));
                financials.push(y);
            }
            let on_neeq = i % 3 == 0;
            ReadinessInput {
                evaluation_date: on,
                financials,
                expected_market_value: Some(Decimal::from(scale) * rng.yuan(50_000_000, 300_000_000)),
                neeq_listed_on: on_neeq.then(|| NaiveDate::from_ymd_opt(2022, 1 + (i % 12) as u32, 1)).flatten(),
                neeq_layer: on_neeq.then_some(if i % 2 == 0 { NeeqLayer::Innovation } else { NeeqLayer::Basic }),
                industry_code: Some(if i % 11 == 0 { "C1512" } else { "C3562" }.to_owned()),
                tier: match i % 4 {
                    0 => None,
                    1 => Some(Tier::InnovativeSme),
                    2 => Some(Tier::ProvincialSrdi),
                    _ => Some(Tier::LittleGiant),
                },
                in_reserve_pool: i % 5 == 0,
                founded_on: NaiveDate::from_ymd_opt(2005 + (i % 15) as i32, 3, 1),
                share_capital: Some(rng.yuan(5_000_000, 100_000_000)),
                ..ReadinessInput::default()
            }
        })
        .collect()
}

fn bench_readiness(c: &mut Criterion) {
    let book = RuleBook::builtin().expect("builtin rule sets are valid");
    let on = NaiveDate::from_ymd_opt(2025, 6, 30).expect("valid date");
    let firms = synthetic_firms(FIRMS, on);
    // Firm-venue evaluations per batch (NEEQ counts twice: listing and innovation layer).
    let evaluations: usize = firms.iter().map(|f| book.evaluate_all(f).len()).sum();

    let mut group = c.benchmark_group("readiness");
    group.throughput(Throughput::Elements(evaluations as u64));
    group.bench_function(format!("evaluate_all/{FIRMS}_firms"), |b| {
        b.iter(|| {
            for f in &firms {
                black_box(book.evaluate_all(black_box(f)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_readiness);
criterion_main!(benches);
