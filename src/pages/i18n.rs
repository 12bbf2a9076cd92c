//! The pages' message catalogue: one TOML file per language (`locales/zh.toml`, `locales/en.toml`),
//! compiled into the binary and flattened to dotted keys at first use.
//!
//! Labels of closed vocabularies (cities, tiers, statuses…) are not repeated here in Chinese: the
//! domain's `vocabulary!` declarations carry them, and the English catalogue adds `vocab.{Type}.{wire}`.
//! Tests check that both catalogues have the same keys, that every key a template uses exists, and
//! that every vocabulary the pages show has its English labels.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::Vocabulary;

/// Simplified Chinese is the service's first language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The value of the `lang` attribute of `<html>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The preferred language of an `Accept-Language` header among the two offered; Chinese
    /// when the header names neither.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else { return Lang::Zh };
        let mut best: Option<(f32, usize, Lang)> = None;
        for (position, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, bp, _)| q > bq || (q == bq && position < bp)) {
                best = Some((q, position, lang));
            }
        }
        best.map_or(Lang::Zh, |(_, _, l)| l)
    }
}

type Messages = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Messages) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn parse(source: &str) -> Messages {
    let table: toml::Table = source.parse().unwrap_or_else(|e| panic!("a message catalogue is not valid TOML: {e}"));
    let mut out = Messages::new();
    flatten("", &table, &mut out);
    out
}

pub const ZH_SOURCE: &str = include_str!("../../locales/zh.toml");
pub const EN_SOURCE: &str = include_str!("../../locales/en.toml");

static ZH: LazyLock<Messages> = LazyLock::new(|| parse(ZH_SOURCE));
static EN: LazyLock<Messages> = LazyLock::new(|| parse(EN_SOURCE));

fn messages(lang: Lang) -> &'static Messages {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The message for `key`; a missing key shows as itself (tests keep that from happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match messages(lang).get(key) {
        Some(m) => m.as_str(),
        None => {
            tracing::warn!(key, lang = lang.code(), "message missing from the catalogue");
            Box::leak(key.to_owned().into_boxed_str())
        }
    }
}

/// A field error in the reader's language. The domain writes its messages in English with the
/// specifics (limits, the value refused); Chinese readers get the catalogue's wording of the error's
/// code, with those specifics after it when the code alone does not say what to fix.
pub fn field_error(lang: Lang, error: &crate::domain::validate::FieldError) -> String {
    let summary = messages(lang).get(&format!("field_error.{}", error.code));
    match (lang, summary) {
        (_, Some(s)) if error.code == "required" => s.clone(),
        (Lang::Zh, Some(s)) => format!("{s}（{}）", error.message),
        _ => error.message.clone(),
    }
}

