//! Where mails go: an SMTP server through lettre, or — when no SMTP server is configured — `.eml`
//! files under `mail_dir` (default `./data/mail`), so a newcomer needs no mail server.
//!
//! `SRDI_SMTP_URL` forms (credentials percent-encoded; host and port as usual):
//!
//! | URL | transport security | default port |
//! | --- | --- | --- |
//! | `smtps://user:pass@host` | implicit TLS (recommended) | 465 |
//! | `smtp://user:pass@host?tls=required` (or `tls=starttls`) | STARTTLS, refused if the server cannot | 587 |
//! | `smtp://host?tls=opportunistic` | STARTTLS when offered (not safe against an active attacker) | 587 |
//! | `smtp://host` (or `tls=none`) | none: only for a local catcher (MailHog, the test sink) | 25 |
//!
//! Credentials without TLS (`smtp://user:pass@host`, plain or `tls=opportunistic`) are refused at
//! start-up, since the password would travel in clear; the one exception is an explicit
//! `tls=none` to a loopback host (`127.0.0.1`, `::1`, `localhost`), for a catcher on this machine.
//!
//! `SRDI_SMTP_TIMEOUT_SECS` bounds each SMTP command.

use std::path::PathBuf;
use std::time::Duration;

use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
pub use crate::config::smtp::{SmtpSettings, TlsMode, parse_smtp_url};

/// Why a send failed, as the outbox needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth retrying: connection refused or reset, timeout, 4xx reply, disk full…
    Transient(String),
    /// The server refused this mail for good (5xx reply): retrying would only repeat that.
    Permanent(String),
}

pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, settings: SmtpSettings },
    Files { transport: AsyncFileTransport<Tokio1Executor>, dir: PathBuf },
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, String> {
        match &config.smtp_url {
            Some(settings) => {
                let settings = settings.clone();
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.lettre_url)
                    .map_err(|e| format!("SMTP settings: {e}"))?
                    .timeout(Some(Duration::from_secs(config.smtp_timeout_secs)))
                    .build();
                Ok(Mailer::Smtp { transport, settings })
            }
            None => Ok(Mailer::Files {
                transport: AsyncFileTransport::<Tokio1Executor>::new(&config.mail_dir),
                dir: config.mail_dir.clone(),
            }),
        }
    }

    /// For the start-up log line: no credentials.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { settings, .. } => format!(
                "smtp {}:{} (tls {:?}{})",
                settings.host,
                settings.port.map(|p| p.to_string()).unwrap_or_else(|| "default".into()),
                settings.tls,
                if settings.authenticated { ", authenticated" } else { "" }
            ),
            Mailer::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
            Mailer::Smtp { transport, .. } => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(SendFailure::Permanent(redact(&e.to_string()))),
                Err(e) => Err(SendFailure::Transient(redact(&error_chain(&e)))),
            },
            Mailer::Files { transport, dir } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendFailure::Transient(format!("cannot create the mail folder: {e}")))?;
                transport.send(message).await.map(|_| ()).map_err(|e| SendFailure::Transient(redact(&error_chain(&e))))
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Removes anything that looks like an e-mail address: server replies often quote the recipient
/// (`550 5.1.1 <x@y>: Recipient address rejected`), and errors end up in logs and in the outbox row.
pub fn redact(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in s.split(' ') {
        if word.contains('@') { out.push("<address>".to_owned()) } else { out.push(word.to_owned()) }
    }
    let joined = out.join(" ");
    joined.chars().take(1000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_and_tls_modes() {
        let cases = [
            ("smtps://u:p@mail.example.cn", TlsMode::Implicit, "smtps://u:p@mail.example.cn", true),
            (
                "smtp://mail.example.cn:587?tls=starttls",
                TlsMode::Starttls,
                "smtp://mail.example.cn:587?tls=required",
                false,
            ),
            ("smtp://mail.example.cn?tls=required", TlsMode::Starttls, "smtp://mail.example.cn?tls=required", false),
            (
                "smtp://mail.example.cn?tls=opportunistic",
                TlsMode::Opportunistic,
                "smtp://mail.example.cn?tls=opportunistic",
                false,
            ),
            ("smtp://127.0.0.1:2525", TlsMode::None, "smtp://127.0.0.1:2525", false),
            ("smtp://127.0.0.1:2525?tls=none", TlsMode::None, "smtp://127.0.0.1:2525", false),
        ];
        for (raw, tls, lettre_url, auth) in cases {
            let s = parse_smtp_url(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!((s.tls, s.lettre_url.as_str(), s.authenticated), (tls, lettre_url, auth), "{raw}");
        }
        for bad in
            ["mail.example.cn", "http://x", "smtp://x?tls=maybe", "smtps://x?tls=none", "smtp://x?foo=1", "smtp://"]
        {
            assert!(parse_smtp_url(bad).is_err(), "{bad}");
        }
        for clear in [
            "smtp://u:hunter2@mail.example.cn",
            "smtp://u:hunter2@mail.example.cn?tls=none",
            "smtp://u:hunter2@mail.example.cn?tls=opportunistic",
            "smtp://u:hunter2@127.0.0.1:2525",
            "smtp://u:hunter2@10.0.0.5:25?tls=none",
        ] {
            let err = parse_smtp_url(clear).expect_err(clear);
            assert!(err.contains("in clear") && !err.contains("hunter2"), "{clear}: {err}");
        }
        for loopback in
            ["smtp://u:p@127.0.0.1:2525?tls=none", "smtp://u:p@localhost?tls=none", "smtp://u:p@[::1]:25?tls=none"]
        {
            let s = parse_smtp_url(loopback).unwrap_or_else(|e| panic!("{loopback}: {e}"));
            assert!(s.authenticated && s.tls == TlsMode::None, "{loopback}");
        }
        let err = parse_smtp_url("smtp://u:hunter2@x?tls=maybe").unwrap_err();
        assert!(!err.contains("hunter2"));
        assert!(!format!("{:?}", parse_smtp_url("smtps://u:hunter2@x").unwrap()).contains("hunter2"));
    }

    #[test]
    fn a_mailer_builds_for_every_mode_and_never_shows_the_password() {
        for url in [
            "smtps://u:hunter2@mail.example.cn",
            "smtp://u:hunter2@mail.example.cn:587?tls=starttls",
            "smtp://127.0.0.1:2525",
        ] {
            let config = Config { smtp_url: Some(parse_smtp_url(url).expect("url")), ..Config::default() };
            let mailer = Mailer::from_config(&config).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(matches!(mailer, Mailer::Smtp { .. }));
            assert!(!mailer.describe().contains("hunter2"), "{}", mailer.describe());
        }
        let files = Mailer::from_config(&Config::default()).unwrap();
        assert_eq!(files.describe(), ".eml files in ./data/mail");
    }

    #[test]
    fn redaction_removes_addresses() {
        assert_eq!(
            redact("permanent error (550): 5.1.1 <wang@fund.example.cn>: Recipient address rejected"),
            "permanent error (550): 5.1.1 <address> Recipient address rejected"
        );
        assert_eq!(redact("connection refused"), "connection refused");
    }
}
