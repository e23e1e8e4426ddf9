//! A chosen wheel's status on a target, from the scanner's verdicts for the
//! modules that target's interpreter imports (the same verdicts, in the same
//! words, as `ftprobe scan`).

use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::model::target::Target;
use crate::scan;

use super::result::{DepStatus, ModuleVerdict};

/// The modules of a scanned wheel that its interpreter imports.
pub fn modules(target: &scan::Target) -> Vec<ModuleVerdict> {
    target
        .extensions
        .iter()
        .filter_map(|e| {
            let report = e.imported_module()?;
            let generator = report.generator.as_ref().map(|g| {
                let name = crate::model::snake(&g.name);
                match &g.version {
                    Some(version) => format!("{name} {version}"),
                    None => name,
                }
            });
            Some(ModuleVerdict {
                import_name: e.import_name.clone().unwrap_or_else(|| scan::dotted_module(&e.member)),
                file: e.member.clone(),
                gil: report.gil,
                subinterpreters: report.subinterpreters,
                generator,
            })
        })
        .collect()
}

/// How many modules a reason names before it counts the rest.
const MOST_NAMED: usize = 5;

/// The status, and the sentence that says why.
pub fn judge(target: Target, modules: &[ModuleVerdict]) -> (DepStatus, String) {
    if modules.is_empty() {
        return (DepStatus::Pure, "the wheel holds no extension module".into());
    }
    // The first few by name, then how many more: `modules` lists them all.
    let names = |keep: &dyn Fn(&ModuleVerdict) -> bool| {
        let named: Vec<&str> = modules.iter().filter(|m| keep(m)).map(|m| m.import_name.as_str()).collect();
        match named.len() {
            0..=MOST_NAMED => named.join(", "),
            n => format!("{}, and {} more", named[..MOST_NAMED].join(", "), n - MOST_NAMED),
        }
    };
    if target.is_free_threaded() {
        let used = names(&|m| m.gil == Some(GilVerdict::Used));
        if !used.is_empty() {
            return (DepStatus::GilRequired, format!("re-enables the GIL on import: {used}"));
        }
        let unknown = names(&|m| m.gil.is_none_or(|g| g == GilVerdict::Undetermined));
        if !unknown.is_empty() {
            return (
                DepStatus::Undetermined,
                format!("the scanner could not tell whether these keep the GIL off: {unknown}"),
            );
        }
        return (DepStatus::Ready, format!("{} extension module(s), each keeping the GIL off", modules.len()));
    }
    let refused = names(&|m| {
        matches!(m.subinterpreters, Some(SubinterpreterVerdict::NotSupported | SubinterpreterVerdict::SharedGil))
    });
    if !refused.is_empty() {
        return (DepStatus::SubinterpretersRefused, format!("isolated subinterpreters refuse: {refused}"));
    }
    let unknown = names(&|m| m.subinterpreters.is_none_or(|s| s == SubinterpreterVerdict::Undetermined));
    if !unknown.is_empty() {
        return (
            DepStatus::Undetermined,
            format!("the scanner could not tell whether isolated subinterpreters load these: {unknown}"),
        );
    }
    (DepStatus::Ready, format!("{} extension module(s), each loading in isolated subinterpreters", modules.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(name: &str, gil: GilVerdict, sub: SubinterpreterVerdict) -> ModuleVerdict {
        ModuleVerdict {
            import_name: name.into(),
            file: format!("{name}.so"),
            gil: Some(gil),
            subinterpreters: Some(sub),
            generator: None,
        }
    }

    #[test]
    fn a_free_threaded_target_reads_the_gil_and_a_default_one_isolated_subinterpreters() {
        let ft: Target = "3.14t".parse().unwrap();
        let default: Target = "3.14".parse().unwrap();
        let fine = module("a._a", GilVerdict::NotUsed, SubinterpreterVerdict::SharedGil);
        let gil = module("b._b", GilVerdict::Used, SubinterpreterVerdict::PerInterpreterGil);
        assert_eq!(judge(ft, std::slice::from_ref(&fine)).0, DepStatus::Ready);
        let (status, why) = judge(ft, &[fine.clone(), gil.clone()]);
        assert_eq!((status, why.as_str()), (DepStatus::GilRequired, "re-enables the GIL on import: b._b"));
        assert_eq!(judge(default, &[gil]).0, DepStatus::Ready);
        assert_eq!(judge(default, &[fine]).0, DepStatus::SubinterpretersRefused);
        assert_eq!(judge(ft, &[]).0, DepStatus::Pure);
        let many: Vec<ModuleVerdict> =
            (0..7).map(|i| module(&format!("p._{i}"), GilVerdict::Used, SubinterpreterVerdict::SharedGil)).collect();
        assert_eq!(judge(ft, &many).1, "re-enables the GIL on import: p._0, p._1, p._2, p._3, p._4, and 2 more");
        let unknown = module("c._c", GilVerdict::Undetermined, SubinterpreterVerdict::Undetermined);
        assert_eq!(judge(ft, &[unknown]).0, DepStatus::Undetermined);
    }
}
