//! SSRF guard for webhook delivery: banks choose the URLs we POST to, so a URL must never let
//! them (or whoever controls their DNS) make this service reach loopback, the private network,
//! cloud metadata (169.254.169.254) or any other address that is not on the public Internet.
//!
//! Two places enforce it, and both are needed:
//! * [`check_url`] rejects bad schemes, user-info and IP-literal hosts. It must run before every
//!   request because reqwest's connector parses IP literals itself and never calls a resolver.
//! * [`GuardedResolver`] is the client's DNS resolver: every connection to a named host gets its
//!   addresses from here, checked, and connects to exactly those addresses. There is no second
//!   lookup between the check and the connect, so DNS rebinding has no window to act in.
//!
//! [`GuardedClient`] bundles both so the dispatcher cannot use one without the other.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// What an address is, after the IANA IPv4 and IPv6 Special-Purpose Address Registries (plus
/// multicast and the IPv6 space outside 2000::/3). Only [`AddressClass::Public`] is deliverable
/// by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressClass {
    Public,
    /// 0.0.0.0, :: — Linux connects these to the local host.
    Unspecified,
    /// 0.0.0.0/8.
    ThisNetwork,
    Loopback,
    /// RFC 1918.
    Private,
    /// 100.64.0.0/10, RFC 6598 carrier-grade NAT.
    SharedCgnat,
    LinkLocal,
    /// 192.0.0.0/24, 2001::/23 (DS-Lite, PCP/TURN anycast, ORCHID, AMT, drone ids …).
    IetfProtocol,
    Documentation,
    Benchmarking,
    /// AS112, AMT relay and the retired 6to4 relay anycast: reachable but never a web server.
    SpecialAnycast,
    Multicast,
    Broadcast,
    /// 240.0.0.0/4 and IPv6 space IANA has not allocated for global unicast.
    Reserved,
    /// fc00::/7.
    UniqueLocal,
    /// fec0::/10, deprecated but still routed inside some networks.
    SiteLocal,
    /// 100::/64, RFC 6666.
    Discard,
    /// 64:ff9b:1::/48, RFC 8215 local-use IPv4/IPv6 translation.
    LocalTranslation,
    /// 2001::/32: the tunnel endpoint is not the host the address names.
    Teredo,
    /// 2002::/16 whose embedded IPv4 is public: deprecated relay routing (RFC 7526).
    SixToFour,
}

impl AddressClass {
    pub fn is_public(self) -> bool {
        self == AddressClass::Public
    }

    /// Stable snake_case code for logs, metrics and stored attempt records.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Unspecified => "unspecified",
            AddressClass::ThisNetwork => "this_network",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::SharedCgnat => "shared_cgnat",
            AddressClass::LinkLocal => "link_local",
            AddressClass::IetfProtocol => "ietf_protocol",
            AddressClass::Documentation => "documentation",
            AddressClass::Benchmarking => "benchmarking",
            AddressClass::SpecialAnycast => "special_anycast",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::UniqueLocal => "unique_local",
            AddressClass::SiteLocal => "site_local",
            AddressClass::Discard => "discard",
            AddressClass::LocalTranslation => "local_translation",
            AddressClass::Teredo => "teredo",
            AddressClass::SixToFour => "6to4",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Public => "public",
            AddressClass::Unspecified => "unspecified",
            AddressClass::ThisNetwork => "in 'this network' (0.0.0.0/8)",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::SharedCgnat => "shared carrier-grade NAT space",
            AddressClass::LinkLocal => "link-local",
            AddressClass::IetfProtocol => "an IETF protocol assignment",
            AddressClass::Documentation => "documentation-only",
            AddressClass::Benchmarking => "benchmarking-only",
            AddressClass::SpecialAnycast => "special-purpose anycast",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::UniqueLocal => "unique-local",
            AddressClass::SiteLocal => "site-local",
            AddressClass::Discard => "discard-only",
            AddressClass::LocalTranslation => "local-use NAT64",
            AddressClass::Teredo => "Teredo",
            AddressClass::SixToFour => "6to4",
        })
    }
}

