//! Any bytes given to the binary scanner give a report or an error, never a
//! panic, a hang or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ftprobe::binscan::scan_bytes(data, ftprobe::binscan::BuildHint::default());
});
