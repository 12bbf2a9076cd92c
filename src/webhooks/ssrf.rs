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
mod tests {
    use std::time::Duration;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn classifies_the_special_purpose_registries() {
        let cases: &[(&str, AddressClass)] = &[
            // IPv4
            ("0.0.0.0", C::Unspecified),
            ("0.1.2.3", C::ThisNetwork),
            ("0.255.255.255", C::ThisNetwork),
            ("1.0.0.0", C::Public),
            ("9.255.255.255", C::Public),
            ("10.0.0.0", C::Private),
            ("10.0.0.1", C::Private),
            ("10.255.255.255", C::Private),
            ("11.0.0.0", C::Public),
            ("100.63.255.255", C::Public),
            ("100.64.0.0", C::SharedCgnat),
            ("100.127.255.255", C::SharedCgnat),
            ("100.128.0.0", C::Public),
            ("126.255.255.255", C::Public),
            ("127.0.0.1", C::Loopback),
            ("127.0.0.2", C::Loopback),
            ("127.255.255.254", C::Loopback),
            ("128.0.0.0", C::Public),
            ("169.253.255.255", C::Public),
            ("169.254.0.1", C::LinkLocal),
            ("169.254.169.254", C::LinkLocal),
            ("169.255.0.0", C::Public),
            ("172.15.255.255", C::Public),
            ("172.16.0.0", C::Private),
            ("172.20.1.1", C::Private),
            ("172.31.255.255", C::Private),
            ("172.32.0.0", C::Public),
            ("192.0.0.0", C::IetfProtocol),
            ("192.0.0.9", C::IetfProtocol),
            ("192.0.0.170", C::IetfProtocol),
            ("192.0.1.0", C::Public),
            ("192.0.2.1", C::Documentation),
            ("192.31.196.1", C::SpecialAnycast),
            ("192.52.193.1", C::SpecialAnycast),
            ("192.88.99.1", C::SpecialAnycast),
            ("192.167.255.255", C::Public),
            ("192.168.0.0", C::Private),
            ("192.168.1.1", C::Private),
            ("192.168.255.255", C::Private),
            ("192.169.0.0", C::Public),
            ("192.175.48.1", C::SpecialAnycast),
            ("198.17.255.255", C::Public),
            ("198.18.0.0", C::Benchmarking),
            ("198.19.255.255", C::Benchmarking),
            ("198.20.0.0", C::Public),
            ("198.51.100.7", C::Documentation),
            ("203.0.113.9", C::Documentation),
            ("203.0.114.0", C::Public),
            ("223.255.255.255", C::Public),
            ("224.0.0.1", C::Multicast),
            ("239.255.255.255", C::Multicast),
            ("240.0.0.1", C::Reserved),
            ("255.255.255.254", C::Reserved),
            ("255.255.255.255", C::Broadcast),
            ("8.8.8.8", C::Public),
            ("1.1.1.1", C::Public),
            ("114.114.114.114", C::Public),
            ("202.102.128.68", C::Public),
            // IPv6
            ("::", C::Unspecified),
            ("::1", C::Loopback),
            ("::2", C::Reserved),
            ("::10.0.0.1", C::Reserved),
            ("::ffff:10.0.0.1", C::Private),
            ("::ffff:127.0.0.1", C::Loopback),
            ("::ffff:169.254.169.254", C::LinkLocal),
            ("::ffff:8.8.8.8", C::Public),
            ("::ffff:0.0.0.0", C::Unspecified),
            ("64:ff9b::10.0.0.1", C::Private),
            ("64:ff9b::127.0.0.1", C::Loopback),
            ("64:ff9b::8.8.8.8", C::Public),
            ("64:ff9b:1::1", C::LocalTranslation),
            ("100::1", C::Discard),
            ("100:0:0:1::1", C::Reserved),
            ("2001::1", C::Teredo),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", C::Teredo),
            ("2001:1::1", C::IetfProtocol),
            ("2001:2::1", C::Benchmarking),
            ("2001:3::1", C::IetfProtocol),
            ("2001:4:112::1", C::IetfProtocol),
            ("2001:20::1", C::IetfProtocol),
            ("2001:1ff:ffff::1", C::IetfProtocol),
            ("2001:200::1", C::Public),
            ("2001:db8::1", C::Documentation),
            ("2001:db8:ffff:ffff::1", C::Documentation),
            ("2001:db9::1", C::Public),
            ("2002:0a00:0001::1", C::Private),
            ("2002:7f00:0001::1", C::Loopback),
            ("2002:0808:0808::1", C::SixToFour),
            ("2620:4f:8000::1", C::SpecialAnycast),
            ("2620:4f:8001::1", C::Public),
            ("3fff::1", C::Documentation),
            ("3fff:fff::1", C::Documentation),
            ("3fff:1000::1", C::Public),
            ("5f00::1", C::Reserved),
            ("4000::1", C::Reserved),
            ("fc00::1", C::UniqueLocal),
            ("fd12:3456:789a::1", C::UniqueLocal),
            ("fe80::1", C::LinkLocal),
            ("febf:ffff::1", C::LinkLocal),
            ("fec0::1", C::SiteLocal),
            ("ff02::1", C::Multicast),
            ("ff0e::1", C::Multicast),
            ("2400:cb00::1", C::Public),
            ("2606:4700:4700::1111", C::Public),
            ("240e::1", C::Public),
            ("2001:4860:4860::8888", C::Public),
        ];
        for (addr, want) in cases {
            assert_eq!(classify(ip(addr)), *want, "{addr}");
        }
    }

