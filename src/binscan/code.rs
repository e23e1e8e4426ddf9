//! Reading machine code just far enough to recover constants: the argument
//! registers at each call (constants, addresses), constant stores to fixed
//! addresses, and returned values. One function is followed linearly, and
//! what is known is forgotten at every branch target, so no value is reported
//! that only one path would give. x86 and AArch64 have their own decoders.

use std::collections::BTreeMap;

use super::image::{Arch, Format, Image};
use super::{arm64, x86};

/// What code left in a register or memory word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Unknown,
    Const(u64),
    /// An address inside the image (from `lea reg, [rip+d]` or an absolute operand).
    Address(u64),
    /// The function an import slot points to, loaded from the slot at this address.
    ImportSlot(u64),
}

/// Where a call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Import(String),
    Local(u64),
    Unknown,
}

/// One call (or tail jump) and the argument registers at that point.
#[derive(Clone, Debug)]
pub struct CallSite {
    pub at: u64,
    pub target: Target,
    /// The first four integer arguments (System V: rdi rsi rdx rcx; Windows x64: rcx rdx r8 r9).
    pub args: [Value; 4],
}

/// Which registers carry arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallingConvention {
    SysV,
    Win64,
    /// 32-bit x86 (Linux and Windows C API): arguments on the stack.
    Cdecl,
}

/// What one stretch of code does that the analysis can use.
#[derive(Debug, Default)]
pub struct CodeFacts {
    pub calls: Vec<CallSite>,
    /// Constant stores to fixed addresses: address → (width in bytes, value).
    /// A word stored twice with different values is `Unknown`.
    pub stores: BTreeMap<u64, (u8, Value)>,
    /// The return register at each `ret`.
    pub returns: Vec<Value>,
}

impl CodeFacts {
    /// Records a store; a word stored twice with different values becomes `Unknown`.
    pub fn record_store(&mut self, address: u64, width: u8, value: Value) {
        let entry = self.stores.entry(address).or_insert((width, value));
        if *entry != (width, value) {
            *entry = (width, Value::Unknown);
        }
    }

    /// The value code stored at `address` with width `size`, if it stored one.
    pub fn stored(&self, address: u64, size: u8) -> Option<Value> {
        self.stores.get(&address).filter(|(w, _)| *w == size).map(|(_, v)| *v)
    }
}

/// The calling convention of `image`'s platform.
pub fn convention(image: &Image<'_>) -> CallingConvention {
    match (image.arch, image.format) {
        (Arch::X86, _) => CallingConvention::Cdecl,
        (_, Format::Pe) => CallingConvention::Win64,
        _ => CallingConvention::SysV,
    }
}

/// Analyses `len` bytes at `start` as one function.
pub fn analyze_function(image: &Image<'_>, start: u64, len: usize) -> CodeFacts {
    match image.arch {
        Arch::X86_64 | Arch::X86 => x86::analyze_function(image, start, len, convention(image)),
        Arch::Aarch64 => arm64::analyze_function(image, start, len),
        _ => CodeFacts::default(),
    }
}

/// Every call to one of `imports` in the executable code, with its arguments.
pub fn calls_to(image: &Image<'_>, imports: &[&str]) -> Vec<CallSite> {
    match image.arch {
        Arch::X86_64 | Arch::X86 => x86::calls_to(image, imports, convention(image)),
        Arch::Aarch64 => arm64::calls_to(image, imports),
        _ => Vec::new(),
    }
}
