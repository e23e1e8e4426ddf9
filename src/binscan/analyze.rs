//! From an [`Image`] to verdicts: find the entry point, the module
//! definition and its slots (static, or stored by `PyInit_` at run time),
//! decode `PyUnstable_Module_SetGIL` call sites, and fall back on what the
//! binding generator is known to do. Each step adds a sentence of evidence.

use super::code::{self, CallGraph, CallSite, CapturedFlag, CodeFacts, FlagQuery, FlagSource, Target, Value};
use super::generator::{self, Generator, GeneratorKind};
use super::image::Image;
use super::moduledef::{self, DefLayout, Memory, ModuleDef, Slot, SlotValue};
use super::{BinaryReport, BuildHint, Forward, GilVerdict, Init, SubinterpreterVerdict};

mod entries;

use entries::{Entry, FileEntries, export_role, find_entries, refused_by_pyo3_submodules};

const SET_GIL: &str = "PyUnstable_Module_SetGIL";
const CREATE: &str = "PyModule_Create2";
const CREATE_TRACE_REFS: &str = "PyModule_Create2TraceRefs";
/// How many direct calls from `PyInit_` a closure's builder may be.
const CLOSURE_DEPTH: usize = 3;
/// How far into `PyInit_` the analysis reads when the symbol has no size.
const DEFAULT_FUNCTION_BYTES: usize = 4096;

/// One report per module the binary defines; a binary that defines none
/// gives one report saying so.
pub fn analyze(image: &Image<'_>, hint: BuildHint<'_>) -> Vec<BinaryReport> {
    let entries = find_entries(image, hint.file_module);
    let generator = generator::detect(image);
    if entries.is_empty() {
        return vec![analyze_entry(image, None, hint, &generator)];
    }
    // With no file name to go by, or no entry named after it, the first
    // entry stands for the file.
    let analysed: Vec<EntryAnalysis> =
        entries.iter().map(|entry| analyze_entry_fully(image, Some(entry), hint, &generator)).collect();
    let file = FileEntries {
        entries: &entries,
        first_def: analysed[0].def_address,
        file_defines_its_module: hint.file_module == Some(entries[0].module.as_str()),
    };
    let mut reports = Vec::with_capacity(analysed.len());
    for (index, EntryAnalysis { mut report, code, def_address }) in analysed.into_iter().enumerate() {
        if index > 0 {
            let entry = &entries[index];
            report.alias = true;
            let (role, why) = match export_role(entry, &code, def_address, &file, &generator) {
                Some((role, why)) => (Some(role), why),
                None => (None, format!("`import` of the file's name does not run {}", entry.function)),
            };
            report.export_role = role;
            report.evidence.insert(0, format!("a further module of this file: {why}"));
        }
        reports.push(report);
    }
    refused_by_pyo3_submodules(&mut reports);
    reports
}

/// The facts of an entry function's code.
fn entry_code(image: &Image<'_>, entry: &Entry) -> CodeFacts {
    let len = entry.size.map_or(DEFAULT_FUNCTION_BYTES, |s| s as usize).min(1 << 16);
    code::analyze_function(image, entry.address, len)
}

/// A mypyc stub's init function: `PyInit_<module>` imports the shared
/// `<hash>__mypyc` module and calls the function its capsule
/// `<hash>__mypyc.init_<mangled>` holds, which that library exports as
/// `CPyInit_<mangled>` (`tomli._parser` is mangled `tomli____parser`).
/// Returns `(library module, symbol)`.
fn mypyc_init_capsule(image: &Image<'_>, module: &str) -> Option<(String, String)> {
    let marker: &[u8] = b"__mypyc.init_";
    memchr::memmem::find_iter(image.data, marker).find_map(|at| {
        let start = image.data[..at].iter().rposition(|b| *b == 0).map_or(0, |nul| nul + 1);
        let end = at + image.data[at..].iter().position(|b| *b == 0)?;
        let text = std::str::from_utf8(&image.data[start..end]).ok()?;
        let (library, mangled) = text.split_once(".init_")?;
        let names_this_module = mangled == module || mangled.ends_with(&format!("___{module}"));
        let plain = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        (names_this_module && plain(library) && plain(mangled))
            .then(|| (library.to_string(), format!("CPyInit_{mangled}")))
    })
}

