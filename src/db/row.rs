//! Typed reads from a row, applying the column encodings of [`super::types`].

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::types::{Day, Flag, Ts, yuan};

fn decode_err(col: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: col.to_owned(), source: e.to_string().into() }
}

pub trait RowExt {
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error>;
    fn opt_flag(&self, col: &str) -> Result<Option<bool>, sqlx::Error>;

    fn uuid(&self, col: &str) -> Result<Uuid, sqlx::Error> {
        self.id(col)
    }
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>, sqlx::Error> {
        self.opt_id(col)
    }
    /// An id column read as its typed id (`r.id::<FirmId>("firm_id")`): any type that parses
    /// like a UUID.
    fn id<I: FromStr<Err = uuid::Error>>(&self, col: &str) -> Result<I, sqlx::Error> {
        self.text(col)?.parse::<I>().map_err(|e| decode_err(col, e))
    }
    fn opt_id<I: FromStr<Err = uuid::Error>>(&self, col: &str) -> Result<Option<I>, sqlx::Error> {
        self.opt_text(col)?.map(|s| s.parse::<I>().map_err(|e| decode_err(col, e))).transpose()
    }
    fn ts(&self, col: &str) -> Result<DateTime<Utc>, sqlx::Error> {
        Ts::try_from(self.text(col)?).map(|t| t.0).map_err(|e| decode_err(col, e))
    }
    fn opt_ts(&self, col: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        self.opt_text(col)?.map(|s| Ts::try_from(s).map(|t| t.0).map_err(|e| decode_err(col, e))).transpose()
    }
    fn day(&self, col: &str) -> Result<NaiveDate, sqlx::Error> {
        Day::try_from(self.text(col)?).map(|d| d.0).map_err(|e| decode_err(col, e))
    }
    fn opt_day(&self, col: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
        self.opt_text(col)?.map(|s| Day::try_from(s).map(|d| d.0).map_err(|e| decode_err(col, e))).transpose()
    }
    fn money(&self, col: &str) -> Result<Decimal, sqlx::Error> {
        self.int(col).map(yuan)
    }
    fn opt_money(&self, col: &str) -> Result<Option<Decimal>, sqlx::Error> {
        self.opt_int(col).map(|v| v.map(yuan))
    }
    fn opt_decimal(&self, col: &str) -> Result<Option<Decimal>, sqlx::Error> {
        self.opt_text(col)?.map(|s| Decimal::from_str(&s).map_err(|e| decode_err(col, e))).transpose()
    }
    fn vocab<T: FromStr>(&self, col: &str) -> Result<T, sqlx::Error>
    where
        T::Err: std::fmt::Display,
    {
        self.text(col)?.parse::<T>().map_err(|e| decode_err(col, e))
    }
    fn opt_vocab<T: FromStr>(&self, col: &str) -> Result<Option<T>, sqlx::Error>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_text(col)?.map(|s| s.parse::<T>().map_err(|e| decode_err(col, e))).transpose()
    }
    fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T, sqlx::Error> {
        serde_json::from_str(&self.text(col)?).map_err(|e| decode_err(col, e))
    }
}

impl RowExt for AnyRow {
    fn text(&self, col: &str) -> Result<String, sqlx::Error> {
        self.try_get::<String, _>(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get::<Option<String>, _>(col)
    }
    fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
        self.try_get::<i64, _>(col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get::<Option<i64>, _>(col)
    }
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
        self.try_get::<Flag, _>(col).map(|f| f.0)
    }
    fn opt_flag(&self, col: &str) -> Result<Option<bool>, sqlx::Error> {
        self.try_get::<Option<Flag>, _>(col).map(|f| f.map(|f| f.0))
    }
}

/// A bind value for queries assembled at run time (optional filters).
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    OptBool(Option<bool>),
}

impl Bind {
    /// Binds this value as the query's next parameter.
    pub fn bind_to<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        match self {
            Bind::Text(s) => q.bind(s),
            Bind::OptText(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
            Bind::OptInt(i) => q.bind(i),
            Bind::Bool(v) => q.bind(v),
            Bind::OptBool(v) => q.bind(v),
        }
    }
}

/// Builds `WHERE` clauses with numbered `$n` placeholders, which both backends accept.
#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    pub binds: Vec<Bind>,
}

impl Filter {
    /// Adds a bind value and returns its placeholder.
    pub fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// `clause` contains `{}` where the placeholder goes.
    pub fn and(&mut self, clause: &str, b: Bind) {
        let p = self.bind(b);
        self.clauses.push(clause.replace("{}", &p));
    }

    pub fn and_raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }

    pub fn apply<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            q = b.clone().bind_to(q);
        }
        q
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `($s, $s+1, …), (…)` for a multi-row `VALUES` list of `rows` rows of `cols` columns,
/// numbering from `$start`.
pub fn values_placeholders(rows: usize, cols: usize, start: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(start + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// `$s, $s+1, …` for an `IN (…)` list.
pub fn list_placeholders(n: usize, start: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
