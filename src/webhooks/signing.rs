//! Standard Webhooks 1.0 signatures and at-rest encryption of the signing secrets.
//!
//! Banks verify our deliveries with any Standard Webhooks library, so the byte layout here is
//! the specification's, not ours to vary: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, several entries separated by a space while a secret rotates.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub use crate::config::webhooks::SecretBoxKey;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// What the reference libraries accept, in the past and in the future; we document the same
/// number to banks so a receiver built on any of them agrees with our own `verify`.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

const SECRET_PREFIX: &str = "whsec_";
/// The specification allows 24–64 bytes; 32 matches the HMAC-SHA256 block-size sweet spot.
const GENERATED_SECRET_LEN: usize = 32;
const MIN_SECRET_LEN: usize = 24;
const MAX_SECRET_LEN: usize = 64;

/// Receivers paste secrets with or without `=` padding; the reference libraries accept both.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// An endpoint's HMAC signing secret, `whsec_<base64>`.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("a webhook secret is \"whsec_\" followed by base64; the rest is not valid base64")]
    NotBase64,
    #[error("a webhook secret holds 24 to 64 bytes of key; this one holds {0}")]
    BadLength(usize),
}

impl WebhookSecret {
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_SECRET_LEN];
        rand::rng().fill_bytes(&mut key);
        WebhookSecret { key }
    }

    pub fn from_bytes(key: &[u8]) -> Result<Self, SecretError> {
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(WebhookSecret { key: key.to_vec() })
    }

    /// Parses `whsec_<base64>`. The prefix is required: it is what tells a stored or pasted value
    /// apart from a signature (`v1,…`) or an asymmetric key (`whsk_…`), a confusion the
    /// reference libraries' users report often.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or(SecretError::MissingPrefix)?;
        let key = LENIENT_BASE64.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        Self::from_bytes(&key)
    }

    /// The text shown to the bank once and sealed with [`SecretBox`] for storage.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    pub fn key_bytes(&self) -> &[u8] {
        &self.key
    }

    fn mac(&self, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length; new_from_slice cannot fail for it");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl std::str::FromStr for WebhookSecret {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(whsec_***, {} bytes)", self.key.len())
    }
}

/// One signature entry, `v1,<base64>`. `msg_id` must not contain `.` (the specification's
/// delimiter); our event ids never do.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let tag = secret.mac(msg_id, timestamp_secs, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// The `webhook-signature` value: one entry per secret, space-separated, so that during a
/// rotation the receiver accepts the delivery whichever of the secrets it currently holds.
pub fn signature_header(secrets: &[&WebhookSecret], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| sign(s, msg_id, timestamp_secs, body)).collect::<Vec<_>>().join(" ")
}

/// The three Standard Webhooks headers for one attempt. The timestamp is the attempt's own
/// (re-signed on every retry), so a receiver's tolerance window never rejects a late retry.
pub fn webhook_headers(
    secrets: &[&WebhookSecret],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        (HEADER_ID, msg_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp_secs.to_string()),
        (HEADER_SIGNATURE, signature_header(secrets, msg_id, timestamp_secs, body)),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp {0:?} is not a whole number of seconds")]
    InvalidTimestamp(String),
    #[error("webhook-timestamp is {0} s older than the tolerance allows")]
    TooOld(u64),
    #[error("webhook-timestamp is {0} s further in the future than the tolerance allows")]
    TooNew(u64),
    #[error("no v1 signature in webhook-signature matches")]
    NoMatchingSignature,
}

/// Receiver-side check, as the reference libraries do it: timestamp within `tolerance` of
/// `now_secs` either way, then any `v1` entry matching in constant time.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let trimmed = timestamp_header.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp(timestamp_header.to_owned()));
    }
    let timestamp: i64 = trimmed.parse().map_err(|_| VerifyError::InvalidTimestamp(timestamp_header.to_owned()))?;
    let skew = now_secs.abs_diff(timestamp);
    if skew > tolerance.as_secs() {
        return Err(if timestamp < now_secs {
            VerifyError::TooOld(skew - tolerance.as_secs())
        } else {
            VerifyError::TooNew(skew - tolerance.as_secs())
        });
    }
    let expected = secret.mac(msg_id, timestamp, body);
    let matched = signature_header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .any(|sig| expected.clone().verify_slice(&sig).is_ok());
    if matched { Ok(()) } else { Err(VerifyError::NoMatchingSignature) }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    #[error("sealed value does not start with a known version (expected \"v1:\")")]
    UnknownVersion,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key (wrong key or altered data)")]
    WrongKeyOrAltered,
    #[error("value too large to seal")]
    TooLarge,
    #[error("sealed value opened but is not a webhook secret: {0}")]
    NotASecret(#[from] SecretError),
}

