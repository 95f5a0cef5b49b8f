//! Evidence from a shipped unit: traffic captures (`pcap`) and firmware
//! SBOMs (`sbom`), both turned into an [`Observation`] file.

pub mod observation;
pub mod pcap;
mod proto;
pub mod sbom;

pub use observation::{OBSERVATION_FORMAT, Observation};

/// What kind of evidence a file holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// pcap (any byte order or timestamp precision) or pcapng.
    Capture,
    /// JSON: an observation file or a CycloneDX SBOM.
    Json,
    Unknown,
}

/// Sniffs a file's kind from its first bytes.
pub fn sniff(head: &[u8]) -> EvidenceKind {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if head.len() >= 4 && MAGICS.iter().any(|m| head[..4] == *m) {
        return EvidenceKind::Capture;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => EvidenceKind::Json,
        _ => EvidenceKind::Unknown,
    }
}
