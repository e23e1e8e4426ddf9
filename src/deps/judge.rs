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

/// What a target asks of each module, and how each answer reads.
struct Question {
    /// A module that keeps the package from working on the target.
    blocks: fn(&ModuleVerdict) -> bool,
    blocked: DepStatus,
    blocked_reason: &'static str,
    /// A module the scanner could not decide.
    unknown: fn(&ModuleVerdict) -> bool,
    unknown_reason: &'static str,
    /// After "N extension module(s), ".
    ready_reason: &'static str,
}

/// A free-threaded target's question.
const KEEPS_THE_GIL_OFF: Question = Question {
    blocks: |m| m.gil == Some(GilVerdict::Used),
    blocked: DepStatus::GilRequired,
    blocked_reason: "re-enables the GIL on import",
    unknown: |m| m.gil.is_none_or(|g| g == GilVerdict::Undetermined),
    unknown_reason: "the scanner could not tell whether these keep the GIL off",
    ready_reason: "each keeping the GIL off",
};

/// A default build's question.
const LOADS_IN_ISOLATED_SUBINTERPRETERS: Question = Question {
    blocks: |m| {
        matches!(m.subinterpreters, Some(SubinterpreterVerdict::NotSupported | SubinterpreterVerdict::SharedGil))
    },
    blocked: DepStatus::SubinterpretersRefused,
    blocked_reason: "isolated subinterpreters refuse",
    unknown: |m| m.subinterpreters.is_none_or(|s| s == SubinterpreterVerdict::Undetermined),
    unknown_reason: "the scanner could not tell whether isolated subinterpreters load these",
    ready_reason: "each loading in isolated subinterpreters",
};

/// The status, and the sentence that says why.
pub fn judge(target: Target, modules: &[ModuleVerdict]) -> (DepStatus, String) {
    if modules.is_empty() {
        return (DepStatus::Pure, "the wheel holds no extension module".into());
    }
    // The first few by name, then how many more: `modules` lists them all.
    let names = |keep: fn(&ModuleVerdict) -> bool| {
        let named: Vec<&str> = modules.iter().filter(|m| keep(m)).map(|m| m.import_name.as_str()).collect();
        match named.len() {
            0..=MOST_NAMED => named.join(", "),
            n => format!("{}, and {} more", named[..MOST_NAMED].join(", "), n - MOST_NAMED),
        }
    };
    let question = if target.is_free_threaded() { &KEEPS_THE_GIL_OFF } else { &LOADS_IN_ISOLATED_SUBINTERPRETERS };
    let blocking = names(question.blocks);
    if !blocking.is_empty() {
        return (question.blocked, format!("{}: {blocking}", question.blocked_reason));
    }
    let unknown = names(question.unknown);
    if !unknown.is_empty() {
        return (DepStatus::Undetermined, format!("{}: {unknown}", question.unknown_reason));
    }
    (DepStatus::Ready, format!("{} extension module(s), {}", modules.len(), question.ready_reason))
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