use AddressClass as C;

/// First match wins, so narrower blocks come before the blocks that contain them.
const V4_BLOCKS: &[(Ipv4Addr, u8, AddressClass)] = &[
    (Ipv4Addr::new(255, 255, 255, 255), 32, C::Broadcast),
    (Ipv4Addr::new(0, 0, 0, 0), 32, C::Unspecified),
    (Ipv4Addr::new(0, 0, 0, 0), 8, C::ThisNetwork),
    (Ipv4Addr::new(10, 0, 0, 0), 8, C::Private),
    (Ipv4Addr::new(100, 64, 0, 0), 10, C::SharedCgnat),
    (Ipv4Addr::new(127, 0, 0, 0), 8, C::Loopback),
    (Ipv4Addr::new(169, 254, 0, 0), 16, C::LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, C::Private),
    (Ipv4Addr::new(192, 0, 0, 0), 24, C::IetfProtocol),
    (Ipv4Addr::new(192, 0, 2, 0), 24, C::Documentation),
    (Ipv4Addr::new(192, 31, 196, 0), 24, C::SpecialAnycast),
    (Ipv4Addr::new(192, 52, 193, 0), 24, C::SpecialAnycast),
    (Ipv4Addr::new(192, 88, 99, 0), 24, C::SpecialAnycast),
    (Ipv4Addr::new(192, 168, 0, 0), 16, C::Private),
    (Ipv4Addr::new(192, 175, 48, 0), 24, C::SpecialAnycast),
    (Ipv4Addr::new(198, 18, 0, 0), 15, C::Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0), 24, C::Documentation),
    (Ipv4Addr::new(203, 0, 113, 0), 24, C::Documentation),
    (Ipv4Addr::new(224, 0, 0, 0), 4, C::Multicast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, C::Reserved),
];

const V6_BLOCKS: &[(Ipv6Addr, u8, AddressClass)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, C::Unspecified),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, C::Loopback),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, C::LocalTranslation),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, C::Discard),
    // RFC 9780 dummy prefix: never routed.
    (Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0), 64, C::Reserved),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, C::Teredo),
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, C::Benchmarking),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, C::IetfProtocol),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, C::Documentation),
    (Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0), 48, C::SpecialAnycast),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, C::Documentation),
    // RFC 9602 SRv6 SIDs: outside 2000::/3 anyway, listed so the registry is visibly covered.
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16, C::Reserved),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, C::UniqueLocal),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, C::LinkLocal),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, C::SiteLocal),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, C::Multicast),
];

const NAT64_WELL_KNOWN: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0);
const SIX_TO_FOUR: Ipv6Addr = Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0);
const GLOBAL_UNICAST: Ipv6Addr = Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0);

fn v4_in(addr: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let shift = 32 - u32::from(len);
    len == 0 || addr.to_bits() >> shift == net.to_bits() >> shift
}

fn v6_in(addr: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let shift = 128 - u32::from(len);
    len == 0 || addr.to_bits() >> shift == net.to_bits() >> shift
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    V4_BLOCKS.iter().find(|(net, len, _)| v4_in(ip, *net, *len)).map_or(C::Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // Addresses that carry an IPv4 address reach that IPv4 host, so they are what it is.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if v6_in(ip, NAT64_WELL_KNOWN, 96) {
        return classify_v4(Ipv4Addr::from_bits(ip.to_bits() as u32));
    }
    if v6_in(ip, SIX_TO_FOUR, 16) {
        let embedded = Ipv4Addr::from_bits((ip.to_bits() >> 80) as u32);
        let class = classify_v4(embedded);
        return if class.is_public() { C::SixToFour } else { class };
    }
    if let Some((_, _, class)) = V6_BLOCKS.iter().find(|(net, len, _)| v6_in(ip, *net, *len)) {
        return *class;
    }
    if v6_in(ip, GLOBAL_UNICAST, 3) { C::Public } else { C::Reserved }
}

