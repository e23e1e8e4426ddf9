//! What a finding is, below every layer that makes one: the rule codes
//! (`rules.rs`), the fix each rule and generator calls for (`hints.rs`), and
//! the `Check` that the scanner, the runtime probes and `check` produce and
//! every machine-readable report renders (`checks.rs`).

pub mod checks;
pub mod hints;
pub mod rules;
