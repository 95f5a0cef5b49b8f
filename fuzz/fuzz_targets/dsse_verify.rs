//! DSSE envelope decoding and verification: the input is a raw Ed25519
//! public key (32 bytes) followed by an envelope. Never a panic; a deposit
//! verifies only with a strictly valid signature by that key over the
//! recomputed PAE. The seed corpus holds envelopes `blueprint sign` wrote,
//! each after its key, so mutations reach the signature and statement
//! checks.
#![no_main]

use blueprint::attest::dsse::{self, Envelope};
use blueprint::attest::keys::PublicKey;
use blueprint::attest::statement;
use libfuzzer_sys::fuzz_target;
use std::num::NonZeroUsize;

fuzz_target!(|data: &[u8]| {
    if data.len() < 32 {
        return;
    }
    let (raw, rest) = data.split_at(32);
    let Some(key) = PublicKey::from_bytes(raw.try_into().unwrap()) else {
        return;
    };
    let Ok(envelope) = Envelope::from_json(rest) else {
        return;
    };
    let one = NonZeroUsize::MIN;
    let _ = dsse::verify(&envelope, statement::PAYLOAD_TYPE, &[key.clone()], one);
    if let Ok(v) = statement::verify_deposit(&envelope, &[key], one, None) {
        assert_eq!(v.signers.len(), 1);
    }
});
