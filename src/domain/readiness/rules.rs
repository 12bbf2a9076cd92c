//! Listing standards as data: the serde shape an operator edits (`RuleSet`), its validation with
//! field paths, and the typed form the evaluator runs (`Compiled*`, crate-private).
//!
//! A criterion is written flat in JSON (one object, a handful of optional keys) because operators
//! correct figures by hand; `compile` turns it into a typed test and is the only place that decides
//! which key combinations are legal, so `validate()` and the evaluator can never disagree.
//!
//! This is not the data: the standards themselves are JSON under `rules/`. This file is their
//! schema and its validation; `rules/compile.rs` holds the typed form and the compiler.

mod compile;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::firm::{Venue, vocabulary};
use crate::domain::readiness::input::ChoiceInput;
pub(crate) use compile::{
    CompileCtx, CompiledCriterion, CompiledRuleSet, CompiledStandard, CompiledVariant, Quantity, Test,
    compile_criteria, compile_rule_set, compile_standard,
};

vocabulary!(
    /// How far a figure in the rule data is backed by a found source (reference file, §0).
    Confidence {
        Confirmed = "confirmed" / "已核实[C]",
        PartlyConfirmed = "partly_confirmed" / "部分核实[P]",
        Unconfirmed = "unconfirmed" / "未核实[U]",
    }
);

vocabulary!(
    /// What a rule set decides: admission to the venue, or (NEEQ) entry to its innovation layer.
    RuleScope {
        Listing = "listing" / "上市/挂牌",
        InnovationLayer = "innovation_layer" / "进入创新层",
    }
);

vocabulary!(
    /// A number the evaluator can compute for a firm. Yearly metrics need an `aggregate`;
    /// current metrics describe the firm on the evaluation date; event metrics sum dated events
    /// over a trailing number of `months`.
    Metric {
        Revenue = "revenue" / "营业收入",
        MainBusinessRevenue = "main_business_revenue" / "主营业务收入",
        NetProfit = "net_profit" / "净利润",
        NetProfitDeducted = "net_profit_deducted" / "扣除非经常性损益后的净利润",
        NetProfitLower = "net_profit_lower" / "净利润(扣非前后孰低)",
        RdExpense = "rd_expense" / "研发投入",
        OperatingCashFlow = "operating_cash_flow" / "经营活动产生的现金流量净额",
        TotalAssets = "total_assets" / "资产总额",
        TotalLiabilities = "total_liabilities" / "负债总额",
        NetAssets = "net_assets" / "净资产",
        WeightedRoe = "weighted_roe" / "加权平均净资产收益率",
        WeightedRoeDeducted = "weighted_roe_deducted" / "扣除非经常性损益后的加权平均净资产收益率",
        WeightedRoeLower = "weighted_roe_lower" / "加权平均净资产收益率(扣非前后孰低)",
        Employees = "employees" / "员工总数",
        RdStaff = "rd_staff" / "研发人员数",
        ExpectedMarketValue = "expected_market_value" / "预计市值",
        MonthsOnNeeq = "months_on_neeq" / "新三板挂牌满月数",
        MonthsOnNeeqInnovationLayer = "months_on_neeq_innovation_layer" / "创新层满月数",
        InventionPatents = "invention_patents" / "发明专利数",
        RdStaffShare = "rd_staff_share" / "研发人员占比",
        ShareCapital = "share_capital" / "股本总额",
        NetAssetsPerShare = "net_assets_per_share" / "每股净资产",
        FullFiscalYearsOperating = "full_fiscal_years_operating" / "持续经营完整会计年度数",
        NicheMarketYears = "niche_market_years" / "从事细分市场年限",
        DigitalisationLevel = "digitalisation_level" / "数字化水平等级",
        QualityItems = "quality_items" / "质量管理项数",
        NationalNicheMarketShare = "national_niche_market_share" / "主导产品全国细分市场占有率",
        ClassIIpInUse = "class_i_ip_in_use" / "在用Ⅰ类知识产权数",
        InnovativeOperationItems = "innovative_operation_items" / "创新型生产经营项数",
        EquityFinancing = "equity_financing" / "股权融资额",
        EquityFinancingInstitutional = "equity_financing_institutional" / "合格机构投资者股权融资额",
        EquityFinancingMinValuation = "equity_financing_min_valuation" / "期间内各次股权融资投后估值的最低值",
    }
);

