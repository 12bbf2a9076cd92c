//! The provincial plan's quantified targets as data (`rules/programme/*.json`: each target with the
//! plan's wording and section, its comparison and figure, and how the service counts it — or why it
//! cannot), and the pure assessment of an actual figure against a target.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::firm::vocabulary;
use crate::domain::readiness::{Comparison, RuleSetError};

vocabulary!(
    /// When a target is measured.
    TargetPeriod {
        ByHorizon = "by_horizon" / "到规划期末（累计或规划期内新增）",
        PerYear = "per_year" / "每年",
        YearOnYear = "year_on_year" / "逐年（与上年相比）",
    }
);

vocabulary!(
    /// A figure the service computes for the statistics.
    ProgrammeMetric {
        InnovativeSmeOrAbove = "innovative_sme_or_above" / "创新型中小企业及以上（家）",
        ProvincialSrdiNewSincePlan = "provincial_srdi_new_since_plan" / "规划期内新认定省级专精特新（家）",
        ProvincialSrdiOrAbove = "provincial_srdi_or_above" / "省级专精特新及小巨人（家）",
        LittleGiantNewSincePlan = "little_giant_new_since_plan" / "规划期内新认定小巨人（家）",
        LittleGiant = "little_giant" / "小巨人（家）",
        SrdiRdRatioShare = "srdi_rd_ratio_share" / "研发投入占比达标的专精特新企业占比",
        SrdiRdInstitutionShare = "srdi_rd_institution_share" / "建有研发机构的专精特新企业占比",
        LittleGiantInventionPatentsMean = "little_giant_invention_patents_mean" / "小巨人平均有效发明专利",
        LittleGiantRdRatioMean = "little_giant_rd_ratio_mean" / "小巨人平均研发投入占比",
        LittleGiantProvincialRdPlatformShare = "little_giant_provincial_rd_platform_share" / "建有省级以上研发平台的小巨人占比",
        SrdiDigitalisationShare = "srdi_digitalisation_share" / "数字化水平达标的专精特新企业占比",
        LittleGiantDigitalisationShare = "little_giant_digitalisation_share" / "数字化水平达标的小巨人占比",
        SrdiCloudShare = "srdi_cloud_share" / "业务系统上云的专精特新企业占比",
        SrdiMainBusinessShare = "srdi_main_business_share" / "主营业务收入占比达标的专精特新企业占比",
        SrdiKeyChainShare = "srdi_key_chain_share" / "为省重点产业链配套的专精特新企业占比",
        LittleGiantKeyChainShare = "little_giant_key_chain_share" / "为省重点产业链配套的小巨人占比",
        SrdiNewlyCloudMigrated = "srdi_newly_cloud_migrated" / "当年新上云的专精特新企业（家）",
        SrdiLoansDisbursed = "srdi_loans_disbursed" / "向专精特新企业发放的贷款（元）",
        RoadshowsInYear = "roadshows_in_year" / "当年路演（场）",
        FundProjectsInYear = "fund_projects_in_year" / "当年基金投资项目（个）",
        FundAmountInYear = "fund_amount_in_year" / "当年基金投资金额（元）",
        IndustrialCapitalRoundsInYear = "industrial_capital_rounds_in_year" / "当年产业资本合作项目（个）",
        IndustrialCapitalAmountInYear = "industrial_capital_amount_in_year" / "当年产业资本合作金额（元）",
        SrdiReservePool = "srdi_reserve_pool" / "上市后备资源库中的专精特新企业（家）",
        SrdiNewListingsSincePlan = "srdi_new_listings_since_plan" / "规划期内新增上市的专精特新企业（家）",
        SrdiOnRegionalBoard = "srdi_on_regional_board" / "专精特新板挂牌的专精特新企业（家）",
        SrdiShareholdingReformsInYear = "srdi_shareholding_reforms_in_year" / "当年完成股改的专精特新企业（家）",
    }
);

impl ProgrammeMetric {
    /// Metrics that count firms at or above a per-firm figure read it from `firm_threshold`.
    pub fn takes_firm_threshold(self) -> bool {
        matches!(
            self,
            ProgrammeMetric::SrdiRdRatioShare
                | ProgrammeMetric::SrdiDigitalisationShare
                | ProgrammeMetric::LittleGiantDigitalisationShare
                | ProgrammeMetric::SrdiMainBusinessShare
        )
    }
}

