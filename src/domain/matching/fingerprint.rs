//! The outcome fingerprint: a stable hash of everything an outcome shows, stored with a
//! materialised match to tell whether its explanation must be rewritten.

use super::MatchOutcome;

impl MatchOutcome {
    /// FNV-1a over everything the outcome shows, in a fixed order. Stable across processes and
    /// Rust releases (unlike `std`'s hasher), so it can be stored next to a materialised match.
    /// It changes when this module changes its wording, which is the point: the stored text is
    /// then out of date too.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        h.bytes(&[u8::from(self.eligible), self.score]);
        for (tag, list) in [(b'm', &self.met), (b'u', &self.unmet)] {
            h.bytes(&[tag]);
            for r in list {
                h.text(r.rule.as_str());
                match &r.actual {
                    Some(a) => h.text(a),
                    None => h.bytes(&[0xff]),
                }
                h.text(&r.required);
                h.bytes(&[u8::from(r.comfortable)]);
                match &r.advice {
                    Some(a) => {
                        h.text(&a.zh);
                        h.text(&a.en);
                    }
                    None => h.bytes(&[0xff]),
                }
            }
        }
        h.0
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for byte in b {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Length-prefixed, so ("ab","c") and ("a","bc") differ.
    fn text(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
}
