//! The people-facing half of an explanation: each rule's actual and required value as the API
//! spells them, and for an unmet rule what it would take, in Chinese and English.

use super::*;

pub(super) fn actual(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Option<String> {
    match rule {
        RuleKind::Tiers => f.tier.map(|t| t.as_str().to_owned()),
        RuleKind::MinYearsInOperation => f.months.map(|m| m.div_euclid(12).to_string()),
        RuleKind::MinRevenue => f.revenue_fen.map(yuan),
        RuleKind::MinRdRatio => f.rd_ppm.map(ratio),
        RuleKind::MinInventionPatents => f.patents.map(|p| p.to_string()),
        RuleKind::TaxCreditGrades => f.grade.map(|g| g.as_str().to_owned()),
        RuleKind::Cities => Some(f.city.as_str().to_owned()),
        RuleKind::IndustryPrefixes => f.industry.map(unpack),
        RuleKind::ReservePoolOnly => Some(f.in_pool.to_string()),
        // Whether *this* bank is the lead bank, never the lead bank's id: bank A must not learn
        // that bank B is the firm's 主办行.
        RuleKind::LeadBankOnly => Some((f.lead_bank == Some(p.bank_id)).to_string()),
        RuleKind::TargetVenues => (f.venues != 0).then(|| names(Venue::ALL, f.venues.into(), |v| venue_bit(v).into())),
        RuleKind::ProductActive => Some(p.active.to_string()),
        // Not the date itself, which would change the stored explanation every day.
        RuleKind::ProductValidity => Some(
            if p.valid_from.is_some_and(|from| f.on < from) {
                "not_started"
            } else if p.valid_to.is_some_and(|to| f.on > to) {
                "ended"
            } else {
                "open"
            }
            .to_owned(),
        ),
    }
}

pub(super) fn required(rule: RuleKind, p: &CompiledProduct) -> String {
    match rule {
        RuleKind::Tiers => names(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into()),
        RuleKind::MinYearsInOperation => (p.min_months / 12).to_string(),
        RuleKind::MinRevenue => yuan(p.min_revenue_fen),
        RuleKind::MinRdRatio => ratio(p.min_rd_ppm),
        RuleKind::MinInventionPatents => p.min_patents.to_string(),
        RuleKind::TaxCreditGrades => names(TaxCreditGrade::ALL, p.grades.into(), |g| grade_bit(g).into()),
        RuleKind::Cities => names(City::ALL, p.cities, city_bit),
        RuleKind::IndustryPrefixes => p.prefixes.iter().map(|x| unpack(x.value)).collect::<Vec<_>>().join(","),
        RuleKind::ReservePoolOnly | RuleKind::LeadBankOnly | RuleKind::ProductActive => "true".to_owned(),
        RuleKind::TargetVenues => names(Venue::ALL, p.venues.into(), |v| venue_bit(v).into()),
        RuleKind::ProductValidity => {
            let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
            format!("{}..{}", d(p.valid_from), d(p.valid_to))
        }
    }
}

pub(super) fn advice(rule: RuleKind, f: &FirmFacts, p: &CompiledProduct) -> Advice {
    let a = |zh: String, en: String| Advice { zh, en };
    match rule {
        RuleKind::Tiers => {
            let zh = labels(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into(), |t| t.label_zh());
            let en = names(Tier::ALL, p.tiers.into(), |t| tier_bit(t).into()).replace(',', " or ");
            match f.tier {
                None => a(format!("需获评{zh}"), format!("Be recognised as {en}; the firm holds no tier yet")),
                Some(t) => a(
                    format!("需获评{zh}（当前为{}）", t.label_zh()),
                    format!("Be recognised as {en} (now {})", t.as_str()),
                ),
            }
        }
        RuleKind::MinYearsInOperation => {
            let years = p.min_months / 12;
            let when =
                f.founded_on.and_then(|d| d.checked_add_months(Months::new(u32::try_from(p.min_months).unwrap_or(0))));
            match when {
                None => a(
                    format!("请补充企业成立日期（要求成立满 {years} 年）"),
                    format!("Record the founding date (at least {years} years in operation required)"),
                ),
                Some(date) => a(
                    format!("成立满 {years} 年后可申请，即 {date} 起"),
                    format!("Eligible once {years} years in operation, from {date}"),
                ),
            }
        }
        RuleKind::MinRevenue => {
            let need = yuan(p.min_revenue_fen);
            match f.revenue_fen {
                None => a(
                    format!("请补充最近一个财年的营业收入（要求不低于 {need} 元）"),
                    format!("Report revenue for the latest fiscal year (at least {need} yuan required)"),
                ),
                Some(r) => {
                    let gap = yuan(p.min_revenue_fen.saturating_sub(r));
                    let now = yuan(r);
                    a(
                        format!("营业收入还需增加 {gap} 元（当前 {now} 元，要求不低于 {need} 元）"),
                        format!("Revenue must grow by {gap} yuan (now {now}, at least {need} required)"),
                    )
                }
            }
        }
        RuleKind::MinRdRatio => {
            let need = percent_text(p.min_rd_ppm);
            match (f.rd_ppm, f.rd_fen, f.revenue_fen) {
                (Some(ppm), Some(rd), Some(rev)) => {
                    // The R&D expense that would reach the ratio at today's revenue, rounded up to the fen.
                    let target = (i128::from(p.min_rd_ppm) * i128::from(rev) + 999_999).div_euclid(1_000_000);
                    let gap = i64::try_from(target - i128::from(rd)).unwrap_or(i64::MAX).max(0);
                    let (now, gap) = (percent_text(ppm), yuan(gap));
                    a(
                        format!(
                            "研发投入占营业收入比例需达到 {need}（当前 {now}），按当前营收需再增加研发费用 {gap} 元"
                        ),
                        format!(
                            "R&D must reach {need} of revenue (now {now}): {gap} yuan more R&D expense at current revenue"
                        ),
                    )
                }
                _ => a(
                    format!("请补充最近一个财年的营业收入（需大于零）和研发费用（要求研发占比不低于 {need}）"),
                    format!(
                        "Report latest fiscal-year revenue (above zero) and R&D expense (an R&D ratio of at least {need} is required)"
                    ),
                ),
            }
        }
        RuleKind::MinInventionPatents => {
            let need = p.min_patents;
            match f.patents {
                None => a(
                    format!("请补充已授权发明专利数量（要求不少于 {need} 件）"),
                    format!("Report the number of granted invention patents (at least {need} required)"),
                ),
                Some(have) => {
                    let gap = need.saturating_sub(have);
                    a(
                        format!("还需 {gap} 件已授权发明专利（当前 {have} 件，要求不少于 {need} 件）"),
                        format!("{gap} more granted invention patent(s) needed (now {have}, at least {need} required)"),
                    )
                }
            }
        }
        RuleKind::TaxCreditGrades => {
            let need = names(TaxCreditGrade::ALL, p.grades.into(), |g| grade_bit(g).into());
            let zh_need = need.replace(',', "、");
            let en_need = need.replace(',', ", ");
            match f.grade {
                None => a(
                    format!("请补充纳税信用等级（要求为 {zh_need} 级之一）"),
                    format!("Record the tax credit grade (one of {en_need} required)"),
                ),
                Some(g) => a(
                    format!("纳税信用等级需为 {zh_need} 级之一（当前 {} 级）", g.as_str()),
                    format!("Tax credit grade must be one of {en_need} (now {})", g.as_str()),
                ),
            }
        }
        RuleKind::Cities => a(
            format!("本产品仅面向{}的企业", labels(City::ALL, p.cities, city_bit, |c| c.label_zh())),
            format!("Only for firms in {}", names(City::ALL, p.cities, city_bit).replace(',', ", ")),
        ),
        RuleKind::IndustryPrefixes => {
            let need = required(rule, p);
            let zh_need = need.replace(',', "、");
            let en_need = need.replace(',', ", ");
            match f.industry {
                None => a(
                    format!("请补充所属行业代码（GB/T 4754，本产品面向 {zh_need} 开头的行业）"),
                    format!("Record the industry code (GB/T 4754; the product is for codes starting with {en_need})"),
                ),
                Some(code) => {
                    let now = unpack(code);
                    a(
                        format!("本产品仅面向行业代码以 {zh_need} 开头的企业（当前 {now}）"),
                        format!("Only for industry codes starting with {en_need} (now {now})"),
                    )
                }
            }
        }
        RuleKind::ReservePoolOnly => {
            a("需先纳入上市后备资源库".to_owned(), "Be admitted to the listing reserve pool first".to_owned())
        }
        RuleKind::LeadBankOnly => a(
            "本产品仅面向以本行为主办行的企业，可申请将本行确定为主办行".to_owned(),
            "Only for firms whose lead bank (主办行) is this bank; the firm may designate it as lead bank".to_owned(),
        ),
        RuleKind::TargetVenues => {
            let zh = labels(Venue::ALL, p.venues.into(), |v| venue_bit(v).into(), |v| v.label_zh());
            let en = names(Venue::ALL, p.venues.into(), |v| venue_bit(v).into()).replace(',', ", ");
            a(
                format!("需以{zh}为上市目标并登记上市进程"),
                format!("Target one of these venues and record the listing progress: {en}"),
            )
        }
        RuleKind::ProductActive => {
            a("该产品已下架，暂不受理".to_owned(), "The product has been withdrawn by the bank".to_owned())
        }
        RuleKind::ProductValidity => {
            let window = required(rule, p);
            a(
                format!("该产品不在有效期内（有效期 {window}）"),
                format!("The product is outside its validity window ({window})"),
            )
        }
    }
}

fn names<T: Copy + std::fmt::Display>(all: &[T], mask: u16, bit: impl Fn(T) -> u16) -> String {
    all.iter().filter(|x| mask & bit(**x) != 0).map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

fn labels<T: Copy>(all: &[T], mask: u16, bit: impl Fn(T) -> u16, label: impl Fn(T) -> &'static str) -> String {
    all.iter().filter(|x| mask & bit(**x) != 0).map(|x| label(*x)).collect::<Vec<_>>().join("、")
}

fn yuan(fen: i64) -> String {
    Decimal::new(fen, 2).to_string()
}

fn ratio(ppm: i64) -> String {
    Decimal::new(ppm, 6).normalize().to_string()
}

fn percent_text(ppm: i64) -> String {
    format!("{}%", Decimal::new(ppm, 4).normalize())
}
