//! Any bytes given as a wheel give a report with an error or extensions,
//! never a panic, a hang or an unbounded allocation. The wheel reader works
//! on files, so each input is written to a scratch file first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("ftprobe-fuzz-{}-1.0-cp313-cp313t-linux_x86_64.whl", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let options = ftprobe::scan::Options { max_member_size: 16 << 20 };
    let _ = ftprobe::scan::scan_path(&path, options);
});
