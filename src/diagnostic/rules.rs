//! The stable rule codes every finding and failed check carries, each with
//! the one sentence that explains it (SARIF's rule list, Markdown). A code
//! in `--ignore` or `[tool.ftprobe] ignore` must be one of these.

use serde::{Deserialize, Serialize};

/// One rule; serialised as its code (`gil-reenabled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A free-threaded wheel holds an extension module that re-enables the GIL on import.
    GilReenabled,
    /// An extension module's file name is for another ABI than the wheel tag.
    SuffixTagMismatch,
    /// An extension module was built for another kind of CPython than the wheel tag says.
    BinaryTagMismatch,
    /// An abi3 wheel, which free-threaded CPython 3.13 and 3.14 cannot load.
    Abi3NotLoadableFreeThreaded,
    /// An abi3t wheel holds a module without 3.15's PyModExport_ hook, so it was not built for abi3t.
    Abi3tNeedsExportHook,
    /// A wheel lists one member name more than once; installers disagree on which wins.
    DuplicateMemberNames,
    /// A file could not be read or parsed.
    Unreadable,
    /// Importing the module enabled the GIL on a free-threaded build.
    GilEnabledAtRuntime,
    /// The import raised.
    ImportFailed,
    /// A subinterpreter refused to load the module.
    SubinterpreterRefused,
    /// The import succeeded, but a compiled module refused to load and the package fell back to another (often pure-Python, slower) implementation.
    FallbackToPurePython,
    /// The import crashed the interpreter.
    Crash,
    /// The import stopped making progress.
    Deadlock,
    /// The import did not finish in time.
    Timeout,
    /// What the binary declares and what CPython did disagree.
    StaticRuntimeDisagreement,
    /// A module declares subinterpreter support that does not hold at run time.
    DeclaredSubinterpretersRefused,
    /// METADATA claims free-threading support, but no wheel targets a free-threaded ABI.
    ClassifierWithoutFreeThreadedWheel,
    /// A free-threaded wheel whose METADATA has no Free Threading classifier.
    FreeThreadedWheelWithoutClassifier,
    /// METADATA claims free-threading support, but a module re-enables the GIL.
    ClassifierButGilEnabled,
    /// Policy: free-threading support is required.
    FreeThreadingRequired,
    /// Policy: support for isolated subinterpreters is required.
    IsolatedSubinterpretersRequired,
    /// ftprobe could not run a probe.
    ProbeError,
    /// A locked dependency has no wheel for the target: an install builds it from source, or fails.
    NoWheelForTarget,
    /// The scanner could not decide what a locked dependency's module declares.
    VerdictUndetermined,
}

impl Rule {
    /// Every rule, in the order above.
    pub const ALL: [Rule; 24] = [
        Rule::GilReenabled,
        Rule::SuffixTagMismatch,
        Rule::BinaryTagMismatch,
        Rule::Abi3NotLoadableFreeThreaded,
        Rule::Abi3tNeedsExportHook,
        Rule::DuplicateMemberNames,
        Rule::Unreadable,
        Rule::GilEnabledAtRuntime,
        Rule::ImportFailed,
        Rule::SubinterpreterRefused,
        Rule::FallbackToPurePython,
        Rule::Crash,
        Rule::Deadlock,
        Rule::Timeout,
        Rule::StaticRuntimeDisagreement,
        Rule::DeclaredSubinterpretersRefused,
        Rule::ClassifierWithoutFreeThreadedWheel,
        Rule::FreeThreadedWheelWithoutClassifier,
        Rule::ClassifierButGilEnabled,
        Rule::FreeThreadingRequired,
        Rule::IsolatedSubinterpretersRequired,
        Rule::ProbeError,
        Rule::NoWheelForTarget,
        Rule::VerdictUndetermined,
    ];

