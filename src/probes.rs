//! The Python scripts ftprobe runs inside interpreters, embedded at build
//! time from the top-level `probes/` folder by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/probes.rs"));

/// The per-package extra check for `module` and `probe`, from
/// `probes/specific/<module>_<probe>.py`.
pub fn specific(module: &str, probe: &str) -> Option<&'static str> {
    let wanted = format!("{module}_{probe}");
    SPECIFIC.iter().find(|(stem, _)| *stem == wanted).map(|(_, source)| *source)
}
