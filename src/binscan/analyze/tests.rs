//! Verdicts from hand-made images: a 64-bit ELF whose `PyInit_demo` (or
//! `PyModExport_demo`) is hand-assembled x86-64 and whose `PyModuleDef`
//! and slot arrays are laid out byte by byte. Slot numbers and values:
//! cpython-reference.md, A1 and A2.

use std::collections::BTreeMap;

use super::super::image::{Arch, Export, Format, Segment};
use super::*;

/// Code at 0x1000 (file offset 0), data at 0x2000 (file offset 0x1000).
const CODE: u64 = 0x1000;
const DATA: u64 = 0x2000;
const END: u64 = 0x3000;
/// The exported init function.
const INIT: u64 = 0x1000;
/// A function the slots point to (`Py_mod_exec`).
const EXEC: u64 = 0x1100;
const DEF: u64 = 0x2000;
const SLOTS: u64 = 0x2100;
const ABI_INFO: u64 = 0x2300;
const NAME: u64 = 0x2400;
/// Import slots (GOT entries), not mapped: only their names are looked up.
const GOT_DEF_INIT: u64 = 0x3000;
const GOT_CREATE: u64 = 0x3008;
const GOT_SET_GIL: u64 = 0x3010;

/// `PyInit_demo` of a multi-phase module: `return PyModuleDef_Init(&def);`
#[rustfmt::skip]
const MULTI_PHASE_INIT: [u8; 13] = [
    0x48, 0x8d, 0x3d, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rdi, [rip+0xff9]  (0x1007 + 0xff9 = DEF)
    0xff, 0x25, 0xf3, 0x1f, 0x00, 0x00,       // 1007: jmp [rip+0x1ff3]      (0x100d + 0x1ff3 = GOT_DEF_INIT)
];

/// A word of a slot array: an integer, or a pointer a relocation makes.
#[derive(Clone, Copy)]
enum Word {
    Int(u64),
    To(u64),
}

/// A binary being laid out: its bytes, relocations, imports and exports.
struct Binary {
    file: Vec<u8>,
    pointers: BTreeMap<u64, u64>,
    imports: Vec<(u64, &'static str)>,
    exports: Vec<Export>,
}

impl Binary {
    /// Code filled with `int3`, data with zeros.
    fn new() -> Self {
        let mut file = vec![0xcc; (DATA - CODE) as usize];
        file.resize((END - CODE) as usize, 0);
        Binary { file, pointers: BTreeMap::new(), imports: Vec::new(), exports: Vec::new() }
    }

