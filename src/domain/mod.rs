//! Pure domain types and rules. Nothing in here performs I/O or reads the clock: callers pass
//! "now" and the data in, and get decisions out.

pub mod access;
pub mod application;
pub mod bank;
pub mod consent;
pub mod credit_code;
pub mod events;
pub mod firm;
pub mod firm_inputs;
pub mod ids;
pub mod investment;
pub mod listing_stage;
pub mod matching;
pub mod pool;
pub mod product;
pub mod programme;
pub mod readiness;
pub mod roadshow;
pub mod tier_check;
pub mod validate;
pub mod webhook;

/// A string that is not one of a closed vocabulary's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub allowed: &'static [&'static str],
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "must be one of: {}", self.allowed.join(", "))
    }
}

impl std::error::Error for UnknownValue {}

/// A closed vocabulary: its values, their wire spelling and their Chinese label. The pages look
/// the English label up in their message catalogue by `NAME` and wire value.
pub trait Vocabulary: Copy + 'static {
    const NAME: &'static str;
    fn all() -> &'static [Self];
    fn wire(self) -> &'static str;
    fn zh(self) -> &'static str;
}

/// A vocabulary value, or a reference to one (templates hold either).
pub trait VocabularyValue {
    type Value: Vocabulary;
    fn vocabulary_value(&self) -> Self::Value;
}

impl<T: VocabularyValue + ?Sized> VocabularyValue for &T {
    type Value = T::Value;
    fn vocabulary_value(&self) -> T::Value {
        (**self).vocabulary_value()
    }
}
