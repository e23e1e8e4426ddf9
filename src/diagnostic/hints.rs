//! What to do about a finding: the fix for the binding generator that built
//! the module, with the page of the free-threading porting guide (or of
//! CPython's how-to) that explains it.

use crate::binscan::Init;
use crate::binscan::generator::GeneratorKind;

use super::rules::Rule;

const PORTING_GUIDE: &str = "https://py-free-threading.github.io/porting-extensions/";
const CPYTHON_HOWTO: &str = "https://docs.python.org/3/howto/free-threading-extensions.html";
const ISOLATING: &str = "https://docs.python.org/3/howto/isolating-extensions.html";

/// How to declare free-threading support, for the generator that built the
/// module (None: hand-written C, told apart by its init kind).
pub fn declare_free_threading(generator: Option<GeneratorKind>, init: Option<Init>) -> String {
    let (fix, url) = match (generator, init) {
        (Some(GeneratorKind::Cython), _) => (
            "Cython: add `# cython: freethreading_compatible = True` (Cython 3.1+) once the module is thread-safe",
            PORTING_GUIDE,
        ),
        (Some(GeneratorKind::Pyo3), _) => {
            ("PyO3: use `#[pymodule(gil_used = false)]`, or PyO3 0.28+, where that is the default", PORTING_GUIDE)
        }
        (Some(GeneratorKind::Pybind11), _) => {
            ("pybind11: pass `py::mod_gil_not_used()` to `PYBIND11_MODULE` (pybind11 2.13+)", PORTING_GUIDE)
        }
        (Some(GeneratorKind::Nanobind), _) => {
            ("nanobind: add `FREE_THREADED` to `nanobind_add_module(...)` in CMake", PORTING_GUIDE)
        }
        (Some(GeneratorKind::Cffi), _) => ("cffi: build with cffi 2.0 or newer, which declares support", PORTING_GUIDE),
        (Some(GeneratorKind::Mypyc), _) => (
            "mypyc: build with a mypyc release whose modules declare free-threading support on free-threaded builds, or ship a pure-Python wheel for them",
            PORTING_GUIDE,
        ),
        (None, Some(Init::SinglePhase)) => (
            "C, single-phase init: call `PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED)` in `PyInit_` (or move to multi-phase init)",
            CPYTHON_HOWTO,
        ),
        (None, _) => (
            "C, multi-phase init: add `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` to the module's slots (under `#ifdef Py_mod_gil`)",
            CPYTHON_HOWTO,
        ),
    };
    format!("{fix}; see {url}")
}

/// How to support (isolated) subinterpreters.
pub fn support_subinterpreters() -> String {
    format!(
        "use multi-phase init with module state (no C globals) and declare `{{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED}}`; see {ISOLATING}"
    )
}

/// The general advice for a rule (SARIF's `help`), when there is one.
pub fn rule_help(rule: Rule) -> Option<String> {
    match rule {
        Rule::GilReenabled | Rule::GilEnabledAtRuntime | Rule::ClassifierButGilEnabled | Rule::FreeThreadingRequired => {
            Some(format!(
                "Declare free-threading support in every extension module once it is thread-safe: a Py_mod_gil slot (C), freethreading_compatible (Cython), gil_used = false (PyO3), py::mod_gil_not_used() (pybind11), FREE_THREADED (nanobind). See {PORTING_GUIDE}"
            ))
        }
        Rule::DeclaredSubinterpretersRefused | Rule::IsolatedSubinterpretersRequired | Rule::SubinterpreterRefused => {
            Some(support_subinterpreters())
        }
        Rule::FallbackToPurePython => Some(
            "The compiled module refused to load here; make it support this interpreter (see the other findings), or the package runs its slower fallback.".into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generator_gets_its_own_fix() {
        let kinds = [
            (Some(GeneratorKind::Cython), "freethreading_compatible"),
            (Some(GeneratorKind::Pyo3), "gil_used = false"),
            (Some(GeneratorKind::Pybind11), "py::mod_gil_not_used()"),
            (Some(GeneratorKind::Nanobind), "FREE_THREADED"),
        ];
        for (generator, text) in kinds {
            let hint = declare_free_threading(generator, Some(Init::MultiPhase));
            assert!(hint.contains(text) && hint.contains(PORTING_GUIDE), "{hint}");
        }
        assert!(declare_free_threading(None, Some(Init::SinglePhase)).contains("PyUnstable_Module_SetGIL"));
        assert!(declare_free_threading(None, Some(Init::MultiPhase)).contains("Py_mod_gil"));
    }
}
