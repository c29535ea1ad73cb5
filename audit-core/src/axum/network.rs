//! The trusted proxies of [`ContextLayer`](super::layer::ContextLayer): IP
//! networks, written as CIDR (`10.0.0.0/8`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A network of IP addresses: an address and how many of its leading bits
/// are fixed, written `10.0.0.0/8` or `2001:db8::/32`; a single address is
/// the network of its full length (`192.0.2.7/32`, `2001:db8::7/128`).
///
/// It is what [`ContextLayer::trust_proxies`](super::ContextLayer::trust_proxies)
/// takes: an [`IpAddr`] converts into one, and text parses into one.
///
/// IPv4 addresses mapped into IPv6 (`::ffff:192.0.2.7`, as a dual-stack
/// listener reports an IPv4 peer) are the IPv4 addresses they carry: the
/// address `::ffff:10.0.0.1` is in `10.0.0.0/8`, and the network
/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
///
/// ```
/// use audit_core::axum::IpNetwork;
/// use std::net::IpAddr;
///
/// let private: IpNetwork = "10.0.0.0/8".parse()?;
/// assert!(private.contains("10.20.30.40".parse()?));
/// assert!(!private.contains("192.0.2.7".parse()?));
/// assert!(private.contains("::ffff:10.0.0.1".parse()?));
///
/// // Host bits are cleared; one address is a network of its full length.
/// assert_eq!("10.1.2.3/8".parse::<IpNetwork>()?.to_string(), "10.0.0.0/8");
/// let proxy = IpNetwork::from("192.0.2.7".parse::<IpAddr>()?);
/// assert_eq!(proxy.to_string(), "192.0.2.7/32");
/// assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    /// The first address of the network (its host bits are zero).
    address: IpAddr,
    /// How many leading bits are fixed: at most 32 for IPv4, 128 for IPv6.
    prefix: u8,
}

/// Text that is not an IP address or network (`10.0.0.0/8`,
/// `2001:db8::/32`), or a prefix longer than its address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an IP address or network (such as `10.0.0.0/8` or `2001:db8::/32`)")]
pub struct InvalidNetwork {
    input: String,
}

impl InvalidNetwork {
    /// The text refused.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl IpNetwork {
    /// The network of `address` with its first `prefix` bits fixed (the
    /// others are cleared: `10.1.2.3` and 8 give `10.0.0.0/8`). Refused when
    /// `prefix` is longer than the address: 32 bits for IPv4, 128 for IPv6.
    pub fn new(address: IpAddr, prefix: u8) -> Result<Self, InvalidNetwork> {
        let invalid = || InvalidNetwork {
            input: format!("{address}/{prefix}"),
        };
        match address {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4) & mask32(prefix).ok_or_else(invalid)?;
                Ok(IpNetwork {
                    address: IpAddr::V4(Ipv4Addr::from(bits)),
                    prefix,
                })
            }
            // An IPv4-mapped network covering only mapped addresses is the
            // IPv4 network it maps, since addresses are compared canonical.
            IpAddr::V6(v6) => match (v6.to_ipv4_mapped(), prefix.checked_sub(96)) {
                (Some(v4), Some(v4_prefix)) => IpNetwork::new(IpAddr::V4(v4), v4_prefix),
                _ => {
                    let bits = u128::from(v6) & mask128(prefix).ok_or_else(invalid)?;
                    Ok(IpNetwork {
                        address: IpAddr::V6(Ipv6Addr::from(bits)),
                        prefix,
                    })
                }
            },
        }
    }

    /// The network's first address (its host bits are zero).
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// How many leading bits of its addresses are fixed.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `address` is in this network (an IPv4-mapped IPv6 address
    /// as the IPv4 address it carries).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => mask32(self.prefix)
                .is_some_and(|mask| u32::from(address) & mask == u32::from(network)),
            (IpAddr::V6(network), IpAddr::V6(address)) => mask128(self.prefix)
                .is_some_and(|mask| u128::from(address) & mask == u128::from(network)),
            _ => false,
        }
    }
}

/// The mask of an IPv4 prefix, or `None` when it is longer than 32 bits.
fn mask32(prefix: u8) -> Option<u32> {
    match prefix {
        0 => Some(0),
        1..=32 => Some(u32::MAX << (32 - prefix)),
        _ => None,
    }
}

/// The mask of an IPv6 prefix, or `None` when it is longer than 128 bits.
fn mask128(prefix: u8) -> Option<u128> {
    match prefix {
        0 => Some(0),
        1..=128 => Some(u128::MAX << (128 - prefix)),
        _ => None,
    }
}

impl From<IpAddr> for IpNetwork {
    /// The network of this one address.
    fn from(address: IpAddr) -> Self {
        let address = address.to_canonical();
        let prefix = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        IpNetwork { address, prefix }
    }
}

impl From<Ipv4Addr> for IpNetwork {
    /// The network of this one address.
    fn from(address: Ipv4Addr) -> Self {
        IpNetwork::from(IpAddr::V4(address))
    }
}

impl From<Ipv6Addr> for IpNetwork {
    /// The network of this one address.
    fn from(address: Ipv6Addr) -> Self {
        IpNetwork::from(IpAddr::V6(address))
    }
}

impl FromStr for IpNetwork {
    type Err = InvalidNetwork;

    /// An address (`192.0.2.7`, `2001:db8::7`) or a network in CIDR
    /// notation (`10.0.0.0/8`, `2001:db8::/32`).
    fn from_str(text: &str) -> Result<Self, InvalidNetwork> {
        let invalid = || InvalidNetwork {
            input: text.to_owned(),
        };
        let Some((address, prefix)) = text.split_once('/') else {
            return text
                .parse::<IpAddr>()
                .map(IpNetwork::from)
                .map_err(|_| invalid());
        };
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        // Digits only (`u8::from_str` would also take a sign).
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        IpNetwork::new(address, prefix).map_err(|_| invalid())
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}
