//! Matching throughput over a synthetic population: every firm × every product, one evaluation
//! per element. `evaluate` is the path the materialiser runs for every pair; `explain` is run
//! only for pairs whose verdict changed, so it is measured on a sample.
//!
//! Run: `cargo bench --bench matching -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use srdi_capital::domain::firm::{City, TaxCreditGrade, Tier, Venue};
use srdi_capital::domain::ids::BankId;
use srdi_capital::domain::matching::{CompiledProduct, FirmFacts, MatchFirm, MatchProduct, evaluate, explain};
use srdi_capital::domain::product::Eligibility;
use uuid::Uuid;

const FIRMS: usize = 2_000;
const PRODUCTS: usize = 60;
const BANKS: u64 = 12;

/// xorshift64: deterministic, so runs compare.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const INDUSTRIES: [&str; 8] = ["C3562", "C3911", "C2710", "C3824", "I6510", "I6421", "M7320", "F5179"];

fn firms(rng: &mut Rng, on: NaiveDate) -> Vec<FirmFacts> {
    (0..FIRMS)
        .map(|i| {
            let founded = on - chrono::Days::new(365 + rng.below(365 * 25));
            let revenue = Decimal::new(rng.below(50_000_000_000) as i64, 2); // fen: up to 5亿 yuan;
            let firm = MatchFirm {
                id: srdi_capital::domain::ids::FirmId::from_uuid(Uuid::from_u128(i as u128)),
                city: rng.pick(City::ALL),
                industry_code: rng.pick(&INDUSTRIES).to_owned(),
                tier: if rng.chance(5) { None } else { Some(rng.pick(Tier::ALL)) },
                founded_on: (!rng.chance(20)).then_some(founded),
                tax_credit_grade: (!rng.chance(10)).then(|| rng.pick(TaxCreditGrade::ALL)),
                lead_bank_id: (!rng.chance(3))
                    .then(|| BankId::from_uuid(Uuid::from_u128(u128::from(rng.below(BANKS))))),
                in_reserve_pool: rng.chance(4),
                target_venues: if rng.chance(2) { vec![] } else { vec![rng.pick(Venue::ALL)] },
                fiscal_year: Some(2024),
                revenue: (!rng.chance(10)).then_some(revenue),
                rd_expense: (!rng.chance(8)).then(|| Decimal::new(rng.below(3_000_000_000) as i64, 2)),
                invention_patents: (!rng.chance(8)).then(|| rng.below(40) as i64),
            };
            FirmFacts::new(&firm, on)
        })
        .collect()
}

fn products(rng: &mut Rng) -> Vec<CompiledProduct> {
    (0..PRODUCTS)
        .map(|i| {
            let mut e = Eligibility::default();
            if !rng.chance(4) {
                e.tiers = vec![rng.pick(Tier::ALL)];
            }
            if rng.chance(2) {
                e.min_years_in_operation = Some(rng.below(5) as i32 + 1);
            }
            if rng.chance(2) {
                e.min_revenue = Some(Decimal::from(rng.below(50_000_000)));
            }
            if rng.chance(2) {
                e.min_rd_ratio = Some(Decimal::new(rng.below(60_000) as i64, 6));
            }
            if rng.chance(3) {
                e.min_invention_patents = Some(rng.below(5) as i32);
            }
            if rng.chance(2) {
                e.tax_credit_grades = vec![TaxCreditGrade::A, TaxCreditGrade::B];
            }
            if rng.chance(3) {
                e.cities = (0..4).map(|_| rng.pick(City::ALL)).collect();
            }
            if rng.chance(3) {
                e.industry_prefixes = vec!["C35".into(), "C39".into(), "I65".into()];
            }
            e.reserve_pool_only = rng.chance(6);
            e.lead_bank_only = rng.chance(8);
            if rng.chance(10) {
                e.target_venues = vec![Venue::Bse, Venue::Star];
            }
            CompiledProduct::new(&MatchProduct {
                id: Uuid::from_u128(10_000 + i as u128),
                bank_id: BankId::from_uuid(Uuid::from_u128(u128::from(rng.below(BANKS)))),
                eligibility: e,
                valid_from: None,
                valid_to: None,
                active: true,
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let on = NaiveDate::from_ymd_opt(2025, 6, 30).expect("valid date");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let firms = firms(&mut rng, on);
    let products = products(&mut rng);

    let mut group = c.benchmark_group("matching");
    group.throughput(Throughput::Elements((FIRMS * PRODUCTS) as u64));
    group.bench_function("evaluate_all_pairs", |b| {
        b.iter(|| {
            let mut eligible = 0u32;
            let mut score = 0u64;
            for f in &firms {
                for p in &products {
                    let v = evaluate(black_box(f), black_box(p));
                    eligible += u32::from(v.eligible);
                    score += u64::from(v.score);
                }
            }
            black_box((eligible, score))
        })
    });

    let sample = &firms[..50];
    group.throughput(Throughput::Elements((sample.len() * PRODUCTS) as u64));
    group.bench_function("explain_sample", |b| {
        b.iter(|| {
            let mut reasons = 0usize;
            for f in sample {
                for p in &products {
                    let o = explain(black_box(f), black_box(p));
                    reasons += o.met.len() + o.unmet.len();
                }
            }
            black_box(reasons)
        })
    });
    group.finish();

    let mut eligible = 0;
    for f in &firms {
        for p in &products {
            eligible += usize::from(evaluate(f, p).eligible);
        }
    }
    println!("population: {FIRMS} firms × {PRODUCTS} products, {eligible} eligible pairs");
}

criterion_group!(benches, bench);
criterion_main!(benches);
