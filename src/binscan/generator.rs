//! Which binding generator made a module, from strings and symbols it leaves
//! behind (cpython-reference.md, section C), and what that implies.

use serde::{Deserialize, Serialize};

use super::image::Image;

/// The binding generators recognised, as run rows name them (`pyo3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorKind {
    Cython,
    Pyo3,
    Pybind11,
    Nanobind,
    Cffi,
    Mypyc,
}

/// A recognised generator and what its traces say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Generator {
    pub name: GeneratorKind,
    /// The exact version, when the binary records it.
    pub version: Option<String>,
    /// Other facts read from its traces (ABI tags, internals versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// nanobind's ABI tag ends in `_ft` when built with `NB_FREE_THREADED`.
    #[serde(skip)]
    pub nanobind_free_threaded: bool,
    /// Cython's refusal of a second interpreter is compiled in.
    #[serde(skip)]
    pub cython_refuses_interpreter_change: bool,
}

pub fn detect(image: &Image<'_>) -> Option<Generator> {
    let has = |needle: &str| image.contains(needle.as_bytes());
    let plain = |name| Generator {
        name,
        version: None,
        detail: None,
        nanobind_free_threaded: false,
        cython_refuses_interpreter_change: false,
    };
    if has("pyo3_runtime.PanicException") || has("PyO3 modules") {
        return Some(Generator { version: version_after(image, b"/pyo3-"), ..plain(GeneratorKind::Pyo3) });
    }
    let nanobind = has("__nb_internals_") || has("nanobind.nb_func") || has("__nb_signature__");
    if has("__pybind11_internals_v") {
        let mut detail = text_after(image, b"__pybind11_internals_v", 3).map(|v| format!("internals v{v}"));
        if nanobind {
            // One library holding modules of both (jaxlib's libjax_common).
            detail = Some(format!("{}; nanobind is linked in too", detail.unwrap_or_default()));
        }
        return Some(Generator { detail, ..plain(GeneratorKind::Pybind11) });
    }
    if nanobind {
        let tag = abi_tag(image, b"_use_cxx11_abi_");
        let free_threaded = tag.as_deref().is_some_and(|t| t.contains("_ft"));
        return Some(Generator {
            detail: tag.map(|t| format!("ABI tag ..._use_cxx11_abi_{t}")),
            nanobind_free_threaded: free_threaded,
            ..plain(GeneratorKind::Nanobind)
        });
    }
    if has("cython_runtime") || has("__pyx_") || has("_cython_3_") {
        // `_cython_3_2_4` (or `_cython_3_2_9limited` under the limited API).
        let version = text_after(image, b"_cython_", 12).map(|v| {
            let digits: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '_').collect();
            digits.trim_end_matches('_').replace('_', ".")
        });
        return Some(Generator {
            version: version.filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit())),
            cython_refuses_interpreter_change: has("Interpreter change detected"),
            ..plain(GeneratorKind::Cython)
        });
    }
    // mypyc: the shared `<hash>__mypyc` library, or a stub module that
    // takes its init function from that library's capsule.
    let mypyc_stub = has("__mypyc.init_") || has("__mypyc.exec_") || has("__mypyc.ensure_deps");
    if mypyc_stub || has("__mypyc_empty_tuple__") || has("mypyc_interned_str") {
        return Some(plain(GeneratorKind::Mypyc));
    }
    if image.imports.contains("_cffi_init") || has("_cffi_backend") {
        return Some(plain(GeneratorKind::Cffi));
    }
    None
}

/// `[A-Za-z0-9_.]` characters after `marker`, at most `max` of them.
fn text_after(image: &Image<'_>, marker: &[u8], max: usize) -> Option<String> {
    let at = memchr::memmem::find(image.data, marker)? + marker.len();
    let tail = image.data.get(at..)?;
    let text: String = tail
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
        .map(|b| *b as char)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// A version like `0.27.2` after `marker` (Rust crate paths in panic messages).
fn version_after(image: &Image<'_>, marker: &[u8]) -> Option<String> {
    let text = text_after(image, marker, 16)?;
    let version: String = text.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let version = version.trim_end_matches('.').to_string();
    (version.matches('.').count() == 2).then_some(version)
}

/// The rest of nanobind's ABI tag after `marker`, e.g. `1_ft` or `1_ft_a1_v22`.
fn abi_tag(image: &Image<'_>, marker: &[u8]) -> Option<String> {
    text_after(image, marker, 32)
}
