//! The synthetic firms themselves: names, places, tiers, three fiscal years and the dated
//! inputs, generated deterministically from a seed, and their CSV form.

use super::*;

/// Approximate 2023 GDP in 100 million yuan: only a weight for where synthetic firms sit.
const CITY_WEIGHTS: &[(City, u32)] = &[
    (City::Qingdao, 15760),
    (City::Jinan, 12757),
    (City::Yantai, 10162),
    (City::Weifang, 7606),
    (City::Linyi, 6105),
    (City::Jining, 5516),
    (City::Zibo, 4561),
    (City::Heze, 4465),
    (City::Dezhou, 3707),
    (City::Dongying, 3752),
    (City::Weihai, 3408),
    (City::Taian, 3217),
    (City::Binzhou, 3112),
    (City::Liaocheng, 2877),
    (City::Rizhao, 2431),
    (City::Zaozhuang, 2161),
];

/// (GB/T 4754 class, name word, weight): mostly manufacturing, some software and R&D services.
const INDUSTRIES: &[(&str, &str, u32)] = &[
    ("C3562", "半导体装备", 6),
    ("C3471", "工业机器人", 6),
    ("C3922", "通信设备", 5),
    ("C2710", "生物医药", 7),
    ("C3985", "电子元件", 7),
    ("C3811", "电机", 6),
    ("C2651", "新材料", 8),
    ("C3360", "精密制造", 6),
    ("C3441", "液压装备", 5),
    ("C4011", "仪器仪表", 5),
    ("C2929", "高分子材料", 5),
    ("C3670", "汽车零部件", 8),
    ("C3581", "医疗器械", 6),
    ("C3839", "电气机械", 5),
    ("C3976", "光电子", 4),
    ("C3513", "矿山装备", 4),
    ("C3130", "特种钢材", 3),
    ("I6513", "软件", 6),
    ("I6531", "信息技术", 4),
    ("M7320", "工程技术", 3),
];

const BRAND: &[&str] = &[
    "华", "鲁", "齐", "泰", "恒", "瑞", "海", "创", "智", "博", "诚", "远", "嘉", "宏", "信", "科", "正", "明", "德",
    "盛", "源", "航", "峰", "通", "达", "新", "元", "开", "润", "晟",
];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "孙", "周", "吴", "徐", "马", "朱", "胡", "高"];
const GIVEN: &[&str] = &["伟", "芳", "强", "敏", "静", "磊", "洋", "军", "杰", "娟", "涛", "明", "超", "霞", "鹏"];

const ORG_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn pick<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// A unique, valid credit code for firm number `i`: the index, scrambled, becomes the 9-character
/// organisation code, so codes never collide and still look varied.
pub fn synthetic_credit_code(city: City, i: usize, seed: u64) -> String {
    const SPACE: u64 = 27_512_614_111; // 31^7
    let mixed = (i as u64 + seed.wrapping_mul(7_919)).wrapping_mul(2_654_435_761) % SPACE;
    let mut n = mixed;
    let mut org = [b'0'; 7];
    for slot in org.iter_mut().rev() {
        *slot = ORG_ALPHABET[(n % 31) as usize];
        n /= 31;
    }
    let body = format!("91{}00MA{}", city.region_prefix(), String::from_utf8_lossy(&org));
    CreditCode::complete(&body).map(|c| c.to_string()).unwrap_or(body)
}

fn money(v: Decimal) -> String {
    v.round_dp(2).to_string()
}

/// Raw import rows for `n` firms, three fiscal years each (the three years before `today`'s).
pub fn synthetic_rows(n: usize, seed: u64, today: NaiveDate) -> Vec<RawRow> {
    synthetic_firms(n, seed, today).flatten().collect()
}

/// The same firms as [`synthetic_rows`], one firm's rows at a time, so that a large population is
/// written in batches and never held in memory whole.
pub fn synthetic_firms(n: usize, seed: u64, today: NaiveDate) -> SyntheticFirms {
    SyntheticFirms { rng: StdRng::seed_from_u64(seed), seed, today, next: 0, n }
}

pub struct SyntheticFirms {
    rng: StdRng,
    seed: u64,
    today: NaiveDate,
    next: usize,
    n: usize,
}

impl Iterator for SyntheticFirms {
    type Item = Vec<RawRow>;

