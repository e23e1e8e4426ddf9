//! Malformed binaries and wheels never panic the scanner: every fixture module (ELF
//! built here) and the real macOS, Windows and armv7 wheels' binaries are truncated
//! at many points and have bytes flipped, deterministically, and each variant
//! must give a report or an error. The cargo-fuzz target in fuzz/ explores
//! further.

mod common;

use std::io::Read;
use std::panic::catch_unwind;

use ftprobe::binscan::{BuildHint, scan_bytes};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn mutate_and_scan(name: &str, original: &[u8], rng: &mut Rng) -> usize {
    let mut variants = 0;
    let mut check = |data: &[u8], what: String| {
        let outcome = catch_unwind(|| scan_bytes(data, BuildHint::default()));
        assert!(outcome.is_ok(), "{name}: the scanner panicked on {what}");
        variants += 1;
    };
    for step in 1..=16 {
        let cut = original.len() * step / 17;
        check(&original[..cut], format!("a truncation to {cut} bytes"));
    }
    // The quick loop flips a quarter as many rounds; the full suite all of them.
    let rounds = if common::quick() { 12 } else { 48 };
    for round in 0..rounds {
        let mut data = original.to_vec();
        for _ in 0..1 + round % 8 {
            // Aim most flips at the headers and tables at the start of the file.
            let limit = if rng.next().is_multiple_of(4) { data.len() } else { data.len().min(4096) };
            let at = (rng.next() as usize) % limit;
            data[at] = (rng.next() & 0xff) as u8;
        }
        check(&data, format!("flip round {round}"));
    }
    variants
}

fn members(wheel: &std::path::Path, max: usize) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let names: Vec<String> = archive.file_names().filter_map(|n| n.ok()).map(|n| n.into_owned()).collect();
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| n.ends_with(".so") || n.ends_with(".pyd")) {
        let mut file = archive.by_name(&name).unwrap();
        if file.size() > 4 << 20 {
            continue;
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        out.push((name, data));
        if out.len() == max {
            break;
        }
    }
    out
}

#[test]
fn mutated_binaries_never_panic_the_scanner() {
    let mut rng = Rng(0x5eed_f00d_dead_beef);
    let mut variants = 0;
    for (variant, _, _) in common::variants() {
        for entry in std::fs::read_dir(common::fixtures().join(&variant)).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            variants += mutate_and_scan(&path.display().to_string(), &data, &mut rng);
        }
    }
    let real = common::real_wheels();
    for platform in ["macos_arm64", "windows_amd64", "linux_armv7"] {
        for wheel in std::fs::read_dir(real.join(platform)).unwrap() {
            for (name, data) in members(&wheel.unwrap().path(), 3) {
                variants += mutate_and_scan(&name, &data, &mut rng);
            }
        }
    }
    let enough = if common::quick() { 1500 } else { 5000 };
    assert!(variants > enough, "only {variants} variants scanned");
}

/// Wheels with bytes flipped in their zip structures (local headers, the
/// central directory, its end record) and truncated: each gives a report
/// with an error or extensions, never a panic.
#[test]
fn mutated_wheels_never_panic_the_wheel_reader() {
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::manifest();
    let options = ftprobe::scan::Options { max_member_size: 64 << 20 };
    let mut variants = 0;
    for fixture in &manifest.wheel {
        let original = std::fs::read(common::fixtures().join("wheels").join(&fixture.file)).unwrap();
        let structures: Vec<usize> = original
            .windows(4)
            .enumerate()
            .filter(|(_, w)| matches!(*w, b"PK\x03\x04" | b"PK\x01\x02" | b"PK\x05\x06"))
            .map(|(at, _)| at)
            .collect();
        for round in 0..64 {
            let mut data = original.clone();
            if round % 8 == 7 {
                data.truncate((rng.next() as usize) % data.len());
            } else {
                for _ in 0..1 + round % 4 {
                    let base = structures[(rng.next() as usize) % structures.len()];
                    let at = (base + (rng.next() as usize) % 64).min(data.len() - 1);
                    data[at] = (rng.next() & 0xff) as u8;
                }
            }
            let path = dir.path().join(&fixture.file);
            std::fs::write(&path, &data).unwrap();
            let target = catch_unwind(|| ftprobe::scan::scan_path(&path, options))
                .unwrap_or_else(|_| panic!("{}: the wheel reader panicked in round {round}", fixture.file));
            assert!(target.error.is_some() || !target.extensions.is_empty() || !target.tags.is_empty());
            variants += 1;
        }
    }
    assert!(variants >= 64 * 4, "only {variants} wheel variants scanned");
}