/// Which destinations delivery may reach beyond the public Internet, and whether plain HTTP is
/// acceptable (`SRDI_WEBHOOKS_ALLOW_NETWORKS`, `SRDI_WEBHOOKS_ALLOW_HTTP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsrfPolicy {
    pub allow_networks: Vec<IpNet>,
    pub allow_http: bool,
}

impl SsrfPolicy {
    /// `Err` carries the class that made the address undeliverable.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), AddressClass> {
        // ::ffff:a.b.c.d must match an IPv4 allow entry exactly as a.b.c.d would.
        let canonical = ip.to_canonical();
        let class = classify(canonical);
        if class.is_public() || self.allow_networks.iter().any(|n| n.contains(&ip) || n.contains(&canonical)) {
            Ok(())
        } else {
            Err(class)
        }
    }
}

/// Why the guard will not deliver to a URL. Permanent for the URL as it stands: the dispatcher
/// records it as the attempt's outcome ("refused: …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsrfRefusal {
    InvalidUrl(String),
    Scheme {
        scheme: String,
        allow_http: bool,
    },
    UserInfo,
    MissingHost,
    /// `host` is the name that resolved to `ip`, or `None` when the URL held the address itself.
    Address {
        host: Option<String>,
        ip: IpAddr,
        class: AddressClass,
    },
}

impl fmt::Display for SsrfRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SsrfRefusal::InvalidUrl(reason) => write!(f, "refused: not a valid URL ({reason})"),
            SsrfRefusal::Scheme { scheme, allow_http: true } => {
                write!(f, "refused: scheme {scheme:?} is not allowed (only https or http)")
            }
            SsrfRefusal::Scheme { scheme, allow_http: false } => {
                write!(f, "refused: scheme {scheme:?} is not allowed (only https)")
            }
            SsrfRefusal::UserInfo => f.write_str("refused: URLs carrying a user name or password are not allowed"),
            SsrfRefusal::MissingHost => f.write_str("refused: the URL has no host"),
            SsrfRefusal::Address { host: None, ip, class } => {
                write!(f, "refused: address {ip} is {class}")
            }
            SsrfRefusal::Address { host: Some(host), ip, class } => {
                write!(f, "refused: {host} resolves to address {ip}, which is {class}")
            }
        }
    }
}

impl StdError for SsrfRefusal {}

/// Failure of [`resolve_checked`]. A lookup failure is kept apart from a refusal: DNS trouble
/// is transient and retried like any connection error, a refusal is a verdict on the URL.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Refused(#[from] SsrfRefusal),
    #[error("DNS lookup of {host} failed: {source}")]
    Lookup { host: String, source: io::Error },
    #[error("DNS lookup of {host} returned no address")]
    NoAddresses { host: String },
}

/// Parses an endpoint URL and applies [`check_url`]; for registration-time validation.
pub fn parse_and_check(text: &str, policy: &SsrfPolicy) -> Result<Url, SsrfRefusal> {
    let url = Url::parse(text).map_err(|e| SsrfRefusal::InvalidUrl(e.to_string()))?;
    check_url(&url, policy)?;
    Ok(url)
}

/// Everything that can be judged without DNS. IP literals are judged here, because the HTTP
/// connector connects to them without consulting any resolver; the `url` parser has already
/// normalised decimal, hex, octal and shortened forms (`2130706433`, `0x7f.1`, `127.1`).
pub fn check_url(url: &Url, policy: &SsrfPolicy) -> Result<(), SsrfRefusal> {
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => {
            return Err(SsrfRefusal::Scheme { scheme: other.to_owned(), allow_http: policy.allow_http });
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SsrfRefusal::UserInfo);
    }
    let literal = match url.host() {
        None => return Err(SsrfRefusal::MissingHost),
        Some(Host::Domain("")) => return Err(SsrfRefusal::MissingHost),
        Some(Host::Domain(_)) => None,
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if let Some(ip) = literal {
        policy.check_ip(ip).map_err(|class| SsrfRefusal::Address { host: None, ip, class })?;
    }
    Ok(())
}

