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
        ("http://bank.example/hooks", &strict, Err(SsrfRefusal::Scheme { scheme: "http".into(), allow_http: false })),
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
