//! IP allowlists and the client's address: the one parser the console's editor (in the browser)
//! and the API's gate (on the server) both use.

pub use ipnet::IpNet;
use ipnet::Ipv4Net;
use std::net::{IpAddr, SocketAddr};

/// Why an allowlist entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("“{0}” is not an IP address or a CIDR range (such as 203.0.113.0/24 or 2001:db8::/32)")]
    Invalid(String),
    #[error("“{given}” has bits set past its prefix: the range is {network}")]
    HostBits { given: String, network: String },
}

impl NetError {
    pub fn code(&self) -> &'static str {
        match self {
            NetError::Invalid(_) => "allowlist.invalid",
            NetError::HostBits { .. } => "allowlist.host_bits",
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// One entry: a single address (a /32 or /128 range) or a CIDR range whose host bits are zero.
/// IPv4-mapped IPv6 ranges become the IPv4 ranges they cover.
pub fn parse_entry(text: &str) -> Result<IpNet, NetError> {
    let text = text.trim();
    let net = match text.parse::<IpAddr>() {
        Ok(ip) => IpNet::from(canonical(ip)),
        Err(_) => {
            let net: IpNet = text.parse().map_err(|_| NetError::Invalid(text.to_owned()))?;
            if net.addr() != net.network() {
                return Err(NetError::HostBits { given: text.to_owned(), network: net.trunc().to_string() });
            }
            net
        }
    };
    Ok(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => {
                IpNet::V4(Ipv4Net::new(v4, v6.prefix_len() - 96).map_err(|_| NetError::Invalid(text.to_owned()))?)
            }
            None => net,
        },
        _ => net,
    })
}

/// Entries one per line (or separated by commas); blank lines are ignored. Every bad entry is
/// reported, with its line, so the editor can show them all at once.
pub fn parse_list(text: &str) -> Result<Vec<IpNet>, Vec<(usize, NetError)>> {
    let mut nets = Vec::new();
    let mut problems = Vec::new();
    for (line, entries) in text.lines().enumerate() {
        for entry in entries.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match parse_entry(entry) {
                Ok(net) if !nets.contains(&net) => nets.push(net),
                Ok(_) => {}
                Err(e) => problems.push((line + 1, e)),
            }
        }
    }
    if problems.is_empty() { Ok(nets) } else { Err(problems) }
}

/// Whether `ip` lies in any range of `list`.
pub fn allows(list: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    list.iter().any(|net| net.contains(&ip))
}

/// The client's address. A connection from a trusted proxy may name the client in
/// `X-Forwarded-For`; that list is read from the right (the hop nearest to this server), past
/// trusted proxies only, and the first address not trusted is the client. Anyone can write the
/// leftmost entries, so they count only when every hop after them is trusted. A connection
/// from anywhere else is its own client, whatever the header says.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let mut client = canonical(peer);
    if !allows(trusted, client) {
        return client;
    }
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        // An entry that is not an address ends the chain at the last hop that could be read.
        let Some(ip) = parse_hop(hop.trim()) else { break };
        client = ip;
        if !allows(trusted, ip) {
            break;
        }
    }
    client
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip())).ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn list(s: &str) -> Vec<IpNet> {
        parse_list(s).unwrap()
    }

    #[test]
    fn entries_are_addresses_or_exact_ranges() {
        assert_eq!(parse_entry("203.0.113.7").unwrap().to_string(), "203.0.113.7/32");
        assert_eq!(parse_entry(" 203.0.113.0/24 ").unwrap().to_string(), "203.0.113.0/24");
        assert_eq!(parse_entry("2001:db8::/32").unwrap().to_string(), "2001:db8::/32");
        assert_eq!(parse_entry("2001:db8::1").unwrap().to_string(), "2001:db8::1/128");
        assert_eq!(parse_entry("::ffff:198.51.100.9").unwrap().to_string(), "198.51.100.9/32", "mapped is IPv4");
        assert_eq!(parse_entry("::ffff:10.0.0.0/104").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_entry("10.1.2.3/8"),
            Err(NetError::HostBits { given: "10.1.2.3/8".into(), network: "10.0.0.0/8".into() })
        );
        for bad in ["", "10.0.0", "10.0.0.0/33", "2001:db8::/129", "example.com", "10.0.0.0/8/8", "1.2.3.4:80"] {
            assert!(matches!(parse_entry(bad), Err(NetError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn a_list_reports_every_bad_line_and_drops_repeats() {
        assert_eq!(list("10.0.0.0/8\n\n10.0.0.0/8, 192.0.2.1").len(), 2);
        let problems = parse_list("10.0.0.0/8\nnope\n192.0.2.1/24").unwrap_err();
        let lines: Vec<(usize, &str)> = problems.iter().map(|(l, e)| (*l, e.code())).collect();
        assert_eq!(lines, [(2, "allowlist.invalid"), (3, "allowlist.host_bits")]);
    }

    #[test]
    fn mapped_clients_match_ipv4_ranges_and_ipv6_matches_ipv6() {
        let allowed = list("192.0.2.0/24\n2001:db8::/32");
        assert!(allows(&allowed, ip("192.0.2.200")));
        assert!(allows(&allowed, ip("::ffff:192.0.2.200")));
        assert!(allows(&allowed, ip("2001:db8:1::5")));
        assert!(!allows(&allowed, ip("192.0.3.1")));
        assert!(!allows(&allowed, ip("2001:db9::1")));
        assert!(!allows(&[], ip("192.0.2.1")), "an empty list allows nothing; callers treat it as no list");
    }

    #[test]
    fn the_client_is_read_from_the_right_past_trusted_proxies_only() {
        let trusted = list("10.0.0.0/8");
        let xff = Some("198.51.100.1, 203.0.113.5, 10.0.0.2");
        // A direct client is itself, whatever it claims.
        assert_eq!(client_ip(ip("203.0.113.9"), xff, &trusted), ip("203.0.113.9"));
        // Through two trusted proxies: the first untrusted from the right, never the leftmost.
        assert_eq!(client_ip(ip("10.0.0.1"), xff, &trusted), ip("203.0.113.5"));
        // Every hop trusted: the leftmost is the client.
        assert_eq!(client_ip(ip("10.0.0.1"), Some("10.0.0.3, 10.0.0.2"), &trusted), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.1"), None, &trusted), ip("10.0.0.1"));
        // Garbage stops the walk at the last readable trusted hop.
        assert_eq!(client_ip(ip("10.0.0.1"), Some("198.51.100.1, junk, 10.0.0.2"), &trusted), ip("10.0.0.2"));
        // Ports and mapped addresses are read as addresses.
        assert_eq!(client_ip(ip("::ffff:10.0.0.1"), Some("[2001:db8::7]:443"), &trusted), ip("2001:db8::7"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some("::ffff:203.0.113.5"), &trusted), ip("203.0.113.5"));
        // No trusted proxies configured: the socket decides.
        assert_eq!(client_ip(ip("10.0.0.1"), xff, &[]), ip("10.0.0.1"));
    }
}