/// Checks the URL, resolves its host and returns the vetted socket addresses. Refuses when ANY
/// address is undeliverable: a name with one public and one private address would otherwise
/// reach the private one whenever the connector happens to try it.
pub async fn resolve_checked(url: &Url, policy: &SsrfPolicy) -> Result<Vec<SocketAddr>, ResolveError> {
    check_url(url, policy)?;
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(Host::Ipv4(v4)) => Ok(vec![SocketAddr::new(IpAddr::V4(v4), port)]),
        Some(Host::Ipv6(v6)) => Ok(vec![SocketAddr::new(IpAddr::V6(v6), port)]),
        Some(Host::Domain(name)) => resolve_host(name, port, policy).await,
        None => Err(SsrfRefusal::MissingHost.into()),
    }
}

async fn resolve_host(host: &str, port: u16, policy: &SsrfPolicy) -> Result<Vec<SocketAddr>, ResolveError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| ResolveError::Lookup { host: host.to_owned(), source })?
        .collect();
    if addrs.is_empty() {
        return Err(ResolveError::NoAddresses { host: host.to_owned() });
    }
    for addr in &addrs {
        policy.check_ip(addr.ip()).map_err(|class| SsrfRefusal::Address {
            host: Some(host.to_owned()),
            ip: addr.ip(),
            class,
        })?;
    }
    Ok(addrs)
}

/// reqwest resolver that applies the policy to every name the client connects to. The
/// addresses it returns are the ones the connector dials, so what was checked is what is used.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<SsrfPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // reqwest substitutes the URL's port for port 0.
            match resolve_host(&host, 0, &policy).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                // Boxed bare so that `find_refusal` can downcast it out of reqwest's error chain.
                Err(ResolveError::Refused(refusal)) => Err(Box::new(refusal) as _),
                Err(other) => Err(Box::new(other) as _),
            }
        })
    }
}

/// Finds the guard's verdict inside an error from a guarded request (reqwest wraps the
/// resolver's error several layers deep), so an attempt can be recorded as refused rather than
/// as a connection failure.
pub fn find_refusal<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a SsrfRefusal> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(refusal) = e.downcast_ref::<SsrfRefusal>() {
            return Some(refusal);
        }
        current = e.source();
    }
    None
}

/// An HTTP client that can only reach what the policy allows: names through
/// [`GuardedResolver`], literals through [`check_url`] in [`GuardedClient::request`]. Redirects
/// are off (a 3xx is a failed delivery, and following one would skip the URL check) and so are
/// environment proxies (the proxy, not the resolver, would pick the destination).
#[derive(Debug, Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<SsrfPolicy>,
}

impl GuardedClient {
    /// `builder` carries the caller's settings (timeouts, user agent); the guard's settings are
    /// applied on top and override any conflicting ones.
    pub fn new(builder: reqwest::ClientBuilder, policy: SsrfPolicy) -> reqwest::Result<Self> {
        let policy = Arc::new(policy);
        let client = builder
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&policy))))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(GuardedClient { client, policy })
    }

    pub fn policy(&self) -> &SsrfPolicy {
        &self.policy
    }

    pub fn request(&self, method: reqwest::Method, url: &Url) -> Result<reqwest::RequestBuilder, SsrfRefusal> {
        check_url(url, &self.policy)?;
        Ok(self.client.request(method, url.clone()))
    }

    pub fn post(&self, url: &Url) -> Result<reqwest::RequestBuilder, SsrfRefusal> {
        self.request(reqwest::Method::POST, url)
    }
}

#[cfg(test)]
mod tests;