    fn put(&mut self, address: u64, bytes: &[u8]) {
        let at = (address - CODE) as usize;
        self.file[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// A pointer-sized word: an integer in the file, or a relocation (the
    /// file's word left 0, as LLD leaves it).
    fn word(&mut self, address: u64, word: Word) {
        match word {
            Word::Int(value) => self.put(address, &value.to_le_bytes()),
            Word::To(target) => {
                self.pointers.insert(address, target);
            }
        }
    }

    /// `name` exported at `INIT`, with `code` as its body.
    fn export(&mut self, name: &str, code: &[u8]) {
        self.put(INIT, code);
        self.exports.push(Export { name: name.into(), address: INIT, size: Some(code.len() as u64) });
    }

    fn import(&mut self, slot: u64, name: &'static str) {
        self.imports.push((slot, name));
    }

    /// A static `PyModuleDef` named "demo" at `DEF` in the default 64-bit
    /// layout (A3: `m_name` at 40, `m_size` at 56, `m_slots` at 72), its
    /// `m_slots` pointing to `SLOTS` or NULL.
    fn def(&mut self, slots: bool) {
        self.put(NAME, b"demo\0");
        self.word(DEF + 40, Word::To(NAME));
        self.word(DEF + 56, Word::Int(0));
        self.word(DEF + 72, if slots { Word::To(SLOTS) } else { Word::Int(0) });
    }

    /// A `PyModuleDef_Slot[]` at `SLOTS` (A2: `int slot`, 4 bytes of zero
    /// padding, `void *value`; 16 bytes each), ended by `{0, NULL}`.
    fn slots(&mut self, entries: &[(u32, Word)]) {
        for (address, (id, value)) in (SLOTS..).step_by(16).zip(entries) {
            self.put(address, &id.to_le_bytes());
            self.word(address + 8, *value);
        }
    }

    fn image(&self) -> Image<'_> {
        let mut image = Image::new(Format::Elf, Arch::X86_64, 8, &self.file);
        let split = (DATA - CODE) as usize;
        image.segments = vec![
            Segment { address: CODE, file_range: (0, split), size: DATA - CODE, executable: true },
            Segment { address: DATA, file_range: (split, self.file.len()), size: END - DATA, executable: false },
        ];
        image.pointers = self.pointers.clone();
        for (slot, name) in &self.imports {
            image.import_slots.insert(*slot, (*name).into());
            image.imports.insert((*name).into());
        }
        image.exports = self.exports.clone();
        image
    }

    /// The report on the file `demo.so`: one module.
    fn scan(&self) -> BinaryReport {
        let hint = BuildHint { free_threaded: None, file_module: Some("demo") };
        let mut reports = analyze(&self.image(), hint);
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }
}

/// A multi-phase module whose static slot array holds `Py_mod_exec` and then `entries`.
fn multi_phase(entries: &[(u32, Word)]) -> BinaryReport {
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &MULTI_PHASE_INIT);
    binary.import(GOT_DEF_INIT, "PyModuleDef_Init");
    binary.def(true);
    let mut slots = vec![(2, Word::To(EXEC))];
    slots.extend_from_slice(entries);
    binary.slots(&slots);
    binary.scan()
}

fn said(report: &BinaryReport, line: &str) -> bool {
    report.evidence.iter().any(|l| l == line)
}

#[test]
fn py_mod_gil_not_used_in_the_slots_keeps_the_gil_off() {
    let report = multi_phase(&[(4, Word::Int(1))]);
    assert_eq!(report.module.as_deref(), Some("demo"));
    assert!(report.is_extension && !report.alias);
    assert_eq!(report.init, Some(Init::MultiPhase));
    assert_eq!(report.gil, Some(GilVerdict::NotUsed));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::SharedGil));
    // The definition has the default (GIL) build's header.
    assert_eq!(report.free_threaded_build, Some(false));
    assert!(said(&report, "PyInit_demo passes the PyModuleDef at 0x2000"), "{:?}", report.evidence);
    assert!(said(&report, "m_slots at 0x2100: [exec=0x1100, gil=1]"), "{:?}", report.evidence);
    assert!(said(&report, "GIL: Py_mod_gil = Py_MOD_GIL_NOT_USED"), "{:?}", report.evidence);
}

#[test]
fn py_mod_gil_decides_the_gil_verdict_under_both_numberings() {
    // Py_mod_gil is 4 up to 3.14 and 87 from 3.15 (A1); either may appear in a 3.15 build.
    for gil in [4, 87] {
        for (value, verdict) in [
            (Some(1), GilVerdict::NotUsed),
            (Some(0), GilVerdict::Used),
            (None, GilVerdict::Used),
            (Some(2), GilVerdict::Undetermined),
        ] {
            let slots: Vec<(u32, Word)> = value.map(|v| (gil, Word::Int(v))).into_iter().collect();
            let report = multi_phase(&slots);
            assert_eq!(report.gil, Some(verdict), "slot {gil} = {value:?}: {:?}", report.evidence);
        }
    }
    let missing = multi_phase(&[]);
    assert!(said(&missing, "GIL: no Py_mod_gil slot: CPython re-enables the GIL on import"), "{:?}", missing.evidence);
}

#[test]
fn py_mod_multiple_interpreters_decides_the_subinterpreter_verdict_under_both_numberings() {
    // Py_mod_multiple_interpreters is 3 up to 3.14 and 86 from 3.15 (A1).
    for slot in [3, 86] {
        for (value, verdict) in [
            (Some(2), SubinterpreterVerdict::PerInterpreterGil),
            (Some(1), SubinterpreterVerdict::SharedGil),
            (Some(0), SubinterpreterVerdict::NotSupported),
            // A missing slot counts as supported, with a shared GIL.
            (None, SubinterpreterVerdict::SharedGil),
            (Some(7), SubinterpreterVerdict::Undetermined),
        ] {
            let mut slots: Vec<(u32, Word)> = value.map(|v| (slot, Word::Int(v))).into_iter().collect();
            slots.push((4, Word::Int(1)));
            let report = multi_phase(&slots);
            assert_eq!(report.subinterpreters, Some(verdict), "slot {slot} = {value:?}: {:?}", report.evidence);
            assert_eq!(report.gil, Some(GilVerdict::NotUsed));
        }
    }
}

#[test]
fn an_integer_slot_holding_a_pointer_is_no_module_slot_array() {
    // {4, pointer} is a PyType_Slot (mp_length), not {Py_mod_gil, USED} (E).
    let report = multi_phase(&[(4, Word::To(EXEC))]);
    assert!(said(&report, "m_slots at 0x2100 could not be read as module slots"), "{:?}", report.evidence);
    assert_eq!(report.init, Some(Init::MultiPhase));
    assert_eq!(report.gil, Some(GilVerdict::Undetermined));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::Undetermined));
}