const SEALED_V1_PREFIX: &str = "v1:";
const XNONCE_LEN: usize = 24;
const POLY1305_TAG_LEN: usize = 16;

/// Seals small values with XChaCha20-Poly1305. The 24-byte nonce is random per call: with
/// extended nonces random generation is safe for any realistic number of seals, so there is no
/// counter to persist. `v1:` names that construction, leaving room for a later algorithm or a
/// key id without guessing at the format of stored rows.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    pub fn new(key: &SecretBoxKey) -> Self {
        SecretBox { cipher: XChaCha20Poly1305::new(key.expose().into()) }
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, SecretBoxError> {
        let mut nonce = [0u8; XNONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext =
            self.cipher.encrypt(XNonce::from_slice(&nonce), plaintext).map_err(|_| SecretBoxError::TooLarge)?;
        let mut blob = Vec::with_capacity(XNONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_V1_PREFIX}{}", STANDARD.encode(blob)))
    }

    pub fn decrypt(&self, sealed: &str) -> Result<Vec<u8>, SecretBoxError> {
        let encoded = sealed.strip_prefix(SEALED_V1_PREFIX).ok_or(SecretBoxError::UnknownVersion)?;
        let blob = STANDARD.decode(encoded).map_err(|_| SecretBoxError::Malformed)?;
        if blob.len() < XNONCE_LEN + POLY1305_TAG_LEN {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(XNONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| SecretBoxError::WrongKeyOrAltered)
    }

    /// Seals the `whsec_…` text rather than the raw key so that a later asymmetric key type
    /// (`whsk_…`) fits the same column and the same code path.
    pub fn seal_secret(&self, secret: &WebhookSecret) -> Result<String, SecretBoxError> {
        self.encrypt(secret.expose().as_bytes())
    }

    pub fn open_secret(&self, sealed: &str) -> Result<WebhookSecret, SecretBoxError> {
        let plain = self.decrypt(sealed)?;
        let text = std::str::from_utf8(&plain).map_err(|_| SecretBoxError::Malformed)?;
        Ok(WebhookSecret::parse(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks libraries (and svix's before them).
    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TS: i64 = 1_614_265_330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn vector_secret() -> WebhookSecret {
        WebhookSecret::parse(VECTOR_SECRET).expect("vector secret parses")
    }

    #[test]
    fn reproduces_the_standard_webhooks_vector() {
        assert_eq!(sign(&vector_secret(), VECTOR_ID, VECTOR_TS, VECTOR_BODY), VECTOR_SIG);
        verify(&vector_secret(), VECTOR_ID, "1614265330", VECTOR_SIG, VECTOR_BODY, VECTOR_TS + 10, DEFAULT_TOLERANCE)
            .expect("vector verifies");
    }

    #[test]
    fn verify_rejects_every_altered_part() {
        let s = vector_secret();
        let now = VECTOR_TS;
        let ok = |id: &str, ts: &str, sig: &str, body: &[u8]| verify(&s, id, ts, sig, body, now, DEFAULT_TOLERANCE);
        // (webhook-id, webhook-timestamp, webhook-signature, body, expected)
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [u8], Result<(), VerifyError>);
        let cases: &[Case] = &[
            (VECTOR_ID, "1614265330", VECTOR_SIG, VECTOR_BODY, Ok(())),
            (VECTOR_ID, "1614265330", VECTOR_SIG, br#"{"test": 2432232315}"#, Err(VerifyError::NoMatchingSignature)),
            ("msg_other", "1614265330", VECTOR_SIG, VECTOR_BODY, Err(VerifyError::NoMatchingSignature)),
            (VECTOR_ID, "1614265331", VECTOR_SIG, VECTOR_BODY, Err(VerifyError::NoMatchingSignature)),
            (
                VECTOR_ID,
                "1614265330",
                "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                VECTOR_BODY,
                Err(VerifyError::NoMatchingSignature),
            ),
            (VECTOR_ID, "1614265330", "v1,not-base64!", VECTOR_BODY, Err(VerifyError::NoMatchingSignature)),
            (VECTOR_ID, "1614265330", "", VECTOR_BODY, Err(VerifyError::NoMatchingSignature)),
            (
                VECTOR_ID,
                "1614265330",
                "v1a,xyz v1,AAAA v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                VECTOR_BODY,
                Ok(()),
            ),
            (VECTOR_ID, "abc", VECTOR_SIG, VECTOR_BODY, Err(VerifyError::InvalidTimestamp("abc".into()))),
            (VECTOR_ID, "-1", VECTOR_SIG, VECTOR_BODY, Err(VerifyError::InvalidTimestamp("-1".into()))),
            (VECTOR_ID, "", VECTOR_SIG, VECTOR_BODY, Err(VerifyError::InvalidTimestamp(String::new()))),
            (
                VECTOR_ID,
                "99999999999999999999",
                VECTOR_SIG,
                VECTOR_BODY,
                Err(VerifyError::InvalidTimestamp("99999999999999999999".into())),
            ),
        ];
        for (id, ts, sig, body, want) in cases {
            assert_eq!(&ok(id, ts, sig, body), want, "id={id} ts={ts} sig={sig}");
        }
    }

    #[test]
    fn tolerance_applies_in_both_directions() {
        let s = vector_secret();
        let at = |now: i64| verify(&s, VECTOR_ID, "1614265330", VECTOR_SIG, VECTOR_BODY, now, DEFAULT_TOLERANCE);
        assert_eq!(at(VECTOR_TS + 300), Ok(()));
        assert_eq!(at(VECTOR_TS - 300), Ok(()));
        assert_eq!(at(VECTOR_TS + 301), Err(VerifyError::TooOld(1)));
        assert_eq!(at(VECTOR_TS - 301), Err(VerifyError::TooNew(1)));
        // A signature that is valid but stale must still be refused: that is the replay guard.
        assert_eq!(at(VECTOR_TS + 86_400), Err(VerifyError::TooOld(86_100)));
    }

    #[test]
    fn rotation_header_carries_both_signatures_and_each_verifies() {
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let body = br#"{"type":"webhook.ping"}"#;
        let header = signature_header(&[&old, &new], "evt_1", 1_700_000_000, body);
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], sign(&old, "evt_1", 1_700_000_000, body));
        assert_eq!(entries[1], sign(&new, "evt_1", 1_700_000_000, body));
        for secret in [&old, &new] {
            verify(secret, "evt_1", "1700000000", &header, body, 1_700_000_000, DEFAULT_TOLERANCE)
                .expect("each secret of the rotation verifies the combined header");
        }
        let stranger = WebhookSecret::generate();
        assert_eq!(
            verify(&stranger, "evt_1", "1700000000", &header, body, 1_700_000_000, DEFAULT_TOLERANCE),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn webhook_headers_names_and_values() {
        let s = vector_secret();
        let h = webhook_headers(&[&s], VECTOR_ID, VECTOR_TS, VECTOR_BODY);
        assert_eq!(h[0], ("webhook-id", VECTOR_ID.to_owned()));
        assert_eq!(h[1], ("webhook-timestamp", "1614265330".to_owned()));
        assert_eq!(h[2], ("webhook-signature", VECTOR_SIG.to_owned()));
    }

    #[test]
    fn secret_parsing() {
        let cases: &[(&str, Result<usize, SecretError>)] = &[
            (VECTOR_SECRET, Ok(24)),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Ok(24)),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Err(SecretError::MissingPrefix)),
            ("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Err(SecretError::MissingPrefix)),
            ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", Err(SecretError::MissingPrefix)),
            ("whsec_not base64!", Err(SecretError::NotBase64)),
            ("whsec_", Err(SecretError::BadLength(0))),
            ("whsec_c2hvcnQ=", Err(SecretError::BadLength(5))),
            // 32 bytes, with and without padding
            ("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Ok(32)),
            ("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Ok(32)),
        ];
        for (text, want) in cases {
            let got = WebhookSecret::parse(text).map(|s| s.key_bytes().len());
            assert_eq!(&got, want, "{text}");
        }
        let too_long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(WebhookSecret::parse(&too_long).map(|_| ()), Err(SecretError::BadLength(65)));
        let msg = WebhookSecret::parse("nope").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("whsec_"), "{msg}");
    }

    #[test]
    fn generated_secrets_round_trip_differ_and_never_show_in_debug() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert_eq!(a.key_bytes().len(), 32);
        assert_ne!(a.key_bytes(), b.key_bytes());
        let text = a.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).map(|s| s.key_bytes().to_vec()), Ok(a.key_bytes().to_vec()));
        let shown = format!("{a:?} {:?}", Some(&a));
        assert!(!shown.contains(&text["whsec_".len()..]), "{shown}");
        assert!(!shown.contains(&text[..12]), "{shown}");
    }

    #[test]
    fn secret_box_round_trips_with_fresh_nonces() {
        let key = SecretBoxKey::generate();
        let sb = SecretBox::new(&SecretBoxKey::from_base64(&key.to_base64()).expect("own key parses"));
        let secret = WebhookSecret::generate();
        let sealed_a = sb.seal_secret(&secret).expect("seal");
        let sealed_b = sb.seal_secret(&secret).expect("seal");
        assert!(sealed_a.starts_with("v1:"), "{sealed_a}");
        assert_ne!(sealed_a, sealed_b, "a nonce was reused");
        assert!(!sealed_a.contains(&secret.expose()[6..]));
        for sealed in [&sealed_a, &sealed_b] {
            let opened = sb.open_secret(sealed).expect("opens");
            assert_eq!(opened.key_bytes(), secret.key_bytes());
        }
        assert_eq!(sb.decrypt(&sb.encrypt(b"").expect("seal empty")), Ok(Vec::new()));
    }

    #[test]
    fn secret_box_refuses_wrong_key_and_damaged_values() {
        let sb = SecretBox::new(&SecretBoxKey::generate());
        let other = SecretBox::new(&SecretBoxKey::generate());
        let sealed = sb.encrypt(b"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").expect("seal");
        assert_eq!(other.decrypt(&sealed), Err(SecretBoxError::WrongKeyOrAltered));

        let blob = STANDARD.decode(&sealed[3..]).expect("own output is base64");
        let mut flipped = blob.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let flipped = format!("v1:{}", STANDARD.encode(flipped));
        let truncated = format!("v1:{}", STANDARD.encode(&blob[..30]));
        let cases: &[(&str, SecretBoxError)] = &[
            (&flipped, SecretBoxError::WrongKeyOrAltered),
            (&truncated, SecretBoxError::Malformed),
            ("v1:", SecretBoxError::Malformed),
            ("v1:***", SecretBoxError::Malformed),
            ("v2:AAAA", SecretBoxError::UnknownVersion),
            ("whsec_plaintext", SecretBoxError::UnknownVersion),
            ("", SecretBoxError::UnknownVersion),
        ];
        for (input, want) in cases {
            assert_eq!(&sb.decrypt(input).expect_err(input), want, "{input}");
        }
        let not_a_secret = sb.encrypt(b"hello").expect("seal");
        assert!(matches!(sb.open_secret(&not_a_secret), Err(SecretBoxError::NotASecret(_))));
    }

    /// Cross-check against the Standard Webhooks reference library (Python), so our signer is
    /// judged by an implementation we did not write. CI installs it with pip.
    #[test]
    fn reference_library_accepts_our_signatures() {
        use std::io::Write as _;
        use std::process::{Command, Stdio};

        let python = std::env::var("SRDI_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/verify_standard_webhook.py");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let body = r#"{"id":"evt_1","type":"webhook.ping","data":{"note":"专精特新 ✓"}}"#.as_bytes();
        let header = signature_header(&[&old, &new], "evt_1", now, body);

        let run = |secret: &str, body: &[u8]| -> (bool, String) {
            let mut child = Command::new(&python)
                .arg(script)
                .args([secret, "evt_1", &now.to_string(), &header])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {python} ({e}); install Python 3 and `pip install standardwebhooks`, or point SRDI_TEST_PYTHON at an interpreter that has it")
                });
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(body).expect("write body to verifier");
            }
            let out = child.wait_with_output().expect("verifier ran");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                !stderr.contains("No module named") && out.status.code() != Some(3),
                "the `standardwebhooks` module is missing for {python}: run `pip install standardwebhooks` (or set SRDI_TEST_PYTHON). stderr: {stderr}"
            );
            (out.status.success(), stderr)
        };

        for secret in [&old, &new] {
            let (ok, err) = run(&secret.expose(), body);
            assert!(ok, "reference library rejected our signature: {err}");
        }
        // The script must be able to say no, or the checks above prove nothing.
        let (ok, _) = run(&old.expose(), br#"{"id":"evt_1","type":"webhook.ping"}"#);
        assert!(!ok, "reference library accepted an altered body");
        let (ok, _) = run(&WebhookSecret::generate().expose(), body);
        assert!(!ok, "reference library accepted a signature from another secret");
    }
}
