//! Unified social credit code (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters from a 31-character alphabet (no I, O, S, V, Z). The 18th is a check character:
//! with weights 3^(i-1) mod 31 over the first 17, value(c18) = (31 - Σ value·weight mod 31) mod 31.
//! Positions 3–8 are the registering authority's GB/T 2260 region code.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A validated, normalised credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditCodeError {
    Length(usize),
    Character { position: usize, found: char },
    CheckCharacter { expected: char, found: char },
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreditCodeError::Length(n) => write!(f, "must be 18 characters, found {n}"),
            CreditCodeError::Character { position, found } => write!(
                f,
                "character {found:?} at position {position} is not allowed (digits and A-Y except I, O, S, V, Z)"
            ),
            CreditCodeError::CheckCharacter { expected, found } => {
                write!(f, "check character is {found:?} but the GB 32100-2015 check gives {expected:?}")
            }
        }
    }
}

impl std::error::Error for CreditCodeError {}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (which must already be in the alphabet).
fn check_character(body: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (c, w) in body.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(ALPHABET[v as usize] as char)
}

impl CreditCode {
    /// Normalises (trims, upper-cases, drops spaces and hyphens) and validates.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let normalised: String =
            input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        let count = normalised.chars().count();
        if count != 18 {
            return Err(CreditCodeError::Length(count));
        }
        // The 18th character is judged by the check itself, which names the expected one.
        for (i, c) in normalised.chars().take(17).enumerate() {
            if !c.is_ascii() || value_of(c as u8).is_none() {
                return Err(CreditCodeError::Character { position: i + 1, found: c });
            }
        }
        let bytes = normalised.as_bytes();
        let expected = check_character(&bytes[..17]).unwrap_or('?');
        let found = normalised.chars().nth(17).unwrap_or('?');
        if expected != found {
            return Err(CreditCodeError::CheckCharacter { expected, found });
        }
        Ok(CreditCode(normalised))
    }

    /// Completes a 17-character body with its check character (for synthetic data).
    pub fn complete(body17: &str) -> Option<CreditCode> {
        let upper = body17.to_ascii_uppercase();
        if upper.len() != 17 {
            return None;
        }
        let check = check_character(upper.as_bytes())?;
        Some(CreditCode(format!("{upper}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registering authority's GB/T 2260 region code (positions 3–8).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_vectors() {
        let cases: &[(&str, Result<&str, CreditCodeError>)] = &[
            ("91110000600037341L", Ok("91110000600037341L")),
            (" 9111-0000-6000 37341l ", Ok("91110000600037341L")),
            ("91350100M000100Y4Z", Err(CreditCodeError::CheckCharacter { expected: '3', found: 'Z' })),
            ("91350100M000100Y43", Ok("91350100M000100Y43")),
            ("9111000060003734", Err(CreditCodeError::Length(16))),
            ("91110000600037341LX", Err(CreditCodeError::Length(19))),
            ("91110000600O37341L", Err(CreditCodeError::Character { position: 12, found: 'O' })),
            ("9111000060003734IL", Err(CreditCodeError::Character { position: 17, found: 'I' })),
            ("91110000600037341中", Err(CreditCodeError::CheckCharacter { expected: 'L', found: '中' })),
            ("", Err(CreditCodeError::Length(0))),
        ];
        for (input, expected) in cases {
            let got = CreditCode::parse(input).map(|c| c.0);
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                expected.as_ref().map(|s| *s).map_err(|e| *e),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn complete_produces_valid_codes() {
        let code = CreditCode::complete("91370100MA3C0000").map(|c| c.0);
        assert_eq!(code, None, "16 characters are not a body");
        let code = CreditCode::complete("91370100MA3C00001").expect("valid body");
        assert!(CreditCode::parse(code.as_str()).is_ok());
        assert_eq!(code.region_code(), "370100");
    }

    #[test]
    fn every_single_character_change_is_detected() {
        let valid = "91110000600037341L";
        for pos in 0..18 {
            for &c in ALPHABET.iter() {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[pos] == c {
                    continue;
                }
                bytes[pos] = c;
                let s = String::from_utf8(bytes).expect("ascii");
                assert!(CreditCode::parse(&s).is_err(), "{s} must fail");
            }
        }
    }
}
