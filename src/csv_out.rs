//! The one way the service writes CSV. Exports are opened in Excel and WPS by loan officers and
//! the office, and a spreadsheet runs a cell that starts like a formula: a firm registered as
//! `=HYPERLINK(...)` must arrive as text. Every cell therefore passes [`neutralise`] (the OWASP
//! CSV-injection rule): a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! leading `'`, except a plain decimal number such as `-1.5`, which stays a number.

use std::borrow::Cow;
use std::io::Write;

/// A CSV writer whose every cell is neutralised.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl CsvWriter<Vec<u8>> {
    pub fn in_memory() -> Self {
        CsvWriter::new(Vec::new())
    }
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> Self {
        CsvWriter { inner: csv::Writer::from_writer(out) }
    }

    pub fn row<I, T>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner.write_record(cells.into_iter().map(|c| neutralise(c.as_ref()).into_owned()))
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> anyhow::Result<W> {
        self.inner.into_inner().map_err(|e| anyhow::anyhow!("csv: {}", e.error()))
    }
}

/// The cell as a spreadsheet should show it: text that a spreadsheet would evaluate is prefixed
/// with `'`; everything else, plain numbers included, is unchanged.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(cell) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// An optional sign, digits, and at most one decimal point among them: `-12`, `+0.5`, `-3.`.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut points = 0;
    let mut seen_digit = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' => points += 1,
            _ => return false,
        }
    }
    seen_digit && points <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_text_and_numbers_stay_numbers() {
        for (cell, shown) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-.", "'-."),
            ("-1e5", "'-1e5"),
            ("-12.50", "-12.50"),
            ("+3", "+3"),
            ("1500000.00", "1500000.00"),
            ("济南某某有限公司", "济南某某有限公司"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), shown, "{cell:?}");
        }
    }

    #[test]
    fn rows_are_written_neutralised_and_read_back() {
        let mut w = CsvWriter::in_memory();
        w.row(["name", "amount"]).expect("header");
        w.row(["=1+2", "-5.5"]).expect("row");
        let bytes = w.finish().expect("finish");
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let row = r.records().next().expect("row").expect("parses");
        assert_eq!((&row[0], &row[1]), ("'=1+2", "-5.5"));
    }
}
