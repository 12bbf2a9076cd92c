//! `SRDI_SMTP_URL`, checked once at start-up into the settings the mail transport takes. The
//! forms understood are described in `mail::transport`.

use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    None,
    Opportunistic,
    Starttls,
    Implicit,
}

/// A checked `SRDI_SMTP_URL`, rewritten into the form lettre's `from_url` understands.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// The URL lettre connects with; it may carry the password (hence the hand-written `Debug`).
    pub lettre_url: String,
    pub host: String,
    pub port: Option<u16>,
    pub tls: TlsMode,
    pub authenticated: bool,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never shown.
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

/// Checks an SMTP URL. The error names the problem but never repeats the URL (it may hold a password).
pub fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, String> {
    let mut url = Url::parse(raw.trim()).map_err(|e| format!("not a URL ({e})"))?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("the URL names no host")?.to_owned();
    let tls_param: Option<String> = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_ascii_lowercase());
    let others: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != "tls").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if let Some((k, _)) = others.first() {
        return Err(format!("unknown URL parameter `{k}` (only `tls` is understood)"));
    }
    let (tls, lettre_tls) = match (url.scheme(), tls_param.as_deref()) {
        ("smtps", None) => (TlsMode::Implicit, None),
        ("smtps", Some(_)) => return Err("`smtps://` is always TLS; drop the `tls` parameter".into()),
        ("smtp", None | Some("none")) => (TlsMode::None, None),
        ("smtp", Some("required" | "starttls")) => (TlsMode::Starttls, Some("required")),
        ("smtp", Some("opportunistic")) => (TlsMode::Opportunistic, Some("opportunistic")),
        ("smtp", Some(other)) => {
            return Err(format!("tls={other} is not one of none, starttls, required, opportunistic"));
        }
        (scheme, _) => return Err(format!("scheme `{scheme}` is not smtp or smtps")),
    };
    let authenticated = !url.username().is_empty();
    let clear = matches!(tls, TlsMode::None | TlsMode::Opportunistic);
    let explicit_loopback = tls_param.as_deref() == Some("none") && is_loopback(&host);
    if authenticated && clear && !explicit_loopback {
        return Err("the URL carries credentials but no TLS, so the password would cross the network in clear: \
             use `smtps://` or `smtp://…?tls=required`, or, for a mail catcher on this machine only, \
             `?tls=none` with a loopback host"
            .into());
    }
    url.set_query(None);
    if let Some(t) = lettre_tls {
        url.query_pairs_mut().append_pair("tls", t);
    }
    Ok(SmtpSettings { lettre_url: url.to_string(), host, port: url.port(), tls, authenticated })
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
