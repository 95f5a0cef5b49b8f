//! pcap and pcapng reading: any bytes give an observation, a host list or
//! an error, in bounded memory, never a panic.
#![no_main]

use blueprint::device::observe::pcap::{self, Device, Limits, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for allow_truncated in [false, true] {
        let opts = Options {
            device: Device::Ip([192, 168, 10, 204].into()),
            limits: Limits::default(),
            allow_truncated,
        };
        let _ = pcap::observe(data, "fuzz.pcap", &opts);
        let _ = pcap::list_hosts(data, "fuzz.pcap", &Limits::default(), allow_truncated);
    }
});
