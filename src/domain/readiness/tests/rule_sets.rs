//! The rule data itself: JSON round trip, validation with a path to the fault, and overlapping
//! versions.

use super::*;

#[test]
fn rule_sets_round_trip_through_json() {
    for set in builtin_rule_sets().unwrap() {
        let json = serde_json::to_string_pretty(&set).unwrap();
        let back = parse_rule_set(&json).unwrap();
        assert_eq!(back, set);
    }
}

fn criteria(s: &mut RuleSet, i: usize) -> &mut Vec<Criterion> {
    s.standards[i].criteria.as_mut().unwrap()
}

#[test]
fn validate_rejects_malformed_sets_with_a_path() {
    let base = || builtin_rule_sets().unwrap().into_iter().find(|s| s.version == "bse-2021-11-15").unwrap();
    let mut cases: Vec<(RuleSet, &str)> = Vec::new();

    let mut s = base();
    criteria(&mut s, 1)[1].threshold = None;
    cases.push((s, "standards[1].criteria[1].threshold"));

    let mut s = base();
    criteria(&mut s, 3)[1].years = Some(9);
    cases.push((s, "standards[3].criteria[1].years"));

    let mut s = base();
    criteria(&mut s, 1)[0].aggregate = Some(Aggregate::Latest);
    cases.push((s, "standards[1].criteria[0].aggregate"));

    let mut s = base();
    criteria(&mut s, 1)[2].aggregate = None;
    cases.push((s, "standards[1].criteria[2].aggregate"));

    let mut s = base();
    criteria(&mut s, 2)[2].over = Some(Metric::ExpectedMarketValue);
    cases.push((s, "standards[2].criteria[2].over"));

    let mut s = base();
    s.standards[2].code = "bse_1".to_owned();
    cases.push((s, "standards[2].code"));

    let mut s = base();
    s.standards[0].variants.as_mut().unwrap()[1].criteria.clear();
    cases.push((s, "standards[0].variants[1].criteria"));

    let mut s = base();
    s.standards[3].criteria = None;
    cases.push((s, "standards[3]"));

    let mut s = base();
    s.entry_conditions[0].criteria.as_mut().unwrap()[0].threshold = Some(d("1"));
    cases.push((s, "entry_conditions[0].criteria[0].threshold"));

    let mut s = base();
    s.entry_conditions[2].criteria.as_mut().unwrap()[0].industry_not_in = Some(vec!["finance".to_owned()]);
    cases.push((s, "entry_conditions[2].criteria[0].industry_not_in[0]"));

    let mut s = base();
    s.effective_to = Some(date("2020-01-01"));
    cases.push((s, "effective_to"));

    let mut s = base();
    s.standards.clear();
    cases.push((s, "standards"));

    let mut s = base();
    criteria(&mut s, 1)[3].name = "Operating Cash".to_owned();
    cases.push((s, "standards[1].criteria[3].name"));

    for (set, path) in cases {
        let e = set.validate().unwrap_err();
        assert_eq!(e.path, path, "{e}");
    }

    // Nested any_of is refused; so is a score reference in a listing set.
    let star = builtin_rule_sets().unwrap().into_iter().find(|s| s.version == "star-2024-04-30").unwrap();
    let mut s = star.clone();
    let k1 = &mut s.entry_conditions[0].variants.as_mut().unwrap()[0].criteria[0];
    let inner = k1.clone();
    k1.any_of.as_mut().unwrap()[0] = inner;
    assert_eq!(s.validate().unwrap_err().path, "entry_conditions[0].variants[0].criteria[0].any_of[0].any_of");
    let mut s = star;
    s.standards[4].criteria.as_mut().unwrap()[1] = Criterion {
        attestation: None,
        score: Some("innovative_sme".to_owned()),
        op: Some(Comparison::Gte),
        threshold: Some(d("60")),
        ..s.standards[4].criteria.as_ref().unwrap()[1].clone()
    };
    assert_eq!(s.validate().unwrap_err().path, "standards[4].criteria[1].score");
}

#[test]
fn overlapping_versions_are_refused() {
    let sets = builtin_rule_sets().unwrap();
    let mut dup = sets.iter().find(|s| s.version == "chinext-2024-04-30").unwrap().clone();
    dup.version = "chinext-copy".to_owned();
    dup.effective_from = date("2025-01-01");
    let mut all = sets.clone();
    all.push(dup);
    let e = RuleBook::new(all).unwrap_err();
    assert_eq!(e.path, format!("[{}].effective_from", sets.len()));
    // A corrected figure is a data edit: replace the set and the book uses it.
    let mut edited = sets.clone();
    let bse = edited.iter_mut().find(|s| s.version == "bse-2021-11-15").unwrap();
    bse.standards[3].criteria.as_mut().unwrap()[0].threshold = Some(d("1600000000"));
    let b = RuleBook::new(edited).unwrap();
    let mut input = strong(NEW);
    input.expected_market_value = Some(d("1500000000"));
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    assert_eq!(standard(&r, "bse_4").verdict, Verdict::NotMet);
}