vocabulary!(
    /// Where a target stands.
    TargetStatus {
        Met = "met" / "已达到",
        NotMet = "not_met" / "未达到",
        NoData = "no_data" / "暂无数据",
        NotTracked = "not_tracked" / "本系统不统计",
    }
);

/// One quantified target of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    /// Where the plan states it: `三(一)` for a main target, `四(六)21` for task 21.
    pub section: String,
    pub wording_zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<ProgrammeMetric>,
    #[serde(default = "by_horizon")]
    pub period: TargetPeriod,
    pub comparison: Comparison,
    /// The figure; absent for "more than last year" targets, whose figure is last year's actual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
    /// 左右 / 基本 / 普遍 in the wording.
    #[serde(default)]
    pub approximate: bool,
    /// For shares of firms: the figure each firm must reach (e.g. R&D ≥ 3% of revenue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub firm_threshold: Option<Decimal>,
    pub unit: String,
    /// How the service counts it (with `metric`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counting: Option<String>,
    /// Why the service cannot count it (without `metric`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_tracked: Option<String>,
}

fn by_horizon() -> TargetPeriod {
    TargetPeriod::ByHorizon
}

/// The plan and its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub plan: String,
    pub issued_by: String,
    pub issued_on: NaiveDate,
    /// First year counted by "new since the plan" targets.
    pub first_year: i32,
    pub horizon_year: i32,
    #[serde(default)]
    pub notes: Vec<String>,
    pub targets: Vec<Target>,
}

const BUILTIN: &str = include_str!("../../rules/programme/shandong-srdi-plan-2022.json");

impl Plan {
    /// The plan shipped with the service, parsed and validated.
    pub fn builtin() -> Result<Plan, RuleSetError> {
        let plan: Plan =
            serde_json::from_str(BUILTIN).map_err(|e| RuleSetError { path: "$".to_owned(), message: e.to_string() })?;
        plan.validate()?;
        Ok(plan)
    }

    /// Rejects a malformed target list, naming the field (`targets[3].counting`).
    pub fn validate(&self) -> Result<(), RuleSetError> {
        let fail = |path: String, message: &str| Err(RuleSetError { path, message: message.to_owned() });
        if self.horizon_year < self.first_year {
            return fail("horizon_year".into(), "must not be before first_year");
        }
        for (i, t) in self.targets.iter().enumerate() {
            let at = |field: &str| format!("targets[{i}].{field}");
            let valid_id =
                !t.id.is_empty() && t.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_id {
                return fail(at("id"), "must be non-empty snake_case");
            }
            if self.targets[..i].iter().any(|o| o.id == t.id) {
                return fail(at("id"), "duplicate id");
            }
            if t.section.trim().is_empty() || t.wording_zh.trim().is_empty() || t.unit.trim().is_empty() {
                return fail(at("wording_zh"), "section, wording_zh and unit must not be empty");
            }
            match (t.metric, &t.counting, &t.not_tracked) {
                (Some(_), Some(c), None) if !c.trim().is_empty() => {}
                (None, None, Some(r)) if !r.trim().is_empty() => {}
                (Some(_), _, _) => {
                    return fail(at("counting"), "a tracked target says how it is counted, and has no not_tracked");
                }
                (None, _, _) => return fail(at("not_tracked"), "a target without a metric says why it is not tracked"),
            }
            let needs_target = !(t.period == TargetPeriod::YearOnYear && t.metric.is_some());
            if needs_target != t.target.is_some() {
                return fail(at("target"), "required, except for a tracked year-on-year target (last year's actual)");
            }
            let takes = t.metric.is_some_and(ProgrammeMetric::takes_firm_threshold);
            if takes != t.firm_threshold.is_some() {
                return fail(
                    at("firm_threshold"),
                    "required exactly for metrics that count firms at or above a figure",
                );
            }
        }
        Ok(())
    }
}