/// Where a metric's value comes from; decides which criterion keys are legal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Yearly,
    Current,
    Event,
}

vocabulary!(
    /// Unit of a value shown in a result.
    Unit {
        Yuan = "yuan" / "元",
        Percent = "percent" / "%",
        Count = "count" / "个/人",
        Months = "months" / "月",
        Years = "years" / "年",
        Level = "level" / "级",
        Points = "points" / "分",
    }
);

impl Metric {
    pub(crate) fn kind(self) -> MetricKind {
        use Metric::*;
        match self {
            Revenue | MainBusinessRevenue | NetProfit | NetProfitDeducted | NetProfitLower | RdExpense
            | OperatingCashFlow | TotalAssets | TotalLiabilities | NetAssets | WeightedRoe | WeightedRoeDeducted
            | WeightedRoeLower | Employees | RdStaff => MetricKind::Yearly,
            EquityFinancing | EquityFinancingInstitutional | EquityFinancingMinValuation => MetricKind::Event,
            _ => MetricKind::Current,
        }
    }

    pub(crate) fn unit(self) -> Unit {
        use Metric::*;
        match self {
            WeightedRoe | WeightedRoeDeducted | WeightedRoeLower | RdStaffShare | NationalNicheMarketShare => {
                Unit::Percent
            }
            Employees | RdStaff | InventionPatents | QualityItems | ClassIIpInUse | InnovativeOperationItems => {
                Unit::Count
            }
            MonthsOnNeeq | MonthsOnNeeqInnovationLayer => Unit::Months,
            FullFiscalYearsOperating | NicheMarketYears => Unit::Years,
            DigitalisationLevel => Unit::Level,
            _ => Unit::Yuan,
        }
    }
}

vocabulary!(
    /// How a yearly metric is read over the fiscal years ending at the latest one.
    /// `years` counts fiscal years for latest/each/sum/average/cagr and growth periods for
    /// each_growth/average_growth (which therefore read `years + 1` fiscal years).
    Aggregate {
        Latest = "latest" / "最近一年",
        Each = "each" / "最近N年每年",
        Sum = "sum" / "最近N年累计",
        Average = "average" / "最近N年平均",
        Growth = "growth" / "最近一年增长率",
        EachGrowth = "each_growth" / "最近N年每年增长率",
        AverageGrowth = "average_growth" / "最近N年平均增长率",
        Cagr = "cagr" / "最近N年复合增长率",
    }
);

vocabulary!(
    /// Comparison of the actual value against the threshold.
    Comparison {
        Gte = "gte" / "不低于",
        Gt = "gt" / "高于",
        Lte = "lte" / "不高于",
        Lt = "lt" / "低于",
    }
);

impl Comparison {
    pub(crate) fn holds(self, actual: Decimal, threshold: Decimal) -> bool {
        match self {
            Comparison::Gte => actual >= threshold,
            Comparison::Gt => actual > threshold,
            Comparison::Lte => actual <= threshold,
            Comparison::Lt => actual < threshold,
        }
    }

    /// True for "at least" comparisons, where a larger actual is better.
    pub(crate) fn wants_more(self) -> bool {
        matches!(self, Comparison::Gte | Comparison::Gt)
    }
}

vocabulary!(
    /// A yes/no fact the evaluator derives from the input.
    Fact {
        NeeqInnovationLayer = "neeq_innovation_layer" / "新三板创新层挂牌公司",
        InReservePool = "in_reserve_pool" / "已入上市后备资源库",
        TierInnovativeSmeOrAbove = "tier_innovative_sme_or_above" / "创新型中小企业及以上",
        TierProvincialSrdiOrAbove = "tier_provincial_srdi_or_above" / "省级专精特新中小企业及以上",
        TierLittleGiant = "tier_little_giant" / "国家级专精特新\"小巨人\"企业",
        MeetsExchangeFinancialStandard = "meets_exchange_financial_standard" / "营收或利润达到沪深北交易所上市标准",
        FundBacked = "fund_backed" / "有政府投资基金、创投或私募股权基金入股（据融资记录）",
        EquityRoundBOrLater = "equity_round_b_or_later" / "已完成B轮及以上私募股权融资（据融资记录）",
    }
);

