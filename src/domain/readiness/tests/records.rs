//! Records beside the financials: attestations and who may state them, financing rounds, share
//! capital, each read as of the evaluation date.

use super::*;

#[test]
fn a_self_declared_attestation_counts_and_is_marked() {
    use crate::domain::firm_inputs::AttestationSource;
    let b = book();
    let mut input = strong(NEW);
    input.attestations.insert(
        "star5_major_business_approved".to_owned(),
        Attested {
            holds: true,
            source: AttestationSource::SelfDeclared,
            stated_on: Some(date("2025-05-01")),
            document_ref: Some("国药监临〔2025〕12号".to_owned()),
        },
    );
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "star_5").criteria, "major_business_approved");
    assert_eq!(c.verdict, Verdict::Met);
    let used = c.attestation.as_ref().expect("attestation shown");
    assert_eq!((used.source, used.stated_on), (AttestationSource::SelfDeclared, Some(date("2025-05-01"))));
    assert!(c.note.as_deref().unwrap().contains("self-declared"), "{c:?}");
    // The office's statement carries no such note.
    input.attestations.insert("star5_major_business_approved".to_owned(), false.into());
    let r = b.evaluate(Venue::Star, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "star_5").criteria, "major_business_approved");
    assert_eq!(
        (c.verdict, c.attestation.as_ref().map(|a| a.source)),
        (Verdict::NotMet, Some(AttestationSource::Office))
    );
    assert!(c.note.is_none(), "{c:?}");
}

/// Rounds on record without a completeness date are a lower bound of what was raised.
#[test]
fn an_incomplete_financing_record_is_a_lower_bound() {
    let b = book();
    // (amount on record, record complete?, verdict of NEEQ 4's ≥ 2,000万 in 24 months)
    let cases = [
        ("20000000", false, Verdict::Met),
        ("19999999.99", false, Verdict::Unknown),
        ("19999999.99", true, Verdict::NotMet),
        ("20000000", true, Verdict::Met),
    ];
    for (amount, complete, verdict) in cases {
        let mut input = strong(NEW);
        equity_24m(&mut input, d(amount));
        input.equity_financings_partial = !complete;
        let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &input).unwrap();
        let c = find_criterion(&standard(&r, "neeq_4").criteria, "equity_financing_24m");
        assert_eq!(c.verdict, verdict, "{amount} complete={complete}: {c:#?}");
        if verdict == Verdict::Unknown {
            assert_eq!(c.missing, vec!["equity_financings complete through 2025-06-30".to_owned()]);
        }
    }
    // A round without its valuation leaves the placement-valuation test open.
    let mut input = strong(NEW);
    min_valuation_24m(&mut input, d("400000000"));
    input.equity_financings.as_mut().unwrap()[1].post_money_valuation = None;
    let r = b.evaluate(Venue::Neeq, RuleScope::InnovationLayer, &input).unwrap();
    let c = find_criterion(
        &standard(&r, "neeq_innovation_3").criteria,
        "placement_market_value.lowest_post_money_valuation_24m",
    );
    assert_eq!(c.verdict, Verdict::Unknown);
    assert!(c.missing[0].starts_with("post_money_valuation"), "{c:?}");
}

#[test]
fn net_assets_per_share_reads_share_capital_at_the_latest_year_end() {
    let b = book();
    let mut input = strong(NEW);
    input.share_capital_at_year_end = None;
    let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &input).unwrap();
    let c = find_criterion(&standard(&r, "neeq_general").criteria, "net_assets_per_share");
    assert_eq!((c.verdict, c.missing.clone()), (Verdict::Unknown, vec!["share_capital 2024-12-31".to_owned()]));
}