/// What the service measured for one metric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricValue {
    /// `None` when nothing could be measured (e.g. a share over no firm with data).
    pub actual: Option<Decimal>,
    /// The same figure over every firm, where the target covers 专精特新 firms only.
    pub actual_all_firms: Option<Decimal>,
    /// Last year's figure, for year-on-year targets.
    pub previous: Option<Decimal>,
    /// Firms whose figure is known (the denominator of a share or mean).
    pub firms_counted: Option<i64>,
    /// Firms of the population (e.g. every 专精特新 firm), known figure or not.
    pub population: Option<i64>,
    /// Firms of the population whose recognition year is not recorded (new-recognition targets).
    pub firms_year_unknown: Option<i64>,
}

/// A target beside its actual.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetResult {
    pub id: String,
    pub section: String,
    pub wording_zh: String,
    pub metric: Option<ProgrammeMetric>,
    pub period: TargetPeriod,
    pub unit: String,
    pub comparison: Comparison,
    /// For a year-on-year target: last year's actual.
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
    pub approximate: bool,
    #[schema(value_type = Option<String>)]
    pub firm_threshold: Option<Decimal>,
    pub status: TargetStatus,
    #[schema(value_type = Option<String>)]
    pub actual: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub actual_all_firms: Option<Decimal>,
    pub firms_counted: Option<i64>,
    pub population: Option<i64>,
    pub firms_year_unknown: Option<i64>,
    /// actual ÷ target in percent, for counts and amounts.
    #[schema(value_type = Option<String>)]
    pub progress_pct: Option<Decimal>,
    pub counting: Option<String>,
    pub not_tracked_reason: Option<String>,
}