/// For each `(symbol, module)`: the module as if `symbol`, exported by this
/// library, were its `PyInit_` (what a stub module's `PyInit_` jumps to).
/// `None` where the library does not export the symbol.
pub fn analyze_forwarded(
    image: &Image<'_>,
    requests: &[(&str, &str)],
    hint: BuildHint<'_>,
) -> Vec<Option<BinaryReport>> {
    let generator = generator::detect(image);
    requests
        .iter()
        .map(|(symbol, module)| {
            let export = image.exports.iter().find(|e| e.name == *symbol)?;
            let entry = Entry {
                module: module.to_string(),
                function: symbol.to_string(),
                address: export.address,
                size: export.size,
                export_hook: false,
            };
            Some(analyze_entry(image, Some(&entry), hint, &generator))
        })
        .collect()
}

/// The imported function a stub's `PyInit_` does nothing but call or jump
/// to, when that is all it does (not a CPython API function).
fn forward_target(code: &CodeFacts) -> Option<&str> {
    let [call] = code.calls.as_slice() else { return None };
    match &call.target {
        Target::Import(name) if !name.starts_with("Py") && !name.starts_with("_Py") => Some(name),
        _ => None,
    }
}

/// One entry's report, with what was read on the way that judging the
/// file's further exports needs.
struct EntryAnalysis {
    report: BinaryReport,
    code: CodeFacts,
    /// The `PyModuleDef` the init function passes, when found.
    def_address: Option<u64>,
}

fn analyze_entry(
    image: &Image<'_>,
    entry: Option<&Entry>,
    hint: BuildHint<'_>,
    generator: &Option<Generator>,
) -> BinaryReport {
    analyze_entry_fully(image, entry, hint, generator).report
}

fn analyze_entry_fully(
    image: &Image<'_>,
    entry: Option<&Entry>,
    hint: BuildHint<'_>,
    generator: &Option<Generator>,
) -> EntryAnalysis {
    let set_gil_imported = image.imports.contains(SET_GIL);
    let mut report = BinaryReport {
        module: None,
        is_extension: false,
        alias: false,
        export_role: None,
        format: image.format,
        arch: image.arch,
        init: None,
        gil: None,
        subinterpreters: None,
        set_gil_imported,
        free_threaded_build: free_threaded_from_imports(image),
        generator: None,
        forwards_to: None,
        evidence: Vec::new(),
    };
    let Some(entry) = entry else {
        report.evidence.push("exports no PyInit_ or PyModExport_ function: not an extension module".into());
        return EntryAnalysis { report, code: CodeFacts::default(), def_address: None };
    };
    report.module = Some(entry.module.clone());
    report.is_extension = true;
    report.generator = generator.clone();
    let mut analysis = Analysis::new(image, entry, hint, report.generator.clone());
    analysis.run();
    let undecided = analysis.gil.is_none_or(|g| g == GilVerdict::Undetermined);
    if undecided
        && analysis.def.is_none()
        && let Some(symbol) = forward_target(&analysis.code).map(str::to_string)
    {
        analysis.say(format!(
            "{} only jumps to {symbol}, which a library it links to defines: the module is defined there",
            entry.function
        ));
        report.forwards_to = Some(Forward {
            symbol,
            needed: image.needed.clone(),
            search_paths: image.search_paths.clone(),
            library: None,
            library_module: None,
        });
    } else if undecided
        && analysis.def.is_none()
        && analysis.generator_is(GeneratorKind::Mypyc)
        && let Some((library, symbol)) = mypyc_init_capsule(image, &entry.module)
    {
        analysis.say(format!(
            "mypyc: {} imports `{library}` and runs {symbol}, the function its capsule holds: the module is defined there",
            entry.function
        ));
        report.forwards_to = Some(Forward {
            symbol,
            needed: Vec::new(),
            search_paths: Vec::new(),
            library: None,
            library_module: Some(library),
        });
    }
    report.init = analysis.init;
    report.gil = Some(analysis.gil.unwrap_or(GilVerdict::Undetermined));
    report.subinterpreters = Some(analysis.subinterpreters.unwrap_or(SubinterpreterVerdict::Undetermined));
    report.free_threaded_build = report
        .free_threaded_build
        .or(analysis.abi_free_threaded)
        .or(analysis.def.as_ref().map(|d| d.layout.free_threaded));
    if set_gil_imported {
        report.free_threaded_build = Some(true);
    }
    report.evidence = analysis.evidence;
    let def_address = analysis.def.as_ref().map(|d| d.address);
    EntryAnalysis { report, code: analysis.code, def_address }
}