    #[test]
    fn class_codes_are_distinct_and_round_trip_through_serde() {
        let all = [
            C::Public,
            C::Unspecified,
            C::ThisNetwork,
            C::Loopback,
            C::Private,
            C::SharedCgnat,
            C::LinkLocal,
            C::IetfProtocol,
            C::Documentation,
            C::Benchmarking,
            C::SpecialAnycast,
            C::Multicast,
            C::Broadcast,
            C::Reserved,
            C::UniqueLocal,
            C::SiteLocal,
            C::Discard,
            C::LocalTranslation,
            C::Teredo,
            C::SixToFour,
        ];
        let codes: std::collections::HashSet<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), all.len());
        for class in all {
            let json = serde_json::to_string(&class).expect("serialises");
            let back: AddressClass = serde_json::from_str(&json).expect("deserialises");
            assert_eq!(back, class, "{json}");
        }
    }

    fn policy(nets: &[&str], allow_http: bool) -> SsrfPolicy {
        SsrfPolicy { allow_networks: nets.iter().map(|n| n.parse().expect("test CIDR")).collect(), allow_http }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn check_url_cases() {
        let strict = policy(&[], false);
        let local = policy(&["127.0.0.1/32"], true);
        let refused_addr = |ip_s: &str, class| Err(SsrfRefusal::Address { host: None, ip: ip(ip_s), class });
        let cases: Vec<(&str, &SsrfPolicy, Result<(), SsrfRefusal>)> = vec![
            ("https://bank.example/hooks", &strict, Ok(())),
            ("https://bank.example:8443/hooks?x=1", &strict, Ok(())),
            ("https://8.8.8.8/x", &strict, Ok(())),
            (
                "http://bank.example/hooks",
                &strict,
                Err(SsrfRefusal::Scheme { scheme: "http".into(), allow_http: false }),
            ),
            ("http://bank.example/hooks", &local, Ok(())),
            ("ftp://bank.example/", &local, Err(SsrfRefusal::Scheme { scheme: "ftp".into(), allow_http: true })),
            ("file:///etc/passwd", &local, Err(SsrfRefusal::Scheme { scheme: "file".into(), allow_http: true })),
            ("https://user:pw@bank.example/", &strict, Err(SsrfRefusal::UserInfo)),
            ("https://user@bank.example/", &strict, Err(SsrfRefusal::UserInfo)),
            ("https://:pw@bank.example/", &strict, Err(SsrfRefusal::UserInfo)),
            ("https://10.0.0.1/", &strict, refused_addr("10.0.0.1", C::Private)),
            ("https://169.254.169.254/latest/meta-data", &strict, refused_addr("169.254.169.254", C::LinkLocal)),
            ("https://[::1]/", &strict, refused_addr("::1", C::Loopback)),
            ("https://[::ffff:10.0.0.1]/", &strict, refused_addr("::ffff:10.0.0.1", C::Private)),
            ("https://[fd00::1]/", &strict, refused_addr("fd00::1", C::UniqueLocal)),
            ("https://0.0.0.0/", &strict, refused_addr("0.0.0.0", C::Unspecified)),
            ("https://127.0.0.1/", &strict, refused_addr("127.0.0.1", C::Loopback)),
            // The allow list opens exactly what it names.
            ("http://127.0.0.1:8080/hook", &local, Ok(())),
            ("http://127.0.0.2/", &local, refused_addr("127.0.0.2", C::Loopback)),
            ("http://[::1]/", &local, refused_addr("::1", C::Loopback)),
            ("http://[::ffff:127.0.0.1]/", &local, Ok(())),
            ("http://10.0.0.1/", &local, refused_addr("10.0.0.1", C::Private)),
            // Alternative spellings the URL parser normalises to 127.0.0.1 / 127.0.0.2.
            ("http://2130706433/", &local, Ok(())),
            ("http://0x7f000001/", &local, Ok(())),
            ("http://0177.0.0.1/", &local, Ok(())),
            ("http://127.1/", &local, Ok(())),
            ("http://127.0.0.1./", &local, Ok(())),
            ("http://2130706434/", &local, refused_addr("127.0.0.2", C::Loopback)),
            ("http://0x7f.0.0.2/", &local, refused_addr("127.0.0.2", C::Loopback)),
            ("https://2130706433/", &strict, refused_addr("127.0.0.1", C::Loopback)),
            ("https://0xa.0.0.1/", &strict, refused_addr("10.0.0.1", C::Private)),
            ("https://012.0.0.1/", &strict, refused_addr("10.0.0.1", C::Private)),
        ];
        for (u, p, want) in cases {
            assert_eq!(check_url(&url(u), p), want, "{u}");
        }
    }

    #[test]
    fn parse_and_check_reports_unparseable_urls() {
        let p = policy(&[], false);
        assert!(matches!(parse_and_check("not a url", &p), Err(SsrfRefusal::InvalidUrl(_))));
        assert!(matches!(parse_and_check("https://", &p), Err(SsrfRefusal::InvalidUrl(_))));
        assert!(parse_and_check("https://bank.example/h", &p).is_ok());
    }

    #[test]
    fn refusal_messages_name_the_address_and_its_class() {
        let literal = check_url(&url("https://10.0.0.1/"), &policy(&[], false)).expect_err("private");
        assert_eq!(literal.to_string(), "refused: address 10.0.0.1 is private");
        let named = SsrfRefusal::Address {
            host: Some("hooks.bank.example".into()),
            ip: ip("169.254.169.254"),
            class: C::LinkLocal,
        };
        assert_eq!(
            named.to_string(),
            "refused: hooks.bank.example resolves to address 169.254.169.254, which is link-local"
        );
    }

    #[tokio::test]
    async fn resolve_checked_with_only_127_0_0_1_allowed() {
        let p = policy(&["127.0.0.1/32"], true);
        let ok = resolve_checked(&url("http://127.0.0.1:9/"), &p).await.expect("allowed");
        assert_eq!(ok, vec!["127.0.0.1:9".parse::<SocketAddr>().expect("addr")]);
        let ok = resolve_checked(&url("https://127.0.0.1/"), &p).await.expect("allowed");
        assert_eq!(ok[0].port(), 443);

        for refused in ["http://127.0.0.2/", "http://[::1]/", "http://0.0.0.0/"] {
            match resolve_checked(&url(refused), &p).await {
                Err(ResolveError::Refused(SsrfRefusal::Address { host: None, .. })) => {}
                other => panic!("{refused}: expected a refusal, got {other:?}"),
            }
        }

        // `localhost` is judged by what it resolves to: every address must be allowed, so it
        // passes only where it resolves to 127.0.0.1 alone (no ::1, no 127.0.1.1).
        let resolved: Vec<IpAddr> =
            tokio::net::lookup_host(("localhost", 0)).await.expect("localhost resolves").map(|a| a.ip()).collect();
        let only_v4_loopback = resolved.iter().all(|a| *a == ip("127.0.0.1"));
        match resolve_checked(&url("http://localhost:9/"), &p).await {
            Ok(addrs) => {
                assert!(only_v4_loopback, "allowed although it resolves to {resolved:?}");
                assert!(addrs.iter().all(|a| a.port() == 9 && a.ip() == ip("127.0.0.1")));
            }
            Err(ResolveError::Refused(SsrfRefusal::Address { host: Some(h), class, .. })) => {
                assert!(!only_v4_loopback, "refused although it resolves to {resolved:?}");
                assert_eq!((h.as_str(), class), ("localhost", C::Loopback));
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn resolve_checked_refuses_localhost_by_default() {
        match resolve_checked(&url("https://localhost/"), &SsrfPolicy::default()).await {
            Err(ResolveError::Refused(SsrfRefusal::Address { host: Some(h), class, .. })) => {
                assert_eq!(h, "localhost");
                assert_eq!(class, C::Loopback);
            }
            other => panic!("expected refusal, got {other:?}"),
        }
        match resolve_checked(&url("http://localhost/"), &SsrfPolicy::default()).await {
            Err(ResolveError::Refused(SsrfRefusal::Scheme { .. })) => {}
            other => panic!("expected a scheme refusal, got {other:?}"),
        }
    }

    async fn listener() -> (tokio::net::TcpListener, u16) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let port = l.local_addr().expect("local addr").port();
        (l, port)
    }

    async fn serve_one(l: tokio::net::TcpListener) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        if let Ok(Ok((mut sock, _))) = tokio::time::timeout(Duration::from_secs(5), l.accept()).await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        }
    }

    fn client(p: SsrfPolicy) -> GuardedClient {
        GuardedClient::new(reqwest::Client::builder().timeout(Duration::from_secs(5)), p).expect("client builds")
    }

    #[tokio::test]
    async fn guarded_client_refuses_a_name_before_connecting() {
        let (l, port) = listener().await;
        let c = client(policy(&[], true));
        let u = url(&format!("http://localhost:{port}/hook"));
        let err = c.post(&u).expect("URL itself passes").send().await.expect_err("must be refused");
        let refusal = find_refusal(&err).unwrap_or_else(|| panic!("not marked as refusal: {err:?}"));
        assert!(
            matches!(refusal, SsrfRefusal::Address { class: C::Loopback, host: Some(h), .. } if h == "localhost"),
            "{refusal}"
        );
        // Nothing reached the listener: the refusal happened before any connect.
        let accepted = tokio::time::timeout(Duration::from_millis(200), l.accept()).await;
        assert!(accepted.is_err(), "a connection was made despite the refusal");
    }

    #[tokio::test]
    async fn guarded_client_literals_are_checked_and_allowed_ones_connect() {
        let (l, port) = listener().await;
        let server = tokio::spawn(serve_one(l));
        let c = client(policy(&["127.0.0.1/32"], true));

        for refused in [format!("http://127.0.0.2:{port}/"), format!("http://[::1]:{port}/")] {
            let r = c.post(&url(&refused)).map(|_| ()).expect_err(&refused);
            assert!(matches!(r, SsrfRefusal::Address { class: C::Loopback, .. }), "{r}");
        }

        let resp = c
            .post(&url(&format!("http://127.0.0.1:{port}/hook")))
            .expect("allowed literal")
            .body("{}")
            .send()
            .await
            .expect("delivered to the loopback listener");
        assert_eq!(resp.status().as_u16(), 204);
        server.await.expect("server task");
    }

    #[tokio::test]
    async fn guarded_client_connects_to_a_vetted_name_on_the_urls_port() {
        let resolved: Vec<IpAddr> =
            tokio::net::lookup_host(("localhost", 0)).await.expect("localhost resolves").map(|a| a.ip()).collect();
        let (l, port) = listener().await;
        let server = tokio::spawn(serve_one(l));
        let c = client(policy(&["127.0.0.1/32"], true));
        let sent = c.post(&url(&format!("http://localhost:{port}/hook"))).expect("URL itself passes").send().await;
        if resolved.iter().all(|a| *a == ip("127.0.0.1")) {
            // The resolver hands back port 0; the connector must still dial the URL's port.
            let resp = sent.expect("delivered through the guarded resolver");
            assert_eq!(resp.status().as_u16(), 204);
        } else {
            let err = sent.expect_err("localhost has addresses outside 127.0.0.1/32");
            assert!(find_refusal(&err).is_some(), "{err:?}");
        }
        server.abort();
    }

    #[tokio::test]
    async fn guarded_client_does_not_follow_redirects() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        // The Location points at loopback so that even a regression never sends traffic off
        // this machine.
        let (l, port) = listener().await;
        let server = tokio::spawn(async move {
            if let Ok(Ok((mut sock, _))) = tokio::time::timeout(Duration::from_secs(5), l.accept()).await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let c = client(policy(&["127.0.0.1/32"], true));
        let resp = c.post(&url(&format!("http://127.0.0.1:{port}/"))).expect("allowed").send().await.expect("response");
        assert_eq!(resp.status().as_u16(), 307);
        server.await.expect("server task");
    }

    #[test]
    fn find_refusal_ignores_unrelated_errors() {
        let e = io::Error::other("connection reset");
        assert!(find_refusal(&e).is_none());
        let r = SsrfRefusal::MissingHost;
        assert_eq!(find_refusal(&r), Some(&SsrfRefusal::MissingHost));
    }
}