/// Where a figure comes from. `id` refers to the source list of the reference file (S1…S53).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceNote {
    pub id: String,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One testable condition. Exactly one of `metric`, `fact`, `attestation`, `industry_not_in`,
/// `choice`, `score` or `any_of` says what kind it is; see `compile` for the legal key sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub name: String,
    pub label_zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Denominator: the criterion then compares `metric / over` in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub threshold: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<Fact>,
    /// Key of a qualitative condition an operator asserts in `ReadinessInput::attestations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// With `attestation`: only the office may state it (a judgement, not a fact the firm can
    /// document). Otherwise a firm may self-declare it, marked as such.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_only: Option<bool>,
    /// GB/T 4754 prefixes (section letter, optionally with division digits) that fail the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_not_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ChoiceInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// Name of a scorecard (tier schemes only); `category` narrows it to one category subtotal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub any_of: Option<Vec<Criterion>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

/// One way of meeting a standard: all its criteria must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    pub criteria: Vec<Criterion>,
}

/// A listing standard (or an entry condition group). Written either with `criteria` (one way
/// to meet it) or with `variants` (any one of several ways, e.g. BSE standard 1 (a)/(b)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    pub code: String,
    pub label_zh: String,
    /// A condition that applies only for part of its rule set's period (e.g. one application
    /// round's extra requirement): it is evaluated on `effective_from <= date < effective_to`
    /// and left out of the answer otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<Criterion>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<Variant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A dated version of one venue's rules. In force on `effective_from <= date < effective_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub venue: Venue,
    pub scope: RuleScope,
    pub version: String,
    pub title_zh: String,
    pub effective_from: NaiveDate,
    /// Exclusive; `null` while the set is the current one.
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Confidence of the figures as a whole; standards and criteria may mark their own.
    pub confidence: Confidence,
    /// Confidence of `effective_from` / `effective_to`.
    pub dates_confidence: Confidence,
    pub sources: Vec<SourceNote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// All must hold (e.g. BSE: NEEQ innovation layer ≥ 12 months; STAR: 科创属性).
    #[serde(default)]
    pub entry_conditions: Vec<Standard>,
    /// At least one must hold.
    pub standards: Vec<Standard>,
}

/// A qualitative condition that some rule reads from attestations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationKey {
    pub key: String,
    pub label_zh: String,
    /// Only the office may state it; a firm's key is refused.
    pub office_only: bool,
    /// Where it is read: `rule version: standard code`.
    pub read_by: Vec<String>,
}

/// Adds the attestation keys the standards read to `into` (by key). A key any rule marks
/// office-only is office-only.
pub(crate) fn collect_attestation_keys<'a>(
    standards: impl IntoIterator<Item = &'a Standard>,
    version: &str,
    into: &mut std::collections::BTreeMap<String, AttestationKey>,
) {
    fn walk(c: &Criterion, origin: &str, into: &mut std::collections::BTreeMap<String, AttestationKey>) {
        if let Some(key) = &c.attestation {
            let entry = into.entry(key.clone()).or_insert_with(|| AttestationKey {
                key: key.clone(),
                label_zh: c.label_zh.clone(),
                office_only: false,
                read_by: Vec::new(),
            });
            entry.office_only |= c.office_only == Some(true);
            if !entry.read_by.iter().any(|r| r == origin) {
                entry.read_by.push(origin.to_owned());
            }
        }
        for o in c.any_of.iter().flatten() {
            walk(o, origin, into);
        }
    }
    for s in standards {
        let origin = format!("{version}: {}", s.code);
        let variants = s.variants.iter().flatten().map(|v| &v.criteria);
        for c in s.criteria.iter().chain(variants).flatten() {
            walk(c, &origin, into);
        }
    }
}

/// A malformed rule set, with the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleSetError {
    pub path: String,
    pub message: String,
}

pub(crate) fn err<T>(path: &str, message: impl Into<String>) -> Result<T, RuleSetError> {
    Err(RuleSetError { path: path.to_owned(), message: message.into() })
}

impl RuleSet {
    /// Rejects a malformed set, naming the field (`standards[1].criteria[0].threshold`).
    pub fn validate(&self) -> Result<(), RuleSetError> {
        compile_rule_set(self).map(|_| ())
    }

    /// Whether the set is in force on `date`.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date < to)
    }
}