/// Compares an actual with its target, exactly. `value` is `None` for a target not tracked.
pub fn assess(t: &Target, value: Option<&MetricValue>) -> TargetResult {
    let mut r = TargetResult {
        id: t.id.clone(),
        section: t.section.clone(),
        wording_zh: t.wording_zh.clone(),
        metric: t.metric,
        period: t.period,
        unit: t.unit.clone(),
        comparison: t.comparison,
        target: t.target,
        approximate: t.approximate,
        firm_threshold: t.firm_threshold,
        status: TargetStatus::NotTracked,
        actual: None,
        actual_all_firms: None,
        firms_counted: None,
        population: None,
        firms_year_unknown: None,
        progress_pct: None,
        counting: t.counting.clone(),
        not_tracked_reason: t.not_tracked.clone(),
    };
    let (Some(_), Some(v)) = (t.metric, value) else {
        return r;
    };
    r.actual = v.actual;
    r.actual_all_firms = v.actual_all_firms;
    r.firms_counted = v.firms_counted;
    r.population = v.population;
    r.firms_year_unknown = v.firms_year_unknown;
    if t.period == TargetPeriod::YearOnYear {
        r.target = v.previous;
    }
    r.status = match (r.actual, r.target) {
        (Some(a), Some(goal)) => {
            if t.comparison.holds(a, goal) {
                TargetStatus::Met
            } else {
                TargetStatus::NotMet
            }
        }
        _ => TargetStatus::NoData,
    };
    let counts = !t.unit.starts_with("percent") && t.period != TargetPeriod::YearOnYear;
    if counts
        && let (Some(a), Some(goal)) = (r.actual, r.target)
        && goal > Decimal::ZERO
    {
        r.progress_pct = a.checked_mul(Decimal::ONE_HUNDRED).and_then(|x| x.checked_div(goal)).map(|x| x.round_dp(2));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn target(id: &str) -> Target {
        Plan::builtin().unwrap().targets.into_iter().find(|t| t.id == id).unwrap()
    }

    #[test]
    fn the_plan_is_valid_and_every_quantified_target_is_there() {
        let plan = Plan::builtin().unwrap();
        let ids: Vec<&str> = plan.targets.iter().map(|t| t.id.as_str()).collect();
        for id in [
            "innovative_sme_in_pool",
            "provincial_srdi_new",
            "provincial_srdi_cumulative",
            "little_giant_new",
            "little_giant_cumulative",
            "provincial_srdi_rd_ratio",
            "provincial_srdi_rd_institution_coverage",
            "little_giant_invention_patents",
            "little_giant_rd_ratio",
            "little_giant_rd_platform_coverage",
            "provincial_srdi_digital_transformation",
            "little_giant_digital_transformation",
            "srdi_digital_application",
            "srdi_cloud_migration",
            "srdi_main_business_share",
            "provincial_srdi_key_chain_supply",
            "little_giant_key_chain_supply",
            "srdi_credit_growth",
            "roadshows_per_year",
            "fund_projects_per_year",
            "fund_amount_per_year",
            "industrial_capital_projects_per_year",
            "industrial_capital_amount_per_year",
            "srdi_reserve_pool",
            "srdi_new_listings",
            "srdi_board",
            "srdi_shareholding_reforms_per_year",
        ] {
            assert!(ids.contains(&id), "{id} missing");
            assert!(target(id).metric.is_some(), "{id} is tracked");
        }
        // The figures as the plan states them, with their direction.
        assert_eq!(
            (target("innovative_sme_in_pool").target, target("innovative_sme_in_pool").comparison),
            (Some(d("20000")), Comparison::Gte)
        );
        assert_eq!(
            (target("little_giant_rd_ratio").target, target("little_giant_rd_ratio").comparison),
            (Some(d("7")), Comparison::Gt)
        );
        assert_eq!(target("industrial_capital_amount_per_year").target, Some(d("5000000000")));
        assert_eq!(target("provincial_srdi_rd_ratio").firm_threshold, Some(d("3")));
    }

    /// docs/statistics.md explains every target the data holds.
    #[test]
    fn the_documentation_covers_every_target() {
        let doc = include_str!("../../docs/statistics.md");
        for t in Plan::builtin().unwrap().targets {
            assert!(doc.contains(&format!("`{}`", t.id)), "docs/statistics.md does not explain {}", t.id);
        }
    }

    #[test]
    fn validation_names_the_field() {
        let mut plan = Plan::builtin().unwrap();
        plan.targets[0].counting = None;
        assert_eq!(plan.validate().unwrap_err().path, "targets[0].counting");
        let mut plan = Plan::builtin().unwrap();
        plan.targets[5].firm_threshold = None;
        assert_eq!(plan.validate().unwrap_err().path, "targets[5].firm_threshold");
        let mut plan = Plan::builtin().unwrap();
        let last = plan.targets.len() - 1;
        plan.targets[last].not_tracked = None;
        assert_eq!(plan.validate().unwrap_err().path, format!("targets[{last}].not_tracked"));
    }

    #[test]
    fn assessment_is_exact_and_keeps_the_direction() {
        let value = |a: &str| MetricValue { actual: Some(d(a)), ..MetricValue::default() };
        // (target, actual, status)
        let cases = [
            ("little_giant_rd_ratio", "7", TargetStatus::NotMet),
            ("little_giant_rd_ratio", "7.01", TargetStatus::Met),
            ("little_giant_invention_patents", "15", TargetStatus::Met),
            ("little_giant_invention_patents", "14.99", TargetStatus::NotMet),
            ("srdi_reserve_pool", "999", TargetStatus::NotMet),
            ("srdi_reserve_pool", "1000", TargetStatus::Met),
        ];
        for (id, actual, status) in cases {
            assert_eq!(assess(&target(id), Some(&value(actual))).status, status, "{id} at {actual}");
        }
        let r = assess(&target("srdi_reserve_pool"), Some(&value("250")));
        assert_eq!(r.progress_pct, Some(d("25")));
        // A share over no firm with data is no data, not zero.
        let r = assess(
            &target("srdi_cloud_migration"),
            Some(&MetricValue { firms_counted: Some(0), ..MetricValue::default() }),
        );
        assert_eq!((r.status, r.progress_pct), (TargetStatus::NoData, None));
        // Year on year: more than last year.
        let t = target("srdi_credit_growth");
        let yoy = |a: &str, p: &str| MetricValue { actual: Some(d(a)), previous: Some(d(p)), ..MetricValue::default() };
        assert_eq!(assess(&t, Some(&yoy("100", "100"))).status, TargetStatus::NotMet);
        let r = assess(&t, Some(&yoy("101", "100")));
        assert_eq!((r.status, r.target), (TargetStatus::Met, Some(d("100"))));
        // Not tracked: the reason, no figures.
        let r = assess(&target("little_giant_entrepreneur_training"), None);
        assert_eq!(r.status, TargetStatus::NotTracked);
        assert!(r.not_tracked_reason.is_some() && r.actual.is_none());
    }
}
