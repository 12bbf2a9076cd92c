//! Tests of the tier check: the fixtures every test shares, the built-in schemes and their
//! validation; the tests of each tier are in `tests/`.

use super::*;
use crate::domain::firm::FinancialYear;
use crate::domain::readiness::{EquityFinancing, IpClass, ProductChainRole, RdInstitutionLevel, SmeExtras};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn book() -> TierBook {
    TierBook::builtin().expect("builtin tier schemes are valid")
}

/// A firm that scores full marks everywhere it can and meets every tier.
fn strong() -> ReadinessInput {
    let year = |y: i32, rev: &str, mbr: &str, rd: &str| FinancialYear {
        fiscal_year: y,
        revenue: Some(d(rev)),
        main_business_revenue: Some(d(mbr)),
        net_profit: Some(d("20000000")),
        net_profit_deducted: Some(d("19000000")),
        rd_expense: Some(d(rd)),
        total_assets: Some(d("200000000")),
        total_liabilities: Some(d("60000000")),
        net_assets: Some(d("140000000")),
        employees: Some(200),
        rd_staff: Some(50),
        invention_patents: Some(12),
        ..FinancialYear::default()
    };
    let mut attestations = BTreeMap::new();
    for k in [
        "lg_strategy_governance_credit",
        "lg_core_business_information_system",
        "lg_management_or_product_certification",
        "lg_own_brand",
        "lg_key_chain_link",
        "lg_priority_product_field",
        "lg_not_single_champion_or_group_member",
    ] {
        attestations.insert(k.to_owned(), true.into());
    }
    // Direct routes denied, so that the general routes decide.
    for k in ["lg_national_st_award_top3_3y", "lg_maker_china_top50_3y"] {
        attestations.insert(k.to_owned(), false.into());
    }
    ReadinessInput {
        evaluation_date: date("2025-06-30"),
        financials: vec![
            year(2022, "100000000", "95000000", "6000000"),
            year(2023, "120000000", "114000000", "7000000"),
            year(2024, "150000000", "142500000", "9000000"),
        ],
        tier: Some(Tier::ProvincialSrdi),
        equity_financings: Some(vec![]),
        attestations,
        sme: SmeExtras {
            ip_best_class: Some(IpClass::HighValueClassI),
            class_i_ip_in_use: Some(5),
            strategic_emerging_industry: Some(true),
            niche_market_years: Some(d("12")),
            product_chain_role: Some(ProductChainRole::FillsChainGap),
            digitalisation_level: Some(3),
            quality_items: Some(3),
            rd_institution_level: Some(RdInstitutionLevel::National),
            national_niche_market_share: Some(d("15")),
            provincial_key_industry: Some(crate::domain::readiness::ProvincialKeyIndustry::ProvincialPlanAndChain),
            innovative_operation_items: Some(2),
            niche_share_rank: Some(crate::domain::readiness::NicheShareRank::NationalTop3),
            listing_progress: Some(crate::domain::readiness::ListingProgress::ListedOrNeeq),
        },
        ..ReadinessInput::default()
    }
}

/// Denies every 创新型 direct-entry route, so that the score decides.
fn no_direct(input: &mut ReadinessInput) {
    input.attestations.insert("innovative_st_award_3y".to_owned(), false.into());
    input.attestations.insert("innovative_valid_honour".to_owned(), false.into());
    input.sme.rd_institution_level = Some(RdInstitutionLevel::Municipal);
    input.equity_financings = Some(vec![]);
}

fn tier(check: &TierCheck, t: Tier) -> &TierResult {
    check.tiers.iter().find(|r| r.tier == t).unwrap()
}

fn condition<'a>(r: &'a TierResult, code: &str) -> &'a StandardResult {
    r.conditions.iter().find(|s| s.code == code).unwrap()
}

fn indicator<'a>(c: &'a TierCheck, card: &str, name: &str) -> &'a IndicatorResult {
    c.scorecards
        .iter()
        .find(|s| s.name == card)
        .unwrap()
        .categories
        .iter()
        .flat_map(|g| &g.indicators)
        .find(|i| i.name == name)
        .unwrap()
}

fn set_latest(input: &mut ReadinessInput, f: impl Fn(&mut FinancialYear)) {
    let latest = input.latest_fiscal_year();
    f(input.financials.iter_mut().find(|y| y.fiscal_year == latest).unwrap());
}

#[test]
fn builtin_scheme_is_valid_and_round_trips() {
    let schemes = builtin_tier_schemes().unwrap();
    for s in schemes {
        let json = serde_json::to_string(&s).unwrap();
        let back: TierScheme = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}

#[test]
fn scheme_is_picked_by_date() {
    let b = book();
    assert_eq!(b.scheme_in_force(date("2024-01-01")).unwrap().version, "miit-2022-08-01");
    assert!(b.scheme_in_force(date("2022-07-31")).is_none());
    // The 2026 办法 replaces the 2022 scheme; until its data is added nothing is in force.
    assert!(b.scheme_in_force(date("2026-04-01")).is_none());
    let mut input = strong();
    input.evaluation_date = date("2026-04-01");
    assert_eq!(b.check(&input).unwrap_err(), NoTierSchemeInForce { date: date("2026-04-01") });
}

#[test]
fn strong_firm_meets_every_tier_with_full_scores() {
    let c = book().check(&strong()).unwrap();
    for t in &c.tiers {
        assert_eq!(t.verdict, Verdict::Met, "{:?}: {:#?}", t.tier, t.conditions);
    }
    assert_eq!(c.highest_met, Some(Tier::LittleGiant));
    let innovative = c.scorecards.iter().find(|s| s.name == "innovative_sme").unwrap();
    assert_eq!(innovative.points_min, d("100"));
    assert_eq!(innovative.points_max, d("100"));
    let srdi = c.scorecards.iter().find(|s| s.name == "provincial_srdi").unwrap();
    assert_eq!(srdi.points_min, srdi.points_max);
    assert_eq!(srdi.points_min, d("100"));
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(components(schemas(TierCheck, TierScheme)))]
    struct Doc;
    let json = Doc::openapi().to_json().unwrap();
    assert!(json.contains("\"IndicatorResult\"") && json.contains("\"Scorecard\""));
}

#[test]
fn validate_names_the_field() {
    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[1].max_points = d("31");
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[1].max_points");

    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[0].indicators[1].measures[0].bands[0].points = d("21");
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].bands[0].points");

    let mut s = builtin_tier_schemes().unwrap().remove(0);
    s.scorecards[0].categories[0].indicators[1].measures[0].aggregate = None;
    let e = s.validate().unwrap_err();
    assert_eq!(e.path, "scorecards[0].categories[0].indicators[1].measures[0].aggregate");

    let json = include_str!("../../../rules/listing/sme-tier-miit-2022-08-01.json").replacen(
        "\"score\": \"innovative_sme\"",
        "\"score\": \"no_such_card\"",
        1,
    );
    let e = parse_tier_scheme(&json).unwrap_err();
    assert!(e.path.ends_with(".score"), "{e}");

    let s = builtin_tier_schemes().unwrap().remove(0);
    let mut later = s.clone();
    later.version = "overlapping".to_owned();
    let e = TierBook::new(vec![s, later]).unwrap_err();
    assert_eq!(e.path, "[1].effective_from");
}

mod innovative_sme;
mod little_giant;
mod provincial_srdi;