#[test]
fn a_slot_array_of_zeros_that_no_followed_code_fills_is_undetermined() {
    // pybind11 3.x: m_slots points to an array that is all zeros in the file.
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &MULTI_PHASE_INIT);
    binary.import(GOT_DEF_INIT, "PyModuleDef_Init");
    binary.def(true);
    let report = binary.scan();
    assert_eq!(report.init, Some(Init::MultiPhase));
    assert_eq!(report.gil, Some(GilVerdict::Undetermined));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::Undetermined));
    let why = "GIL: the slots are set at run time; run `ftprobe import` to see whether the GIL stays off";
    assert!(said(&report, why), "{:?}", report.evidence);
}

#[test]
fn slots_that_pyinit_stores_at_run_time_are_read() {
    // The same zeros, filled in by PyInit_ before it passes the definition:
    // {Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}.
    #[rustfmt::skip]
    let code = [
        0xc7, 0x05, 0xf6, 0x10, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,       // 1000: mov dword [rip+0x10f6], 4  (0x100a + 0x10f6 = SLOTS)
        0x48, 0xc7, 0x05, 0xf3, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 100a: mov qword [rip+0x10f3], 1  (0x1015 + 0x10f3 = SLOTS + 8)
        0xc7, 0x05, 0xf1, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       // 1015: mov dword [rip+0x10f1], 0  (0x101f + 0x10f1 = SLOTS + 16)
        0x48, 0xc7, 0x05, 0xee, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 101f: mov qword [rip+0x10ee], 0  (0x102a + 0x10ee = SLOTS + 24)
        0x48, 0x8d, 0x3d, 0xcf, 0x0f, 0x00, 0x00,                         // 102a: lea rdi, [rip+0xfcf]       (0x1031 + 0xfcf = DEF)
        0xff, 0x25, 0xc9, 0x1f, 0x00, 0x00,                               // 1031: jmp [rip+0x1fc9]           (0x1037 + 0x1fc9 = GOT_DEF_INIT)
    ];
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &code);
    binary.import(GOT_DEF_INIT, "PyModuleDef_Init");
    binary.def(true);
    let report = binary.scan();
    let filled = "m_slots at 0x2100 is filled in by PyInit_ at run time: [gil=1]";
    assert!(said(&report, filled), "{:?}", report.evidence);
    assert_eq!(report.gil, Some(GilVerdict::NotUsed));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::SharedGil));
}

#[test]
fn a_definition_built_at_run_time_is_undetermined() {
    // PyInit_ tail-calls a function of its own; no PyModuleDef in the data.
    #[rustfmt::skip]
    let code = [
        0xe9, 0xfb, 0x00, 0x00, 0x00, // 1000: jmp 0x1100  (0x1005 + 0xfb = EXEC)
    ];
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &code);
    let report = binary.scan();
    assert!(report.is_extension);
    assert_eq!(report.init, None);
    assert_eq!(report.gil, Some(GilVerdict::Undetermined));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::Undetermined));
    assert_eq!(report.free_threaded_build, None);
    assert!(report.forwards_to.is_none());
}

/// `PyInit_demo` of a single-phase module that then calls
/// `PyUnstable_Module_SetGIL(module, <esi>)`, esi set by `gil_argument`.
fn single_phase_with_set_gil(gil_argument: [u8; 6]) -> BinaryReport {
    #[rustfmt::skip]
    let mut code = [
        0x48, 0x8d, 0x3d, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rdi, [rip+0xff9]  (0x1007 + 0xff9 = DEF)
        0xbe, 0xf5, 0x03, 0x00, 0x00,             // 1007: mov esi, 1013         (PYTHON_API_VERSION)
        0xff, 0x15, 0xf6, 0x1f, 0x00, 0x00,       // 100c: call [rip+0x1ff6]     (0x1012 + 0x1ff6 = GOT_CREATE)
        0x48, 0x89, 0xc7,                         // 1012: mov rdi, rax
        0, 0, 0, 0, 0, 0,                         // 1015: gil_argument (6 bytes)
        0xff, 0x15, 0xef, 0x1f, 0x00, 0x00,       // 101b: call [rip+0x1fef]     (0x1021 + 0x1fef = GOT_SET_GIL)
        0xc3,                                     // 1021: ret
    ];
    code[0x15..0x1b].copy_from_slice(&gil_argument);
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &code);
    binary.import(GOT_CREATE, "PyModule_Create2");
    binary.import(GOT_SET_GIL, "PyUnstable_Module_SetGIL");
    binary.def(false);
    binary.scan()
}