/// `python313t.dll` / `libpython3.13t` among the linked libraries.
fn free_threaded_from_imports(image: &Image<'_>) -> Option<bool> {
    image.needed.iter().find_map(|lib| {
        let lower = lib.to_ascii_lowercase();
        let stem = lower.strip_prefix("lib").unwrap_or(&lower);
        let stem = stem.strip_prefix("python")?;
        let stem = stem.split(['.', '_']).next()?;
        (stem.len() > 1 && stem.starts_with('3')).then(|| stem.ends_with('t'))
    })
}

struct Analysis<'i, 'a> {
    image: &'i Image<'a>,
    entry: &'i Entry,
    /// What the file name or wheel tag says about the build.
    free_threaded_hint: Option<bool>,
    generator: Option<Generator>,
    code: CodeFacts,
    def: Option<ModuleDef>,
    slots: Option<Vec<Slot>>,
    /// The slot array is zeros that some code the decoder does not follow
    /// fills in: an empty list read from it proves nothing.
    slots_unproven: bool,
    init: Option<Init>,
    gil: Option<GilVerdict>,
    subinterpreters: Option<SubinterpreterVerdict>,
    /// What `Py_mod_abi` says about the build, when the module has one.
    abi_free_threaded: Option<bool>,
    evidence: Vec<String>,
}

