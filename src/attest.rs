//! The attestation stage: RFC 8785 canonical bytes and digest, Ed25519 keys,
//! DSSE envelopes and the in-toto Statement that carries a blueprint.

pub mod canon;
pub mod dsse;
pub mod keys;
pub mod statement;
