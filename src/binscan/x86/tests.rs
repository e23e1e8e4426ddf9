//! The x86 decoder on hand-assembled code: what it reports of calls, tail
//! calls, constant stores and returned values. Each byte sequence is
//! written from the Intel encoding, one instruction a line, its address and
//! assembly beside it (kept so by `rustfmt::skip`).

use std::collections::BTreeMap;

use super::super::image::{Format, Segment};
use super::*;

/// Where the code below is mapped.
const CODE: u64 = 0x1000;
/// `jmp [rip + GOT_INIT]`: the PLT entry of `PyModuleDef_Init`.
const STUB: u64 = 0x1100;
/// A local function (its bytes are `int3`).
const LOCAL: u64 = 0x1180;
/// Import slots (GOT entries), not mapped: only their names are looked up.
const GOT_INIT: u64 = 0x3000;
const GOT_SET_GIL: u64 = 0x3008;

/// `code` at `CODE`, in 0x200 bytes of `int3`, with the PLT stub at `STUB`.
fn text(code: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xcc; 0x200];
    bytes[..code.len()].copy_from_slice(code);
    #[rustfmt::skip]
    let stub = [
        0xf3, 0x0f, 0x1e, 0xfa,             // 1100: endbr64
        0xff, 0x25, 0xf6, 0x1e, 0x00, 0x00, // 1104: jmp [rip+0x1ef6]    (0x110a + 0x1ef6 = GOT_INIT)
    ];
    let at = (STUB - CODE) as usize;
    bytes[at..at + stub.len()].copy_from_slice(&stub);
    bytes
}

/// An image whose only segment is `bytes`, executable, at `CODE`.
fn image(format: Format, arch: Arch, bytes: &[u8]) -> Image<'_> {
    let pointer_size = if arch == Arch::X86 { 4 } else { 8 };
    let mut image = Image::new(format, arch, pointer_size, bytes);
    let segment = Segment { address: CODE, file_range: (0, bytes.len()), size: bytes.len() as u64, executable: true };
    image.segments.push(segment);
    image
}

/// A 64-bit ELF image of `bytes` with its two import slots.
fn elf(bytes: &[u8]) -> Image<'_> {
    let mut image = image(Format::Elf, Arch::X86_64, bytes);
    image.import_slots.insert(GOT_INIT, "PyModuleDef_Init".into());
    image.import_slots.insert(GOT_SET_GIL, "PyUnstable_Module_SetGIL".into());
    image
}

/// The facts of `code` as one function at `CODE`, under System V.
fn facts(code: &[u8]) -> CodeFacts {
    let bytes = text(code);
    analyze_function(&elf(&bytes), CODE, code.len(), CallingConvention::SysV)
}

fn import(name: &str) -> Target {
    Target::Import(name.into())
}

#[test]
fn a_call_gets_the_constants_and_addresses_in_its_argument_registers() {
    #[rustfmt::skip]
    let code = [
        0xbf, 0x07, 0x00, 0x00, 0x00,             // 1000: mov edi, 7
        0x48, 0x8d, 0x35, 0xf4, 0x0f, 0x00, 0x00, // 1005: lea rsi, [rip+0xff4]   (0x100c + 0xff4 = 0x2000)
        0xb2, 0x01,                               // 100c: mov dl, 1
        0xe8, 0xed, 0x00, 0x00, 0x00,             // 100e: call 0x1100            (0x1013 + 0xed: the stub)
        0xe8, 0x68, 0x01, 0x00, 0x00,             // 1013: call 0x1180            (0x1018 + 0x168: a local function)
        0xc3,                                     // 1018: ret
    ];
    let facts = facts(&code);
    assert_eq!(facts.calls.len(), 2);
    let (first, second) = (&facts.calls[0], &facts.calls[1]);
    assert_eq!(first.at, 0x100e);
    // The stub's `endbr64; jmp [rip+slot]` resolves to the slot's import.
    assert_eq!(first.target, import("PyModuleDef_Init"));
    // A byte register written alone is known by its low byte only.
    assert_eq!(first.args, [Value::Const(7), Value::Address(0x2000), Value::LowByte(1), Value::Unknown]);
    assert_eq!(second.at, 0x1013);
    assert_eq!(second.target, Target::Local(LOCAL));
    // rdi, rsi and rdx do not survive a call under System V.
    assert_eq!(second.args, [Value::Unknown; 4]);
    assert_eq!(facts.returns, vec![Value::Unknown]);
    assert!(facts.stores.is_empty());
}