/// The label of a vocabulary value: the domain's Chinese label, or the catalogue's English one.
pub fn vocab<V: Vocabulary>(lang: Lang, value: V) -> &'static str {
    match lang {
        Lang::Zh => value.zh(),
        Lang::En => EN.get(&format!("vocab.{}.{}", V::NAME, value.wire())).map_or(value.wire(), String::as_str),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn page_keys(m: &Messages) -> BTreeSet<&str> {
        m.keys().map(String::as_str).filter(|k| !k.starts_with("vocab.")).collect()
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let (zh, en) = (parse(ZH_SOURCE), parse(EN_SOURCE));
        let (zk, ek) = (page_keys(&zh), page_keys(&en));
        let only_zh: Vec<_> = zk.difference(&ek).collect();
        let only_en: Vec<_> = ek.difference(&zk).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh: {only_zh:?}; only in en: {only_en:?}");
        assert!(!zh.keys().any(|k| k.starts_with("vocab.")), "Chinese vocabulary labels come from the domain");
        for (k, v) in zh.iter().chain(en.iter()) {
            assert!(!v.trim().is_empty(), "{k} is empty");
        }
    }

    /// Every `.t("…")` / `.t1("…", …)` key in the templates and page code exists.
    #[test]
    fn every_key_in_use_exists() {
        let en = parse(EN_SOURCE);
        let mut sources = Vec::new();
        for dir in ["templates", "src/pages"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(&dir).expect("source folder") {
                let path = entry.expect("entry").path();
                sources.push((path.display().to_string(), std::fs::read_to_string(&path).expect("readable")));
            }
        }
        let mut missing = Vec::new();
        let mut seen = 0;
        for (file, text) in &sources {
            for marker in [".t(\"", ".t1(\""] {
                for piece in text.split(marker).skip(1) {
                    let key = piece.split('"').next().unwrap_or("");
                    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.';
                    if key.is_empty() || !key.chars().all(plain) {
                        continue;
                    }
                    seen += 1;
                    if !en.contains_key(key) {
                        missing.push(format!("{file}: {key}"));
                    }
                }
            }
        }
        assert!(seen > 50, "the scan found only {seen} keys: is it still looking at the right files?");
        assert!(missing.is_empty(), "keys missing from the catalogue: {missing:#?}");
    }

    #[test]
    fn every_unit_of_the_plan_has_a_label() {
        let plan = crate::domain::programme::Plan::builtin().expect("plan");
        for t in &plan.targets {
            let key = format!("unit.{}", t.unit);
            assert!(ZH.contains_key(&key) && EN.contains_key(&key), "{key} missing from a catalogue");
        }
    }

    #[test]
    fn field_errors_are_worded_for_the_reader() {
        use crate::domain::validate::FieldError;
        let required = FieldError::new("name", "required", "is required");
        assert_eq!(field_error(Lang::Zh, &required), "必填");
        assert_eq!(field_error(Lang::En, &required), "Required");
        let scale = FieldError::new("revenue", "invalid", "must have at most two decimal places (fen)");
        assert_eq!(field_error(Lang::Zh, &scale), "格式不正确（must have at most two decimal places (fen)）");
        assert_eq!(field_error(Lang::En, &scale), "must have at most two decimal places (fen)");
        let unknown = FieldError::new("x", "no_such_code", "as the domain said");
        assert_eq!(field_error(Lang::Zh, &unknown), "as the domain said");
    }

    #[test]
    fn vocabularies_shown_on_pages_have_english_labels() {
        fn check<V: Vocabulary>(missing: &mut Vec<String>) {
            for v in V::all() {
                let key = format!("vocab.{}.{}", V::NAME, v.wire());
                if !EN.contains_key(&key) {
                    missing.push(key);
                }
            }
        }
        use crate::domain::{access, application, firm, investment, listing_stage, readiness, roadshow};
        let mut missing = Vec::new();
        check::<access::Role>(&mut missing);
        check::<application::ApplicationStatus>(&mut missing);
        check::<application::DeclineReason>(&mut missing);
        check::<firm::City>(&mut missing);
        check::<firm::Tier>(&mut missing);
        check::<firm::Venue>(&mut missing);
        check::<firm::TaxCreditGrade>(&mut missing);
        check::<investment::InvestmentStatus>(&mut missing);
        check::<investment::InvestmentRound>(&mut missing);
        check::<listing_stage::ListingStage>(&mut missing);
        check::<readiness::Verdict>(&mut missing);
        check::<roadshow::Centre>(&mut missing);
        check::<roadshow::RoadshowStatus>(&mut missing);
        check::<roadshow::RegistrationStatus>(&mut missing);
        check::<crate::service::matches::MatchStatus>(&mut missing);
        check::<crate::domain::programme::ProgrammeMetric>(&mut missing);
        check::<crate::domain::programme::TargetStatus>(&mut missing);
        check::<crate::domain::matching::RuleKind>(&mut missing);
        check::<readiness::rules::RuleScope>(&mut missing);
        assert!(missing.is_empty(), "English labels missing: {missing:#?}");
    }

    #[test]
    fn accept_language_picks_the_preferred_of_the_two() {
        assert_eq!(Lang::negotiate(None), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("de-DE,en;q=0.5,zh;q=0.4")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en;q=0.3,zh-TW;q=0.7")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en;q=0")), Lang::Zh);
    }
}
