//! The observation file (`schemas/observation.v1.schema.json`): what was seen
//! on a shipped unit, from a traffic capture or a firmware SBOM.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The `format` tag of an observation file.
pub const OBSERVATION_FORMAT: &str = "blueprint-observation/v1";

/// One observation file: traffic or firmware evidence with its provenance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// Always [`OBSERVATION_FORMAT`].
    pub format: String,
    /// Where the evidence came from.
    pub source: Source,
    /// Traffic evidence (`observe pcap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
    /// Firmware evidence (`observe sbom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<Firmware>,
}

/// Provenance of the evidence file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// File name as given on the command line.
    pub file: String,
    /// `pcap`, `pcapng` or `cyclonedx`.
    pub kind: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// Traffic of one device in one capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    pub device: DeviceSelector,
    pub coverage: Coverage,
    /// Sorted by remote address, transport, port.
    pub flows: Vec<Flow>,
    /// DNS questions the device asked, with the answers it received.
    pub dns: Vec<DnsQuery>,
}

/// How the device was picked out of the capture, and its addresses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceSelector {
    /// The `--device` argument.
    pub selector: String,
    /// The device's IP addresses seen in the capture.
    pub ips: Vec<IpAddr>,
    /// The device's MAC address, when known.
    pub mac: Option<String>,
}

/// What the capture covers, and whether it is complete.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// RFC 3339 time of the first record.
    pub first_seen: Option<String>,
    /// RFC 3339 time of the last record.
    pub last_seen: Option<String>,
    pub duration_s: f64,
    /// Link-layer types of the capture (pcap LINKTYPE names).
    pub link_types: Vec<String>,
    pub packets_total: u64,
    pub packets_device: u64,
    /// Records whose captured length is shorter than the packet (snaplen).
    pub packets_clipped: u64,
    /// Records that could not be decoded down to IP.
    pub packets_undecoded: u64,
    /// Device packets not counted because the flow table was full.
    pub packets_dropped: u64,
    /// The file ended inside a record.
    pub truncated: bool,
    /// Human-readable reasons why the evidence is partial; empty when complete.
    pub partial: Vec<String>,
}

/// Transport of a flow.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
    Icmp,
    Other,
}

/// All packets between the device and one remote service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub remote_ip: IpAddr,
    /// The service port: the remote port, or the device's port when
    /// `device_is_server`.
    pub port: u16,
    pub transport: Transport,
    /// The device listens and the remote side connects to it.
    pub device_is_server: bool,
    /// `public` or `local` (private, link-local, multicast, broadcast).
    pub scope: String,
    /// DNS names that resolved to `remote_ip` inside the capture.
    pub dns_names: Vec<String>,
    /// TLS server names from ClientHellos.
    pub tls_sni: Vec<String>,
    /// HTTP `Host` headers of plaintext requests.
    pub http_host: Vec<String>,
    /// Recognized application protocol (`tls`, `dtls`, `quic`, `http`, `mqtt`, `dns`, `ntp`, `dhcp`).
    pub protocol: Option<String>,
    /// `true` (TLS/DTLS/QUIC seen), `false` (a plaintext protocol seen), `null` (unknown).
    pub encrypted: Option<bool>,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub packets_out: u64,
    pub packets_in: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// One DNS question of the device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsQuery {
    pub name: String,
    /// `A`, `AAAA`, `CNAME`, or `TYPE<n>`.
    pub qtype: String,
    pub resolver: IpAddr,
    /// Addresses and canonical names answered.
    pub answers: Vec<String>,
    pub count: u64,
}

/// Firmware evidence from a CycloneDX SBOM.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Firmware {
    /// CycloneDX `specVersion`.
    pub spec_version: String,
    /// `metadata.component.name`.
    pub name: Option<String>,
    /// `metadata.component.version`.
    pub version: Option<String>,
    /// Digests of the firmware image (`metadata.component.hashes`), as `alg:hex`.
    pub digests: Vec<String>,
    pub components: Vec<Component>,
}

/// One component found in the firmware.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// `alg:hex`, e.g. `sha256:…`.
    pub hashes: Vec<String>,
}