#[test]
fn constant_stores_to_fixed_addresses_are_recorded_with_their_width() {
    // A slot array filled in at run time: {Py_mod_gil, 1}, then a pointer
    // in the next entry's value.
    #[rustfmt::skip]
    let code = [
        0xc7, 0x05, 0xf6, 0x0f, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,       // 1000: mov dword [rip+0xff6], 4  (0x100a + 0xff6 = 0x2000)
        0x48, 0xc7, 0x05, 0xf3, 0x0f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 100a: mov qword [rip+0xff3], 1  (0x1015 + 0xff3 = 0x2008)
        0x48, 0x8d, 0x05, 0xe4, 0x00, 0x00, 0x00,                         // 1015: lea rax, [rip+0xe4]       (0x101c + 0xe4 = 0x1100)
        0x48, 0x89, 0x05, 0xf5, 0x0f, 0x00, 0x00,                         // 101c: mov [rip+0xff5], rax      (0x1023 + 0xff5 = 0x2018)
        0x48, 0x89, 0x48, 0x08,                                           // 1023: mov [rax+8], rcx          (no fixed address)
        0x48, 0xc7, 0x44, 0x24, 0xf8, 0x01, 0x00, 0x00, 0x00,             // 1027: mov qword [rsp-8], 1      (the stack)
        0xc3,                                                             // 1030: ret
    ];
    let facts = facts(&code);
    let expected = BTreeMap::from([
        (0x2000, (4, Value::Const(4))),
        (0x2008, (8, Value::Const(1))),
        (0x2018, (8, Value::Address(0x1100))),
    ]);
    assert_eq!(facts.stores, expected);
    assert_eq!(facts.stored(0x2008, 8), Some(Value::Const(1)));
    // Read with another width, the word was not stored.
    assert_eq!(facts.stored(0x2008, 4), None);
    // rax still holds the address it was loaded with.
    assert_eq!(facts.returns, vec![Value::Address(0x1100)]);
    assert!(facts.calls.is_empty());
}

#[test]
fn a_word_stored_twice_with_different_values_is_unknown() {
    #[rustfmt::skip]
    let code = [
        0xc7, 0x05, 0xf6, 0x0f, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, // 1000: mov dword [rip+0xff6], 4   (0x100a + 0xff6 = 0x2000)
        0xc7, 0x05, 0xec, 0x0f, 0x00, 0x00, 0x57, 0x00, 0x00, 0x00, // 100a: mov dword [rip+0xfec], 87  (0x1014 + 0xfec = 0x2000)
        0xc3,                                                       // 1014: ret
    ];
    assert_eq!(facts(&code).stored(0x2000, 4), Some(Value::Unknown));
}

#[test]
fn a_jump_out_of_the_function_is_a_tail_call_with_its_arguments() {
    #[rustfmt::skip]
    let direct = [
        0x48, 0x8d, 0x3d, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rdi, [rip+0xff9]  (0x1007 + 0xff9 = 0x2000)
        0xe9, 0xf4, 0x00, 0x00, 0x00,             // 1007: jmp 0x1100            (0x100c + 0xf4: the stub)
    ];
    let tail = facts(&direct);
    assert_eq!(tail.calls.len(), 1);
    assert_eq!(tail.calls[0].at, 0x1007);
    assert_eq!(tail.calls[0].target, import("PyModuleDef_Init"));
    assert_eq!(tail.calls[0].args[0], Value::Address(0x2000));
    // A tail call is no return.
    assert!(tail.returns.is_empty());

    #[rustfmt::skip]
    let through_slot = [
        0x48, 0x8d, 0x3d, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rdi, [rip+0xff9]  (0x1007 + 0xff9 = 0x2000)
        0xff, 0x25, 0xf3, 0x1f, 0x00, 0x00,       // 1007: jmp [rip+0x1ff3]      (0x100d + 0x1ff3 = GOT_INIT)
    ];
    let tail = facts(&through_slot);
    assert_eq!(tail.calls.len(), 1);
    assert_eq!(tail.calls[0].at, 0x1007);
    assert_eq!(tail.calls[0].target, import("PyModuleDef_Init"));
    assert_eq!(tail.calls[0].args[0], Value::Address(0x2000));
}

#[test]
fn a_jump_inside_the_function_is_no_call_and_keeps_the_registers() {
    #[rustfmt::skip]
    let code = [
        0xbf, 0x07, 0x00, 0x00, 0x00, // 1000: mov edi, 7
        0xeb, 0x01,                   // 1005: jmp 0x1008    (0x1007 + 1)
        0xcc,                         // 1007: int3          (never reached)
        0xe8, 0xf3, 0x00, 0x00, 0x00, // 1008: call 0x1100   (0x100d + 0xf3: the stub)
        0xc3,                         // 100d: ret
    ];
    let facts = facts(&code);
    assert_eq!(facts.calls.len(), 1);
    assert_eq!(facts.calls[0].at, 0x1008);
    assert_eq!(facts.calls[0].args[0], Value::Const(7));
}