impl<'i, 'a> Analysis<'i, 'a> {
    fn new(image: &'i Image<'a>, entry: &'i Entry, hint: BuildHint<'_>, generator: Option<Generator>) -> Self {
        let code = entry_code(image, entry);
        Analysis {
            image,
            entry,
            free_threaded_hint: hint.free_threaded,
            generator,
            code,
            def: None,
            slots: None,
            slots_unproven: false,
            init: None,
            gil: None,
            subinterpreters: None,
            abi_free_threaded: None,
            evidence: Vec::new(),
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.evidence.push(text.into());
    }

    fn run(&mut self) {
        if self.entry.export_hook {
            self.read_export_hook();
        } else {
            self.find_def();
            self.read_slots();
            self.decide_init();
        }
        self.read_abi_info();
        self.decide_gil();
        self.decide_subinterpreters();
    }

    /// Calls made by `PyInit_` to one of `imports`.
    fn init_calls(&self, imports: &[&str]) -> Vec<&CallSite> {
        self.code
            .calls
            .iter()
            .filter(|c| matches!(&c.target, Target::Import(n) if imports.contains(&n.as_str())))
            .collect()
    }

    fn layouts(&self) -> Vec<DefLayout> {
        let ps = self.image.pointer_size;
        match self.free_threaded_hint {
            Some(ft) => vec![DefLayout::new(ps, ft), DefLayout::new(ps, !ft)],
            None => vec![DefLayout::new(ps, false), DefLayout::new(ps, true)],
        }
    }

    fn find_def(&mut self) {
        let passed: Vec<u64> = self
            .init_calls(&[
                "PyModuleDef_Init",
                "PyModule_Create2",
                "PyModule_Create2TraceRefs",
                "PyModule_FromDefAndSpec2",
            ])
            .iter()
            .filter_map(|c| match c.args[0] {
                Value::Address(a) => Some(a),
                _ => None,
            })
            .collect();
        for address in passed {
            for layout in self.layouts() {
                if let Some(def) = moduledef::read_def(self.image, address, layout) {
                    let how = format!("{} passes the PyModuleDef at {:#x}", self.entry.function, def.address);
                    self.say(how);
                    self.def = Some(def);
                    return;
                }
            }
        }
        let mut candidates = moduledef::defs_named(self.image, &self.entry.module);
        if let Some(ft) = self.free_threaded_hint {
            candidates.sort_by_key(|d| d.layout.free_threaded != ft);
        }
        if let Some(def) = candidates.into_iter().next() {
            let how = format!("a PyModuleDef named {:?} at {:#x} (found by its name)", def.name, def.address);
            self.say(how);
            self.def = Some(def);
        }
    }

    fn read_slots(&mut self) {
        let Some(address) = self.def.as_ref().and_then(|d| d.slots_address) else { return };
        let mut memory = Memory::new(self.image, Some(&self.code));
        if !moduledef::empty_in_file(self.image, address) {
            self.slots = moduledef::read_slots(&memory, address);
            let text = match &self.slots {
                Some(slots) => format!("m_slots at {address:#x}: {}", describe_slots(slots)),
                None => format!("m_slots at {address:#x} could not be read as module slots"),
            };
            return self.say(text);
        }
        // Empty in the file: filled in at run time (pybind11 3.x fills a
        // static array on first import). Only what PyInit_ is seen to store
        // counts, every entry up to the terminator; anything less proves
        // nothing missing.
        memory.run_time_only = true;
        self.slots = if memory.has_stores(address, 32 * 16) { moduledef::read_slots(&memory, address) } else { None };
        match &self.slots {
            Some(slots) => {
                let text =
                    format!("m_slots at {address:#x} is filled in by PyInit_ at run time: {}", describe_slots(slots));
                self.say(text);
            }
            None => {
                self.slots = Some(Vec::new());
                self.slots_unproven = true;
                self.say(format!(
                    "m_slots at {address:#x} is all zeros in the file, with no relocation: code ftprobe could not follow fills it in at run time"
                ));
            }
        }
    }

    fn read_export_hook(&mut self) {
        self.init = Some(Init::ExportHook);
        let returned = self.code.returns.iter().find_map(|v| match v {
            Value::Address(a) => Some(*a),
            _ => None,
        });
        let memory = Memory::new(self.image, Some(&self.code));
        self.slots = returned.and_then(|a| moduledef::read_pyslots(&memory, a));
        match (&self.slots, returned) {
            (Some(slots), Some(a)) => {
                let text =
                    format!("{} returns the PySlot array at {a:#x}: {}", self.entry.function, describe_slots(slots));
                self.say(text);
            }
            _ => self.say(format!("{}'s slot array could not be located", self.entry.function)),
        }
    }

    fn decide_init(&mut self) {
        let calls_multi = !self.init_calls(&["PyModuleDef_Init"]).is_empty();
        let calls_single = !self.init_calls(&["PyModule_Create2", "PyModule_Create2TraceRefs"]).is_empty();
        let imports = |name: &str| self.image.imports.contains(name);
        self.init = if calls_multi || self.slots.is_some() {
            Some(Init::MultiPhase)
        } else if calls_single {
            Some(Init::SinglePhase)
        } else if self.generator_is(GeneratorKind::Cffi) {
            // The module object is made inside _cffi_backend with PyModule_Create.
            Some(Init::SinglePhase)
        } else if imports("PyModuleDef_Init") && !imports("PyModule_Create2") {
            Some(Init::MultiPhase)
        } else if imports("PyModule_Create2") && !imports("PyModuleDef_Init") {
            Some(Init::SinglePhase)
        } else {
            None
        };
    }

    fn generator_is(&self, kind: GeneratorKind) -> bool {
        self.generator.as_ref().is_some_and(|g| g.name == kind)
    }

    fn slot(&self, ids: [u32; 2]) -> Option<SlotValue> {
        self.slots.as_ref()?.iter().find(|s| ids.contains(&s.id)).map(|s| s.value)
    }

    /// 3.15's `Py_mod_abi` slot points to a `PyABIInfo` (major 1, minor 0,
    /// u16 flags: GIL = 2, FREETHREADED = 4): which kind of build it is for.
    fn read_abi_info(&mut self) {
        let Some(SlotValue::Pointer(info)) = self.slot([109, 109]) else { return };
        let Some(bytes) = self.image.bytes(info, 4) else { return };
        if bytes[0] != 1 {
            return;
        }
        let flags = u16::from_le_bytes([bytes[2], bytes[3]]);
        let (gil, free_threaded) = (flags & 2 != 0, flags & 4 != 0);
        let (kind, build) = match (gil, free_threaded) {
            (true, true) => ("both kinds of build (free-threading agnostic)", None),
            (false, true) => ("free-threaded builds", Some(true)),
            (true, false) => ("builds with the GIL", Some(false)),
            (false, false) => ("the interpreter's default kind of build", None),
        };
        self.abi_free_threaded = build;
        self.say(format!("Py_mod_abi: a PyABIInfo (flags {flags:#x}) for {kind}"));
    }

    fn decide_gil(&mut self) {
        if self.slots_unproven && !self.image.imports.contains(SET_GIL) {
            return self.gil_is(
                GilVerdict::Undetermined,
                "the slots are set at run time; run `ftprobe import` to see whether the GIL stays off",
            );
        }
        if self.slots.is_some() && !self.slots_unproven {
            match self.slot([4, 87]) {
                Some(SlotValue::Int(1)) => return self.gil_is(GilVerdict::NotUsed, "Py_mod_gil = Py_MOD_GIL_NOT_USED"),
                Some(SlotValue::Int(0)) => return self.gil_is(GilVerdict::Used, "Py_mod_gil = Py_MOD_GIL_USED"),
                Some(_) => return self.gil_is(GilVerdict::Undetermined, "Py_mod_gil has a value that is not 0 or 1"),
                None if !self.image.imports.contains(SET_GIL) => {
                    return self.gil_is(GilVerdict::Used, "no Py_mod_gil slot: CPython re-enables the GIL on import");
                }
                None => {}
            }
        }
        if self.image.imports.contains(SET_GIL) {
            return self.decide_gil_from_calls();
        }
        match (self.init, self.generator.as_ref().map(|g| g.name)) {
            (_, Some(GeneratorKind::Cffi)) => self.gil_is(
                GilVerdict::NotUsed,
                "cffi: _cffi_backend creates the module and declares Py_MOD_GIL_NOT_USED on free-threaded builds (cffi >= 2.0)",
            ),
            (_, Some(GeneratorKind::Nanobind)) if self.def.is_none() => {
                if self.generator.as_ref().is_some_and(|g| g.nanobind_free_threaded) {
                    self.gil_is(GilVerdict::NotUsed, "nanobind built with FREE_THREADED (its ABI tag ends in _ft) declares Py_MOD_GIL_NOT_USED")
                } else {
                    self.gil_is(GilVerdict::Used, "nanobind built without FREE_THREADED (no _ft ABI tag) leaves the GIL on")
                }
            }
            (Some(Init::SinglePhase), _) => self.gil_is(
                GilVerdict::Used,
                "single-phase init without PyUnstable_Module_SetGIL: CPython re-enables the GIL on import",
            ),
            _ => self.gil_is(
                GilVerdict::Undetermined,
                "the module definition is built at run time; run `ftprobe import` to see what it declares",
            ),
        }
    }

    fn gil_is(&mut self, verdict: GilVerdict, why: &str) {
        self.gil = Some(verdict);
        self.say(format!("GIL: {why}"));
    }

    /// Decodes the value passed to every `PyUnstable_Module_SetGIL` call (a
    /// constant, or a byte passed by reference whose constant is found
    /// elsewhere), then PyO3's `gil_used` argument in `PyInit_` (PyO3 0.27).
    fn decide_gil_from_calls(&mut self) {
        let imports = [SET_GIL, CREATE, CREATE_TRACE_REFS];
        let mut sites = code::calls_to(self.image, &imports, None);
        let unknown: Vec<u64> =
            sites.iter().filter(|c| is_set_gil(c) && !matches!(c.args[1], Value::Const(_))).map(|c| c.at).collect();
        // Only then is the call graph needed: read the functions that call
        // SetGIL again, knowing where they begin, so values that come in as
        // arguments show as such.
        let graph = (!unknown.is_empty()).then(|| code::call_graph(self.image));
        if let Some(graph) = &graph {
            let mut functions: Vec<(u64, u64)> = unknown.iter().filter_map(|at| graph.function_of(*at)).collect();
            functions.sort_unstable();
            functions.dedup();
            sites = code::calls_to(self.image, &imports, Some(&functions));
        }
        let mut values = Vec::new();
        let mut through_memory = false;
        for site in sites.iter().filter(|c| is_set_gil(c)) {
            match (site.args[1], &graph) {
                (Value::Const(v), _) => values.push(Some(v)),
                (Value::Flag { source, inverted }, Some(graph)) => {
                    let found = self.flag_bytes(&sites, source, graph);
                    through_memory |= !found.is_empty();
                    if found.is_empty() {
                        values.push(None);
                    }
                    values.extend(found.into_iter().map(|byte| Some(byte ^ u64::from(inverted))));
                }
                _ => values.push(None),
            }
        }
        let how = if through_memory {
            "a byte the caller stores as a constant and passes by reference (PyO3 0.23-0.26's gil_used)"
        } else {
            "a constant"
        };
        if !values.is_empty() && values.iter().all(|v| *v == Some(1)) {
            let why = format!("PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED), the value being {how}");
            return self.gil_is(GilVerdict::NotUsed, &why);
        }
        if !values.is_empty() && values.iter().all(|v| matches!(v, Some(0 | 1))) {
            let why = format!("PyUnstable_Module_SetGIL(module, Py_MOD_GIL_USED), the value being {how}");
            return self.gil_is(GilVerdict::Used, &why);
        }
        if self.generator_is(GeneratorKind::Pyo3)
            && let Some(gil_used) = self.pyo3_gil_used_argument()
        {
            let why = format!(
                "PyO3: PyInit_ passes gil_used = {gil_used} to the module initialiser, which calls PyUnstable_Module_SetGIL"
            );
            let verdict = if gil_used { GilVerdict::Used } else { GilVerdict::NotUsed };
            return self.gil_is(verdict, &why);
        }
        self.gil_is(
            GilVerdict::Undetermined,
            "PyUnstable_Module_SetGIL is called with a value computed at run time; run `ftprobe import` to see it",
        );
    }

    /// The constant bytes behind a flag `PyUnstable_Module_SetGIL` gets.
    /// PyO3 0.23-0.26 pass `gil_used` by reference, so the byte is stored by
    /// another function: the flag is either an argument of the function that
    /// calls `SetGIL` (then its callers pass a stack byte), or a reference a
    /// closure captured (then the function that calls
    /// `PyModule_Create2([env + d] + p)` shows the closure's shape, and the
    /// function that builds it on its stack, with this module's definition
    /// at `d`, shows the byte).
    fn flag_bytes(&self, sites: &[CallSite], source: FlagSource, graph: &CallGraph) -> Vec<u64> {
        let (base, flag_field) = match source {
            FlagSource::Argument { function, index } => {
                let callers = graph.callers_of(function);
                return code::find_flags(self.image, FlagQuery::Argument { function, index }, &callers, graph);
            }
            FlagSource::Field { base, offset } => (base, offset),
        };
        let create = sites.iter().find_map(|c| match (&c.target, c.args[0]) {
            (Target::Import(name), Value::Field { base: b, offset, plus })
                if b == base && (name == CREATE || name == CREATE_TRACE_REFS) =>
            {
                Some((offset, plus))
            }
            _ => None,
        });
        let Some((def_field, def_plus)) = create else { return Vec::new() };
        let shape = CapturedFlag { def_field, def_plus, flag_field };
        // The definition as PyModule_Create2 would get it, read there and
        // named for this module (not compared with the one found by name,
        // whose layout guess may be off when the file name gives no ABI).
        let layouts = self.layouts();
        let module = self.entry.module.as_str();
        let is_def = |address: u64| {
            layouts
                .iter()
                .filter_map(|l| moduledef::read_def(self.image, address, *l))
                .any(|def| def.name == module || def.name.strip_suffix(module).is_some_and(|rest| rest.ends_with('.')))
        };
        // PyO3 builds the closure in PyInit_ or within a few calls of it.
        let near = graph.near(self.entry.address, CLOSURE_DEPTH);
        code::find_flags(self.image, FlagQuery::Closure { shape, is_def: &is_def }, &near, graph)
    }

    /// PyO3 0.23-0.27: `PyInit_x` calls the initialiser with `&_PYO3_DEF` (a
    /// static) and `gil_used` as a constant in the next argument register.
    fn pyo3_gil_used_argument(&self) -> Option<bool> {
        self.code.calls.iter().find_map(|c| match (c.args[1], c.args[2].as_bool()) {
            (Value::Address(a), Some(v)) if !self.image.is_code(a) => Some(v == 1),
            _ => None,
        })
    }

    fn decide_subinterpreters(&mut self) {
        if self.slots_unproven {
            return self.sub_is(
                SubinterpreterVerdict::Undetermined,
                "the slots are set at run time; run `ftprobe import` to test subinterpreters",
            );
        }
        if self.slots.is_some() {
            match self.slot([3, 86]) {
                Some(SlotValue::Int(2)) => {
                    return self.sub_is(
                        SubinterpreterVerdict::PerInterpreterGil,
                        "Py_mod_multiple_interpreters = Py_MOD_PER_INTERPRETER_GIL_SUPPORTED",
                    );
                }
                Some(SlotValue::Int(1)) => {
                    return self.sub_is(
                        SubinterpreterVerdict::SharedGil,
                        "Py_mod_multiple_interpreters = Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED (shared GIL only)",
                    );
                }
                Some(SlotValue::Int(0)) => {
                    return self.sub_is(
                        SubinterpreterVerdict::NotSupported,
                        "Py_mod_multiple_interpreters = Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED",
                    );
                }
                Some(_) => {
                    return self.sub_is(
                        SubinterpreterVerdict::Undetermined,
                        "Py_mod_multiple_interpreters has an unknown value",
                    );
                }
                None if self.generator.as_ref().is_some_and(|g| g.cython_refuses_interpreter_change) => {
                    return self.sub_is(
                        SubinterpreterVerdict::NotSupported,
                        "Cython without module state refuses any second interpreter (\"Interpreter change detected\")",
                    );
                }
                None => {
                    return self.sub_is(
                        SubinterpreterVerdict::SharedGil,
                        "no Py_mod_multiple_interpreters slot: CPython treats it as supported with a shared GIL",
                    );
                }
            }
        }
        match (self.init, self.generator.as_ref().map(|g| g.name)) {
            (Some(Init::SinglePhase), _) => self.sub_is(
                SubinterpreterVerdict::NotSupported,
                "single-phase init: isolated subinterpreters, and all subinterpreters of free-threaded builds, refuse it",
            ),
            (_, Some(GeneratorKind::Nanobind)) => self.sub_is(
                SubinterpreterVerdict::NotSupported,
                "nanobind declares Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED on 3.12+",
            ),
            _ => self.sub_is(
                SubinterpreterVerdict::Undetermined,
                "the module definition is built at run time; run `ftprobe import` to test subinterpreters",
            ),
        }
    }

    fn sub_is(&mut self, verdict: SubinterpreterVerdict, why: &str) {
        self.subinterpreters = Some(verdict);
        self.say(format!("subinterpreters: {why}"));
    }
}

fn is_set_gil(call: &CallSite) -> bool {
    matches!(&call.target, Target::Import(name) if name == SET_GIL)
}

fn describe_slots(slots: &[Slot]) -> String {
    let names: Vec<String> = slots
        .iter()
        .map(|s| {
            let name = match s.id {
                1 | 84 => "create",
                2 | 85 => "exec",
                3 | 86 => "multiple_interpreters",
                4 | 87 => "gil",
                100 => "name",
                101 => "doc",
                102 => "state_size",
                103 => "methods",
                104 => "state_traverse",
                105 => "state_clear",
                106 => "state_free",
                109 => "abi",
                110 => "token",
                _ => "",
            };
            let value = match s.value {
                SlotValue::Int(v) => v.to_string(),
                SlotValue::Pointer(p) => format!("{p:#x}"),
                SlotValue::Unknown => "?".into(),
            };
            if name.is_empty() { format!("{}={value}", s.id) } else { format!("{name}={value}") }
        })
        .collect();
    format!("[{}]", names.join(", "))
}

#[cfg(test)]
mod tests;