    /// The stable code: `gil-reenabled`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::GilReenabled => "gil-reenabled",
            Rule::SuffixTagMismatch => "suffix-tag-mismatch",
            Rule::BinaryTagMismatch => "binary-tag-mismatch",
            Rule::Abi3NotLoadableFreeThreaded => "abi3-not-loadable-free-threaded",
            Rule::Abi3tNeedsExportHook => "abi3t-needs-export-hook",
            Rule::DuplicateMemberNames => "duplicate-member-names",
            Rule::Unreadable => "unreadable",
            Rule::GilEnabledAtRuntime => "gil-enabled-at-runtime",
            Rule::ImportFailed => "import-failed",
            Rule::SubinterpreterRefused => "subinterpreter-refused",
            Rule::FallbackToPurePython => "fallback-to-pure-python",
            Rule::Crash => "crash",
            Rule::Deadlock => "deadlock",
            Rule::Timeout => "timeout",
            Rule::StaticRuntimeDisagreement => "static-runtime-disagreement",
            Rule::DeclaredSubinterpretersRefused => "declared-subinterpreters-refused",
            Rule::ClassifierWithoutFreeThreadedWheel => "classifier-without-free-threaded-wheel",
            Rule::FreeThreadedWheelWithoutClassifier => "free-threaded-wheel-without-classifier",
            Rule::ClassifierButGilEnabled => "classifier-but-gil-enabled",
            Rule::FreeThreadingRequired => "free-threading-required",
            Rule::IsolatedSubinterpretersRequired => "isolated-subinterpreters-required",
            Rule::ProbeError => "probe-error",
            Rule::NoWheelForTarget => "no-wheel-for-target",
            Rule::VerdictUndetermined => "verdict-undetermined",
        }
    }

    /// What the rule means, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Rule::GilReenabled => "A free-threaded wheel holds an extension module that re-enables the GIL on import.",
            Rule::SuffixTagMismatch => "An extension module's file name is for another ABI than the wheel tag.",
            Rule::BinaryTagMismatch => {
                "An extension module was built for another kind of CPython than the wheel tag says."
            }
            Rule::Abi3NotLoadableFreeThreaded => {
                "An abi3 wheel, which free-threaded CPython 3.13 and 3.14 cannot load."
            }
            Rule::Abi3tNeedsExportHook => {
                "An abi3t wheel holds a module without 3.15's PyModExport_ hook, so it was not built for abi3t."
            }
            Rule::DuplicateMemberNames => {
                "A wheel lists one member name more than once; installers disagree on which wins."
            }
            Rule::Unreadable => "A file could not be read or parsed.",
            Rule::GilEnabledAtRuntime => "Importing the module enabled the GIL on a free-threaded build.",
            Rule::ImportFailed => "The import raised.",
            Rule::SubinterpreterRefused => "A subinterpreter refused to load the module.",
            Rule::FallbackToPurePython => {
                "The import succeeded, but a compiled module refused to load and the package fell back to another (often pure-Python, slower) implementation."
            }
            Rule::Crash => "The import crashed the interpreter.",
            Rule::Deadlock => "The import stopped making progress.",
            Rule::Timeout => "The import did not finish in time.",
            Rule::StaticRuntimeDisagreement => "What the binary declares and what CPython did disagree.",
            Rule::DeclaredSubinterpretersRefused => {
                "A module declares subinterpreter support that does not hold at run time."
            }
            Rule::ClassifierWithoutFreeThreadedWheel => {
                "METADATA claims free-threading support, but no wheel targets a free-threaded ABI."
            }
            Rule::FreeThreadedWheelWithoutClassifier => {
                "A free-threaded wheel whose METADATA has no Free Threading classifier."
            }
            Rule::ClassifierButGilEnabled => "METADATA claims free-threading support, but a module re-enables the GIL.",
            Rule::FreeThreadingRequired => "Policy: free-threading support is required.",
            Rule::IsolatedSubinterpretersRequired => "Policy: support for isolated subinterpreters is required.",
            Rule::ProbeError => "ftprobe could not run a probe.",
            Rule::NoWheelForTarget => {
                "A locked dependency has no wheel for the target: an install builds it from source, or fails."
            }
            Rule::VerdictUndetermined => "The scanner could not decide what a locked dependency's module declares.",
        }
    }

    /// The rule with this code, or an error that lists the valid codes.
    pub fn parse(code: &str) -> Result<Rule, UnknownRule> {
        Rule::ALL.into_iter().find(|r| r.code() == code).ok_or_else(|| UnknownRule { code: code.to_string() })
    }
}

/// A code that names no rule (`--ignore`); its message lists the valid ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{code}` is not a rule code; valid codes: {}", Rule::ALL.map(Rule::code).join(", "))]
pub struct UnknownRule {
    pub code: String,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_parse() {
        for rule in Rule::ALL {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.code());
            assert_eq!(Rule::parse(rule.code()), Ok(rule));
            assert!(!rule.description().is_empty());
        }
        let error = Rule::parse("gil-reenabeld").unwrap_err().to_string();
        assert!(error.contains("gil-reenabled") && error.contains("probe-error"), "{error}");
    }
}
