//! Wire forms: vocabularies, the evaluation output and fiscal years as JSON, and the OpenAPI
//! schemas.

use super::*;

#[test]
fn vocabularies_serialize_as_their_wire_names() {
    fn check<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for v in all {
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{v}\""));
        }
    }
    check(Metric::ALL);
    check(Aggregate::ALL);
    check(Comparison::ALL);
    check(Fact::ALL);
    check(Confidence::ALL);
    check(Unit::ALL);
    check(Verdict::ALL);
    check(RuleScope::ALL);
    check(ChoiceInput::ALL);
    check(IpClass::ALL);
    check(RdInstitutionLevel::ALL);
    check(ProductChainRole::ALL);
    check(ProvincialKeyIndustry::ALL);
    check(NicheShareRank::ALL);
    check(ListingProgress::ALL);
}

#[test]
fn output_shape_is_snake_case_json_with_decimal_strings() {
    let b = book();
    let mut input = strong(NEW);
    input.expected_market_value = Some(d("300000000.00"));
    let r = b.evaluate(Venue::Bse, RuleScope::Listing, &input).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    for key in ["venue", "rule_set_version", "eligible", "eligible_standards", "closest_standard", "standards"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let c = &v["standards"][1]["criteria"][0];
    assert_eq!(v["standards"][1]["code"], "bse_2");
    assert_eq!(c["name"], "expected_market_value");
    assert_eq!(c["verdict"], "not_met");
    assert_eq!(c["actual"], "300000000.00");
    assert_eq!(c["threshold"], "400000000");
    assert_eq!(c["shortfall"], "100000000");
    assert!(c["fiscal_years"].is_array());
}

#[test]
fn fiscal_years_serialize_as_a_list_and_must_be_consecutive() {
    let y = FiscalYears::span(2022, 2024);
    assert_eq!(serde_json::to_string(&y).unwrap(), "[2022,2023,2024]");
    assert_eq!(serde_json::from_str::<FiscalYears>("[2022,2023,2024]").unwrap(), y);
    assert_eq!(serde_json::from_str::<FiscalYears>("[]").unwrap(), FiscalYears::default());
    assert!(serde_json::from_str::<FiscalYears>("[2022,2024]").is_err());
    assert!(serde_json::from_str::<FiscalYears>("[2024,2023]").is_err());
    assert_eq!(FiscalYears::span(2024, 2023).len(), 0);
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(components(schemas(VenueReadiness, RuleSet, ReadinessInput, Verdict, Metric)))]
    struct Doc;
    let json = Doc::openapi().to_json().unwrap();
    for name in ["VenueReadiness", "CriterionResult", "RuleSet", "Criterion", "ReadinessInput", "SmeExtras"] {
        assert!(json.contains(&format!("\"{name}\"")), "{name} missing from the generated schemas");
    }
}