/// A firm's records, each read as of the evaluation date, take a NEEQ candidate to `met` on the
/// listing and the innovation-layer entry standards; on an earlier date the later records do
/// not count.
#[test]
fn records_as_of_the_date_take_a_neeq_candidate_to_met() {
    use crate::domain::firm_inputs::{FirmRecords, InputSource, MarketValueEstimate, ShareCapitalEntry};
    let mut firm = crate::domain::firm_inputs::test_firm(Some(Tier::ProvincialSrdi), "2015-03-01", true);
    firm.expected_market_value = Some(d("9999999999"));
    let year = |fy: i32, profit: &str| FinancialYear {
        fiscal_year: fy,
        revenue: Some(d("90000000")),
        net_profit: Some(d(profit)),
        net_profit_deducted: Some(d(profit)),
        net_assets: Some(d("60000000")),
        weighted_roe: Some(d("18")),
        weighted_roe_deducted: Some(d("17")),
        audited_on: Some(date(&format!("{}-04-20", fy + 1))),
        ..FinancialYear::default()
    };
    let financials = vec![year(2023, "11000000"), year(2024, "12000000")];
    let capital = |on: &str, amount: &str| ShareCapitalEntry {
        effective_on: date(on),
        amount: d(amount),
        document_ref: None,
        source: InputSource::Office,
    };
    let records = FirmRecords {
        share_capital: vec![capital("2020-06-01", "10000000"), capital("2024-11-01", "30000000")],
        market_value_estimates: vec![MarketValueEstimate {
            estimated_on: date("2025-06-01"),
            amount: d("500000000"),
            basis: Some("主办券商估值".to_owned()),
            document_ref: None,
            source: InputSource::Firm,
        }],
        ..FirmRecords::default()
    };
    let b = book();
    let input = ReadinessInput::from_records(&firm, financials.clone(), &records, date("2025-06-30"));
    assert_eq!(input.expected_market_value, Some(d("500000000")), "the dated estimate, not the firm field");
    assert_eq!(input.share_capital_at_year_end, Some(d("30000000")));
    for scope in [RuleScope::Listing, RuleScope::InnovationLayer] {
        let r = b.evaluate(Venue::Neeq, scope, &input).unwrap();
        assert!(r.eligible, "{scope}: {r:#?}");
        assert_eq!(r.latest_fiscal_year_basis, LatestYearBasis::Audited);
    }
    let r = b.evaluate(Venue::Neeq, RuleScope::InnovationLayer, &input).unwrap();
    assert_eq!(r.eligible_standards, vec!["neeq_innovation_1"]);
    // On 2025-05-31 the estimate did not exist yet: NEEQ 5's market value is unknown, not met.
    let earlier = ReadinessInput::from_records(&firm, financials, &records, date("2025-05-31"));
    assert_eq!(earlier.expected_market_value, None);
    let r = b.evaluate(Venue::Neeq, RuleScope::Listing, &earlier).unwrap();
    let c = find_criterion(&standard(&r, "neeq_5").criteria, "market_value_at_placement");
    assert_eq!(c.verdict, Verdict::Unknown);
}

#[test]
fn regional_board_reads_the_financing_record() {
    use crate::domain::firm_inputs::InvestorKind;
    use crate::domain::investment::InvestmentRound;
    let b = book();
    let mut input = strong(NEW);
    input.tier = None;
    input.in_reserve_pool = false;
    let layer = |input: &ReadinessInput, code: &str| {
        let r = b.evaluate(Venue::RegionalSrdiBoard, RuleScope::Listing, input).unwrap();
        standard(&r, code).verdict
    };
    // (investor kind, round, record complete, incubation verdict, standardization verdict)
    let cases = [
        (Some(InvestorKind::VcPe), Some(InvestmentRound::SeriesB), true, Verdict::Met, Verdict::Met),
        (Some(InvestorKind::GovernmentFund), Some(InvestmentRound::SeriesA), true, Verdict::Met, Verdict::Unknown),
        (Some(InvestorKind::Individual), Some(InvestmentRound::Angel), false, Verdict::Unknown, Verdict::Unknown),
    ];
    for (kind, round, complete, incubation, standardization) in cases {
        input.equity_financings = Some(vec![EquityFinancing {
            paid_in_on: date("2024-01-01"),
            amount: d("30000000"),
            investor_kind: kind,
            round,
            ..EquityFinancing::default()
        }]);
        input.equity_financings_partial = !complete;
        assert_eq!(layer(&input, "regional_incubation"), incubation, "{kind:?} {round:?}");
        assert_eq!(layer(&input, "regional_standardization"), standardization, "{kind:?} {round:?}");
    }
}

#[test]
fn attestation_keys_name_who_may_state_them() {
    let keys = book().attestation_keys();
    assert!(keys["srdi_potential"].office_only);
    assert!(!keys["star5_major_business_approved"].office_only);
    assert!(keys["star5_major_business_approved"].read_by.iter().any(|r| r.ends_with(": star_5")), "{keys:#?}");
}