#[test]
fn a_single_phase_module_declares_the_gil_with_pyunstable_module_setgil() {
    #[rustfmt::skip]
    let cases = [
        ([0xbe, 0x01, 0x00, 0x00, 0x00, 0x90], GilVerdict::NotUsed),      // mov esi, 1; nop
        ([0xbe, 0x00, 0x00, 0x00, 0x00, 0x90], GilVerdict::Used),         // mov esi, 0; nop
        ([0x8b, 0x35, 0xe5, 0x11, 0x00, 0x00], GilVerdict::Undetermined), // mov esi, [rip+0x11e5]  (0x101b + 0x11e5 = 0x2200, a variable)
    ];
    for (gil_argument, verdict) in cases {
        let report = single_phase_with_set_gil(gil_argument);
        assert_eq!(report.init, Some(Init::SinglePhase));
        assert_eq!(report.gil, Some(verdict), "{:?}", report.evidence);
        // Single-phase modules load in no subinterpreter of a free-threaded build.
        assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::NotSupported));
        // Only free-threaded builds can import SetGIL.
        assert!(report.set_gil_imported);
        assert_eq!(report.free_threaded_build, Some(true));
    }
    let not_used = single_phase_with_set_gil(cases[0].0);
    let why = "GIL: PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED), the value being a constant";
    assert!(said(&not_used, why), "{:?}", not_used.evidence);
}

#[test]
fn a_single_phase_module_without_setgil_uses_the_gil() {
    #[rustfmt::skip]
    let code = [
        0x48, 0x8d, 0x3d, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rdi, [rip+0xff9]  (0x1007 + 0xff9 = DEF)
        0xbe, 0xf5, 0x03, 0x00, 0x00,             // 1007: mov esi, 1013
        0xff, 0x25, 0xf6, 0x1f, 0x00, 0x00,       // 100c: jmp [rip+0x1ff6]      (0x1012 + 0x1ff6 = GOT_CREATE)
    ];
    let mut binary = Binary::new();
    binary.export("PyInit_demo", &code);
    binary.import(GOT_CREATE, "PyModule_Create2");
    binary.def(false);
    let report = binary.scan();
    assert_eq!(report.init, Some(Init::SinglePhase));
    assert_eq!(report.gil, Some(GilVerdict::Used));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::NotSupported));
    assert!(!report.set_gil_imported);
}

#[test]
fn a_315_export_hook_returns_pyslots_with_the_abi_and_the_gil() {
    #[rustfmt::skip]
    let code = [
        0x48, 0x8d, 0x05, 0xf9, 0x10, 0x00, 0x00, // 1000: lea rax, [rip+0x10f9]  (0x1007 + 0x10f9 = SLOTS)
        0xc3,                                     // 1007: ret
    ];
    let mut binary = Binary::new();
    binary.export("PyModExport_demo", &code);
    // PySlot (A2): u16 id, u16 flags, u32 reserved, 8-byte value.
    binary.put(SLOTS, &109u16.to_le_bytes()); // Py_mod_abi
    binary.word(SLOTS + 8, Word::To(ABI_INFO));
    binary.put(SLOTS + 16, &87u16.to_le_bytes()); // Py_mod_gil
    binary.put(SLOTS + 18, &4u16.to_le_bytes()); // PySlot_INTPTR
    binary.word(SLOTS + 24, Word::Int(1)); // Py_MOD_GIL_NOT_USED
    // PyABIInfo: major 1, minor 0, flags FREETHREADED (4), build and ABI versions.
    binary.put(ABI_INFO, &[1, 0, 4, 0, 0, 0, 0x0f, 0x03, 0, 0, 0x0f, 0x03]);
    let report = binary.scan();
    assert_eq!(report.init, Some(Init::ExportHook));
    assert_eq!(report.gil, Some(GilVerdict::NotUsed));
    assert_eq!(report.subinterpreters, Some(SubinterpreterVerdict::SharedGil));
    assert_eq!(report.free_threaded_build, Some(true));
    let returns = "PyModExport_demo returns the PySlot array at 0x2100: [abi=0x2300, gil=1]";
    assert!(said(&report, returns), "{:?}", report.evidence);
}

#[test]
fn a_library_without_an_init_function_is_no_extension() {
    let mut binary = Binary::new();
    binary.def(true);
    binary.slots(&[(4, Word::Int(1))]);
    let report = binary.scan();
    assert!(!report.is_extension);
    assert_eq!(report.module, None);
    assert_eq!((report.gil, report.subinterpreters, report.init), (None, None, None));
}