#[test]
fn where_two_paths_meet_only_the_value_both_give_is_known() {
    // esi = edi == 0 ? right : 1; then a call.
    #[rustfmt::skip]
    let code = |right: u8| [
        0x85, 0xff,                    // 1000: test edi, edi
        0x74, 0x07,                    // 1002: je 0x100b      (0x1004 + 7)
        0xbe, 0x01, 0x00, 0x00, 0x00,  // 1004: mov esi, 1
        0xeb, 0x05,                    // 1009: jmp 0x1010     (0x100b + 5)
        0xbe, right, 0x00, 0x00, 0x00, // 100b: mov esi, right
        0xe8, 0xeb, 0x00, 0x00, 0x00,  // 1010: call 0x1100    (0x1015 + 0xeb: the stub)
        0xc3,                          // 1015: ret
    ];
    let agree = facts(&code(1));
    assert_eq!(agree.calls.len(), 1);
    assert_eq!(agree.calls[0].args[1], Value::Const(1));
    let differ = facts(&code(2));
    assert_eq!(differ.calls.len(), 1);
    assert_eq!(differ.calls[0].args[1], Value::Unknown);
}

#[test]
fn a_return_gives_what_rax_holds() {
    // PyModExport_'s usual body: return the slot array.
    #[rustfmt::skip]
    let slots = [
        0x48, 0x8d, 0x05, 0xf9, 0x0f, 0x00, 0x00, // 1000: lea rax, [rip+0xff9]  (0x1007 + 0xff9 = 0x2000)
        0xc3,                                     // 1007: ret
    ];
    assert_eq!(facts(&slots).returns, vec![Value::Address(0x2000)]);
    #[rustfmt::skip]
    let zero = [
        0x31, 0xc0, // 1000: xor eax, eax
        0xc3,       // 1002: ret
    ];
    assert_eq!(facts(&zero).returns, vec![Value::Const(0)]);
}

#[test]
fn a_sweep_starts_afresh_after_each_return_unless_it_knows_the_functions() {
    #[rustfmt::skip]
    let code = [
        0xbe, 0x01, 0x00, 0x00, 0x00,       // 1000: mov esi, 1
        0xff, 0x15, 0xfd, 0x1f, 0x00, 0x00, // 1005: call [rip+0x1ffd]  (0x100b + 0x1ffd = GOT_SET_GIL)
        0xbe, 0x01, 0x00, 0x00, 0x00,       // 100b: mov esi, 1
        0xc3,                               // 1010: ret
        0xff, 0x15, 0xf1, 0x1f, 0x00, 0x00, // 1011: call [rip+0x1ff1]  (0x1017 + 0x1ff1 = GOT_SET_GIL)
        0xc3,                               // 1017: ret
    ];
    let bytes = text(&code);
    let image = elf(&bytes);
    let sweep_calls = |functions: Option<&[(u64, u64)]>| {
        let mut calls = Vec::new();
        sweep(&image, CallingConvention::SysV, functions, &mut |call| calls.push(call.clone()), None);
        calls
    };

    let calls = sweep_calls(None);
    // Both calls, and no jump: the stub's `jmp [rip+slot]` is not counted.
    assert_eq!(calls.iter().map(|c| c.at).collect::<Vec<_>>(), vec![0x1005, 0x1011]);
    assert!(calls.iter().all(|c| c.target == import("PyUnstable_Module_SetGIL")));
    assert_eq!(calls[0].args[1], Value::Const(1));
    // The `ret` at 0x1010 ended a function: the next one's esi is not the 1 before it.
    assert_eq!(calls[1].args[1], Value::Unknown);

    // Within known bounds, the argument registers start as the function's parameters.
    let calls = sweep_calls(Some(&[(0x1011, 0x1018)]));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].args[0], Value::Param { function: 0x1011, index: 0 });
    assert_eq!(calls[0].args[1], Value::Param { function: 0x1011, index: 1 });
}

#[test]
fn cdecl_arguments_are_the_pushes_and_absolute_operands_lose_the_image_base() {
    // A 32-bit PE, its image base 0x10000000; addresses are RVAs.
    #[rustfmt::skip]
    let code = [
        0xc7, 0x05, 0x00, 0x20, 0x00, 0x10, 0x04, 0x00, 0x00, 0x00, // 1000: mov dword [0x10002000], 4
        0x6a, 0x01,                                                 // 100a: push 1
        0x68, 0x00, 0x20, 0x00, 0x10,                               // 100c: push 0x10002000
        0xff, 0x15, 0x00, 0x30, 0x00, 0x10,                         // 1011: call [0x10003000]
        0x83, 0xc4, 0x08,                                           // 1017: add esp, 8
        0xc3,                                                       // 101a: ret
    ];
    let bytes = text(&code);
    let mut pe = image(Format::Pe, Arch::X86, &bytes);
    pe.absolute_base = 0x1000_0000;
    pe.import_slots.insert(0x3000, "PyModule_Create2".into());
    let facts = analyze_function(&pe, CODE, code.len(), CallingConvention::Cdecl);
    assert_eq!(facts.calls.len(), 1);
    assert_eq!(facts.calls[0].at, 0x1011);
    assert_eq!(facts.calls[0].target, import("PyModule_Create2"));
    // The first argument is pushed last; a pushed immediate stays a constant.
    assert_eq!(facts.calls[0].args, [Value::Const(0x1000_2000), Value::Const(1), Value::Unknown, Value::Unknown]);
    assert_eq!(facts.stores, BTreeMap::from([(0x2000, (4, Value::Const(4)))]));
}
