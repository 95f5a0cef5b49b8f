//! Receipts (JSON) and checkpoints (C2SP signed notes) from untrusted
//! bytes: the input is the log's raw Ed25519 public key (32 bytes)
//! followed by a receipt or a checkpoint note. Parsed and verified, never
//! a panic.
#![no_main]

use blueprint::attest::keys::PublicKey;
use blueprint::escrow::checkpoint;
use blueprint::escrow::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 32 {
        return;
    }
    let (raw, rest) = data.split_at(32);
    let Some(key) = PublicKey::from_bytes(raw.try_into().unwrap()) else {
        return;
    };
    if let Ok(r) = Receipt::from_json(rest) {
        let _ = r.verify(&key);
    }
    let _ = checkpoint::verify(rest, &key, None);
});