    fn next(&mut self) -> Option<Vec<RawRow>> {
        if self.next >= self.n {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(synthetic_firm(&mut self.rng, i, self.seed, self.today))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.next;
        (left, Some(left))
    }
}

/// Firm number `i`'s rows; `rng` is the stream shared by all firms in order.
fn synthetic_firm(rng: &mut StdRng, i: usize, seed: u64, today: NaiveDate) -> Vec<RawRow> {
    let last_year = today.year() - 1;
    let mut rows = Vec::with_capacity(3);
    {
        let city = *pick(rng, CITY_WEIGHTS);
        let (industry, word) = {
            let total: u32 = INDUSTRIES.iter().map(|(_, _, w)| w).sum();
            let mut x = rng.random_range(0..total);
            let mut chosen = INDUSTRIES[0];
            for ind in INDUSTRIES {
                if x < ind.2 {
                    chosen = *ind;
                    break;
                }
                x -= ind.2;
            }
            (chosen.0, chosen.1)
        };
        let tier_roll = rng.random_range(0..100);
        let tier = match tier_roll {
            0..10 => None,
            10..55 => Some(Tier::InnovativeSme),
            55..92 => Some(Tier::ProvincialSrdi),
            _ => Some(Tier::LittleGiant),
        };
        let brand = format!("{}{}", BRAND[rng.random_range(0..BRAND.len())], BRAND[rng.random_range(0..BRAND.len())]);
        let suffix = if rng.random_bool(0.3) { "股份有限公司" } else { "科技有限公司" };
        let name = format!(
            "{}{}{}{}{}",
            city.label_zh(),
            brand,
            word,
            suffix,
            if i.is_multiple_of(7) { format!("（{}）", i) } else { String::new() }
        );
        let founded = NaiveDate::from_ymd_opt(
            rng.random_range(1995..=last_year - 2),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .unwrap_or(today);
        // Log-uniform revenue base between 2,000万 and 20亿 yuan, larger for higher tiers.
        let tier_boost = match tier {
            Some(Tier::LittleGiant) => 1.0,
            Some(Tier::ProvincialSrdi) => 0.5,
            _ => 0.0,
        };
        let exponent: f64 = rng.random_range(7.3..9.0) + tier_boost * rng.random_range(0.0..0.3);
        let base_revenue = Decimal::from(10f64.powf(exponent) as i64 / 1000 * 1000);
        let growth_pct = rng.random_range(-5..=35);
        let margin_pct = rng.random_range(-2..=16);
        let rd_pct_x10: i64 = match tier {
            Some(Tier::LittleGiant) => rng.random_range(50..=150),
            Some(Tier::ProvincialSrdi) => rng.random_range(30..=110),
            _ => rng.random_range(15..=90),
        };
        let patents_base: i64 = match tier {
            Some(Tier::LittleGiant) => rng.random_range(8..=60),
            Some(Tier::ProvincialSrdi) => rng.random_range(2..=25),
            _ => rng.random_range(0..=10),
        };
        let employees_base: i64 = rng.random_range(60..=1500);
        let rd_staff_pct: i64 = rng.random_range(8..=35);
        let neeq = rng.random_range(0..100) < 12;
        let expected_mv = base_revenue * Decimal::from(rng.random_range(2..=12));
        let tier_year = tier.map(|_| rng.random_range(2019..=last_year));
        let firm = FirmInput {
            credit_code: Some(synthetic_credit_code(city, i, seed)),
            name: Some(name),
            city: Some(city.as_str().to_owned()),
            district: None,
            industry_code: Some(industry.to_owned()),
            tier: tier.map(|t| t.as_str().to_owned()),
            tier_recognized_year: tier_year,
            founded_on: Some(founded.to_string()),
            expected_market_value: Some(money(expected_mv)),
            neeq_listed_on: neeq.then(|| {
                NaiveDate::from_ymd_opt(rng.random_range(2015..=last_year), 6, 30).unwrap_or(today).to_string()
            }),
            neeq_layer: neeq.then(|| if rng.random_bool(0.4) { "innovation" } else { "basic" }.to_owned()),
            tax_credit_grade: Some(["A", "A", "A", "B", "B", "M"][rng.random_range(0..6)].to_owned()),
            contact_name: Some(format!(
                "{}{}",
                SURNAMES[rng.random_range(0..SURNAMES.len())],
                GIVEN[rng.random_range(0..GIVEN.len())]
            )),
            contact_email: Some(format!("finance{i}@firm{i}.example.cn")),
            contact_phone: Some(format!("0{}-8{:07}", 531 + (i % 9), rng.random_range(0..10_000_000))),
        };
        let mut revenue = base_revenue;
        // The other inputs come from their own stream, so the registry figures above stay what
        // they were before these inputs existed.
        let mut extra = StdRng::seed_from_u64(seed ^ 0x5eed_1d5f ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut firm_inputs = firm_level_inputs(&mut extra, tier, tier_year, base_revenue, today);
        let capital_base = (base_revenue * Decimal::from(extra.random_range(5..=40)) / Decimal::from(100_000_000))
            .round_dp(0)
            * Decimal::from(1_000_000);
        for k in 0..3 {
            let year = last_year - 2 + k;
            if k > 0 {
                let g = growth_pct + rng.random_range(-5..=5);
                revenue = (revenue * Decimal::from(100 + g) / Decimal::ONE_HUNDRED).round_dp(2);
            }
            let margin = Decimal::from(margin_pct + rng.random_range(-2..=2));
            let net_profit = (revenue * margin / Decimal::ONE_HUNDRED).round_dp(2);
            let non_recurring = (revenue * Decimal::from(rng.random_range(0..=8)) / Decimal::from(1000)).round_dp(2);
            let rd = (revenue * Decimal::from(rd_pct_x10 + rng.random_range(-5..=5)) / Decimal::from(1000)).round_dp(2);
            let total_assets = (revenue * Decimal::from(rng.random_range(90..=180)) / Decimal::ONE_HUNDRED).round_dp(2);
            let liabilities =
                (total_assets * Decimal::from(rng.random_range(25..=65)) / Decimal::ONE_HUNDRED).round_dp(2);
            let net_assets = total_assets - liabilities;
            let roe_of = |profit: Decimal| {
                if net_assets > Decimal::ZERO {
                    (profit * Decimal::ONE_HUNDRED / net_assets).round_dp(2)
                } else {
                    Decimal::ZERO
                }
            };
            let (roe, roe_deducted) = (roe_of(net_profit), roe_of(net_profit - non_recurring));
            // Audit reports come out by the end of April; a year not yet audited carries no date.
            let audited_on = NaiveDate::from_ymd_opt(year + 1, 4, 20).filter(|d| *d <= today);
            let employees = employees_base + k as i64 * rng.random_range(0..=40);
            let fin = FinancialsInput {
                revenue: Some(money(revenue)),
                main_business_revenue: Some(money(
                    revenue * Decimal::from(rng.random_range(75..=100)) / Decimal::ONE_HUNDRED,
                )),
                net_profit: Some(money(net_profit)),
                net_profit_deducted: Some(money(net_profit - non_recurring)),
                rd_expense: Some(money(rd)),
                operating_cash_flow: Some(money(
                    net_profit * Decimal::from(rng.random_range(60..=140)) / Decimal::ONE_HUNDRED,
                )),
                total_assets: Some(money(total_assets)),
                total_liabilities: Some(money(liabilities)),
                net_assets: Some(money(net_assets)),
                weighted_roe: Some(roe.to_string()),
                weighted_roe_deducted: Some(roe_deducted.to_string()),
                invention_patents: Some(patents_base + k as i64 * rng.random_range(0..=4)),
                employees: Some(employees),
                rd_staff: Some(employees * rd_staff_pct / 100),
                audited_on: audited_on.map(|d| d.to_string()),
            };
            let mut inputs = if k == 0 { std::mem::take(&mut firm_inputs) } else { RawInputs::default() };
            year_inputs(
                &mut extra,
                &mut inputs,
                tier,
                year,
                founded,
                capital_base + Decimal::from(k as i64 * 2_000_000),
            );
            rows.push(RawRow {
                row: 3 * i + rows.len() + 2,
                firm: firm.clone(),
                year: Some((i64::from(year), fin)),
                financial_years: Vec::new(),
                inputs,
                read_errors: Vec::new(),
            });
        }
    }
    rows
}

/// Recognition years, attestations and a financing record of one synthetic firm: plausible for its
/// tier (a 小巨人 was provincial 专精特新 one to three years earlier and usually meets the
/// qualitative 小巨人 conditions; recognised firms often have fund money behind them).
fn firm_level_inputs(
    rng: &mut StdRng,
    tier: Option<Tier>,
    tier_year: Option<i32>,
    revenue: Decimal,
    today: NaiveDate,
) -> RawInputs {
    let mut out = RawInputs::default();
    if let (Some(Tier::LittleGiant), Some(year)) = (tier, tier_year) {
        out.tier_recognitions.push(TierRecognitionInput {
            tier: Some(Tier::ProvincialSrdi.as_str().to_owned()),
            recognized_year: Some(i64::from(year - rng.random_range(1..=3))),
            document_ref: None,
        });
    }
    let stated = (today - chrono::Duration::days(rng.random_range(30..=300))).to_string();
    let attest = |out: &mut RawInputs, key: &str, holds: bool| {
        out.attestations.push(AttestationInput {
            key: Some(key.to_owned()),
            holds: Some(holds),
            stated_on: Some(stated.clone()),
            ..AttestationInput::default()
        })
    };
    if matches!(tier, Some(Tier::ProvincialSrdi | Tier::LittleGiant)) {
        let strong = tier == Some(Tier::LittleGiant);
        for key in [
            "lg_strategy_governance_credit",
            "lg_core_business_information_system",
            "lg_management_or_product_certification",
            "lg_own_brand",
            "lg_key_chain_link",
            "lg_priority_product_field",
            "lg_not_single_champion_or_group_member",
        ] {
            let holds = rng.random_range(0..100) < if strong { 92 } else { 60 };
            attest(&mut out, key, holds);
        }
        attest(&mut out, "lg_national_st_award_top3_3y", rng.random_range(0..100) < 5);
        attest(&mut out, "lg_maker_china_top50_3y", false);
    }
    if tier.is_some() {
        attest(&mut out, "innovative_valid_honour", rng.random_range(0..100) < 70);
    }
    // About 40% of recognised firms, 15% of the others, have a complete financing record.
    let funded = rng.random_range(0..100) < if tier.is_some() { 40 } else { 15 };
    if funded {
        let kinds = ["vc_pe", "vc_pe", "government_fund", "industrial_capital", "individual"];
        let rounds_kinds = ["series_a", "series_b", "series_c", "strategic", "pre_ipo"];
        let n = rng.random_range(1..=3);
        let mut rounds = Vec::with_capacity(n);
        for _ in 0..n {
            let paid_in_on = today - chrono::Duration::days(rng.random_range(60..=1400));
            let amount = (revenue * Decimal::from(rng.random_range(5..=40)) / Decimal::ONE_HUNDRED).round_dp(0);
            let valuation = amount * Decimal::from(rng.random_range(6..=15));
            rounds.push(EquityRoundInput {
                paid_in_on: Some(paid_in_on.to_string()),
                amount: Some(money(amount)),
                post_money_valuation: Some(money(valuation)),
                round: Some(rounds_kinds[rng.random_range(0..rounds_kinds.len())].to_owned()),
                investor: None,
                investor_kind: Some(kinds[rng.random_range(0..kinds.len())].to_owned()),
                by_qualified_institution: Some(rng.random_bool(0.7)),
                document_ref: None,
            });
        }
        out.equity_financings = Some(EquityFinancingsInput { complete_through: Some(today.to_string()), rounds });
    }
    out
}

/// One fiscal year's year-end share capital and tier scoring inputs, stronger for higher tiers;
/// a few answers are left out, as real records have gaps.
fn year_inputs(
    rng: &mut StdRng,
    into: &mut RawInputs,
    tier: Option<Tier>,
    year: i32,
    founded: NaiveDate,
    capital: Decimal,
) {
    into.year_end_share_capital.push((i64::from(year), money(capital.max(Decimal::from(1_000_000)))));
    let level = match tier {
        Some(Tier::LittleGiant) => 3,
        Some(Tier::ProvincialSrdi) => 2,
        Some(Tier::InnovativeSme) => 1,
        None => 0,
    };
    let pick = |rng: &mut StdRng, options: &[&str]| -> String {
        let i = (level + rng.random_range(0..=1)).min(options.len() as i32 - 1).max(0) as usize;
        options[i].to_owned()
    };
    let sometimes = |rng: &mut StdRng| rng.random_range(0..100) >= 8;
    let niche_years = (year - founded.year()).max(0) - rng.random_range(0..=3);
    let ip_class = pick(rng, &["no_ip", "class_ii", "class_i", "self_developed_class_i", "high_value_class_i"]);
    let class_i = if matches!(ip_class.as_str(), "no_ip" | "class_ii") {
        0
    } else {
        1 + i64::from(level) * rng.random_range(0..=3)
    };
    into.tier_inputs.push((
        i64::from(year),
        TierInputsInput {
            ip_best_class: Some(ip_class),
            class_i_ip_in_use: Some(class_i),
            strategic_emerging_industry: sometimes(rng).then(|| rng.random_bool(0.6)),
            niche_market_years: Some(niche_years.max(0).to_string()),
            product_chain_role: Some(pick(rng, &["other", "other", "basic_or_key_supplier", "fills_chain_gap"])),
            digitalisation_level: Some(i64::from((level + rng.random_range(0..=1)).clamp(1, 4))),
            quality_items: Some(i64::from(level.min(2)) + rng.random_range(0..=2)),
            rd_institution_level: Some(pick(
                rng,
                &["no_institution", "below_municipal", "municipal", "provincial", "national"],
            )),
            national_niche_market_share: Some((i64::from(level) * 4 + rng.random_range(0..=12)).to_string()),
            provincial_key_industry: Some(pick(
                rng,
                &["not_key", "county_key", "city_key", "provincial_plan", "provincial_plan_and_chain"],
            )),
            innovative_operation_items: Some(i64::from(level.min(2)) + rng.random_range(0..=1)),
            niche_share_rank: Some(pick(
                rng,
                &["below", "provincial_top10", "national_top10_or_provincial_top3", "national_top3"],
            )),
            cloud_migrated: sometimes(rng).then(|| rng.random_range(0..100) < 35 + level * 18 + (year % 3) * 5),
            key_chain_supplier: sometimes(rng).then(|| rng.random_range(0..100) < 30 + level * 20),
        },
    ));
}

/// Writes rows in the import CSV layout (see `service::import`). Share capital, tier inputs and
/// recognition years travel as columns; attestations and financing records need the JSON layout.
/// Returns how many rows it wrote.
pub fn write_csv<R: std::borrow::Borrow<RawRow>>(
    rows: impl IntoIterator<Item = R>,
    out: impl std::io::Write,
) -> anyhow::Result<usize> {
    let mut w = CsvWriter::new(out);
    let mut header: Vec<&str> = import::FIRM_CSV_COLUMNS.to_vec();
    header.extend(import::FINANCIAL_CSV_COLUMNS);
    header.extend(inputs_csv::FIRM_CSV_COLUMNS);
    header.extend(inputs_csv::YEAR_CSV_COLUMNS);
    w.row(&header)?;
    let mut written = 0;
    for r in rows {
        let r = r.borrow();
        written += 1;
        let f = &r.firm;
        let t = |v: &Option<String>| v.clone().unwrap_or_default();
        let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        let mut rec = vec![
            t(&f.credit_code),
            t(&f.name),
            t(&f.city),
            t(&f.district),
            t(&f.industry_code),
            t(&f.tier),
            n(f.tier_recognized_year.map(i64::from)),
            t(&f.founded_on),
            t(&f.expected_market_value),
            t(&f.neeq_listed_on),
            t(&f.neeq_layer),
            t(&f.tax_credit_grade),
            t(&f.contact_name),
            t(&f.contact_email),
            t(&f.contact_phone),
        ];
        match &r.year {
            Some((year, y)) => rec.extend([
                year.to_string(),
                t(&y.revenue),
                t(&y.main_business_revenue),
                t(&y.net_profit),
                t(&y.net_profit_deducted),
                t(&y.rd_expense),
                t(&y.operating_cash_flow),
                t(&y.total_assets),
                t(&y.total_liabilities),
                t(&y.net_assets),
                t(&y.weighted_roe),
                n(y.invention_patents),
                n(y.employees),
                n(y.rd_staff),
                t(&y.weighted_roe_deducted),
                t(&y.audited_on),
            ]),
            None => rec.extend(std::iter::repeat_n(String::new(), import::FINANCIAL_CSV_COLUMNS.len())),
        }
        let inputs = &r.inputs;
        for tier in [Tier::InnovativeSme, Tier::ProvincialSrdi, Tier::LittleGiant] {
            let year = inputs.tier_recognitions.iter().find(|x| x.tier.as_deref() == Some(tier.as_str()));
            rec.push(n(year.and_then(|x| x.recognized_year)));
        }
        rec.push(inputs.year_end_share_capital.first().map(|(_, a)| a.clone()).unwrap_or_default());
        let b = |v: Option<bool>| v.map(|x| x.to_string()).unwrap_or_default();
        match inputs.tier_inputs.first() {
            Some((_, ti)) => rec.extend([
                t(&ti.ip_best_class),
                n(ti.class_i_ip_in_use),
                b(ti.strategic_emerging_industry),
                t(&ti.niche_market_years),
                t(&ti.product_chain_role),
                n(ti.digitalisation_level),
                n(ti.quality_items),
                t(&ti.rd_institution_level),
                t(&ti.national_niche_market_share),
                t(&ti.provincial_key_industry),
                n(ti.innovative_operation_items),
                t(&ti.niche_share_rank),
                b(ti.cloud_migrated),
                b(ti.key_chain_supplier),
            ]),
            None => rec.extend(std::iter::repeat_n(String::new(), inputs_csv::YEAR_CSV_COLUMNS.len() - 1)),
        }
        w.row(&rec)?;
    }
    std::io::Write::flush(&mut w.finish()?)?;
    Ok(written)
}
