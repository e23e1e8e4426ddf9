//! AArch64: the few instructions that carry constants to calls and stores
//! (MOVZ, MOV, ADRP + ADD/SUB, loads and stores with an immediate offset,
//! single and paired, MVN/AND/EOR #1 on flags, BL, B, BR, BLR, RET). Any
//! other instruction is assumed to overwrite its destination register, which
//! can only lose knowledge, never invent it.

use super::block_memory::{BlockMemory, VECTOR_BYTES};
use super::code::{CallSite, CodeFacts, FlagSearch, FunctionState, Sweeping, Target, Value, sweep_blocks};
use super::flow::{self, Continues, Step};
use super::image::Image;

/// Register 31: the zero register as an operand, the stack pointer as a base.
const ZR: usize = 31;
const SP: usize = 31;
const FP: usize = 29;

fn sign_extend(value: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

fn rd(insn: u32) -> usize {
    (insn & 0x1f) as usize
}

fn rn(insn: u32) -> usize {
    ((insn >> 5) & 0x1f) as usize
}

fn rm(insn: u32) -> usize {
    ((insn >> 16) & 0x1f) as usize
}

/// A direct branch target (`B` / `BL`).
fn branch_target(insn: u32, pc: u64) -> u64 {
    pc.wrapping_add_signed(sign_extend(u64::from(insn & 0x03ff_ffff), 26) * 4)
}

fn is_bl(insn: u32) -> bool {
    insn & 0xfc00_0000 == 0x9400_0000
}

fn is_b(insn: u32) -> bool {
    insn & 0xfc00_0000 == 0x1400_0000
}

fn is_conditional_branch(insn: u32) -> bool {
    insn & 0xff00_0010 == 0x5400_0000 || insn & 0x7e00_0000 == 0x3400_0000 || insn & 0x7e00_0000 == 0x3600_0000
}

fn conditional_target(insn: u32, pc: u64) -> u64 {
    if insn & 0x7e00_0000 == 0x3600_0000 {
        pc.wrapping_add_signed(sign_extend(u64::from((insn >> 5) & 0x3fff), 14) * 4)
    } else {
        pc.wrapping_add_signed(sign_extend(u64::from((insn >> 5) & 0x7_ffff), 19) * 4)
    }
}

fn words(code: &[u8]) -> impl Iterator<Item = u32> + '_ {
    code.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap()))
}

/// One load or store with an immediate offset (single register or pair).
struct Access {
    load: bool,
    /// A SIMD/FP register, which the tracker does not follow.
    vector: bool,
    /// Zero-extending load (or a store): not LDRSB/LDRSW and the like.
    unsigned: bool,
    rt: usize,
    rt2: Option<usize>,
    base: usize,
    /// Bytes per register.
    width: u8,
    /// Offset of the access from the base register's value before the instruction.
    offset: i64,
    /// What the base register gains afterwards (pre- and post-indexed forms).
    writeback: i64,
}

/// Decodes the immediate-offset load and store forms.
fn decode_access(insn: u32) -> Option<Access> {
    let rt = rd(insn);
    let base = rn(insn);
    let vector = insn & (1 << 26) != 0;
    if insn & 0x3a00_0000 == 0x2800_0000 {
        // LDP/STP: opc 31:30, V 26, mode 24:23, L 22, imm7 21:15, Rt2 14:10.
        let opc = insn >> 30;
        let width: u8 = match (vector, opc) {
            (false, 0) | (true, 0) => 4,
            (false, 2) | (true, 1) => 8,
            (true, 2) => 16,
            _ => return None,
        };
        let imm = sign_extend(u64::from((insn >> 15) & 0x7f), 7) * i64::from(width);
        let (offset, writeback) = match (insn >> 23) & 3 {
            1 => (0, imm),
            3 => (imm, imm),
            _ => (imm, 0),
        };
        let rt2 = Some(((insn >> 10) & 0x1f) as usize);
        let load = insn & (1 << 22) != 0;
        return Some(Access { load, vector, unsigned: true, rt, rt2, base, width, offset, writeback });
    }
    let size = insn >> 30;
    let opc = (insn >> 22) & 3;
    let quad = vector && size == 0 && opc & 2 != 0;
    let width: u8 = if quad { 16 } else { 1 << size };
    // A 128-bit Q register access is STR with opc 10 and LDR with opc 11.
    let load = if quad { opc & 1 != 0 } else { opc != 0 };
    let unsigned = vector || opc < 2;
    if insn & 0x3b00_0000 == 0x3900_0000 {
        // LDR/STR (unsigned immediate, scaled).
        let offset = i64::from((insn >> 10) & 0xfff) * i64::from(width);
        return Some(Access { load, vector, unsigned, rt, rt2: None, base, width, offset, writeback: 0 });
    }
    if insn & 0x3b20_0000 == 0x3800_0000 {
        // LDUR/STUR and the pre-/post-indexed forms (imm9, unscaled).
        let imm = sign_extend(u64::from((insn >> 12) & 0x1ff), 9);
        let (offset, writeback) = match (insn >> 10) & 3 {
            0 | 2 => (imm, 0),
            1 => (0, imm),
            _ => (imm, imm),
        };
        return Some(Access { load, vector, unsigned, rt, rt2: None, base, width, offset, writeback });
    }
    None
}

struct Tracker<'i, 'a> {
    image: &'i Image<'a>,
    registers: [Value; 32],
    /// The stack pointer, which register 31 means as a base or in ADD/SUB.
    sp: Value,
    /// Stack stores and calls of the function, for a flag search.
    function: FunctionState,
    /// The stack and frame pointers of the function body (after its prologue).
    frame: Option<(Value, Value)>,
    /// The registers at the function's first branch: parameters the entry
    /// block kept in callee-saved registers, assumed to stay there.
    at_first_branch: Option<[Value; 32]>,
    /// The current block's stack stores and vector registers.
    memory: BlockMemory,
    facts: CodeFacts,
}

impl<'i, 'a> Tracker<'i, 'a> {
    fn new(image: &'i Image<'a>) -> Self {
        Tracker {
            image,
            registers: [Value::Unknown; 32],
            sp: Value::Stack(0),
            function: FunctionState::default(),
            frame: None,
            at_first_branch: None,
            memory: BlockMemory::default(),
            facts: CodeFacts::default(),
        }
    }

    /// The registers and, last, the stack pointer, as a block starts or ends.
    fn state(&self) -> flow::Registers<33> {
        flow::Registers(std::array::from_fn(|i| if i == 32 { self.sp } else { self.registers[i] }))
    }

    /// Runs one block entered with `state`; gives the registers it passes
    /// on (those before its closing jump, which `step` forgets).
    fn run_block(
        &mut self,
        state: &flow::Registers<33>,
        instructions: &[(u64, u32)],
        function: &std::ops::Range<u64>,
    ) -> flow::Registers<33> {
        self.registers = std::array::from_fn(|i| state.0[i]);
        self.sp = state.0[32];
        self.memory.clear();
        let mut out = self.state();
        for &(pc, insn) in instructions {
            out = self.state();
            self.step(insn, pc, function.clone());
        }
        let jumps = instructions.last().is_some_and(|&(_, insn)| is_b(insn));
        if jumps { out } else { self.state() }
    }

    /// Forgets what registers hold, except a stack address in the frame pointer.
    fn forget(&mut self) {
        let before = self.registers;
        self.registers = [Value::Unknown; 32];
        if before[FP].is_stack() {
            self.registers[FP] = before[FP];
        }
        if let Some(entry) = self.at_first_branch.filter(|_| self.function.bounded) {
            // x19-x28 are callee-saved.
            let kept = self.registers.iter_mut().zip(entry).skip(19).take(10);
            for (register, value) in kept.filter(|(_, v)| matches!(v, Value::Param { .. })) {
                *register = value;
            }
        }
    }

    /// Notes the deepest stack pointer (and the frame pointer set there): the body's frame.
    fn note_frame(&mut self) {
        let Value::Stack(sp) = self.sp else { return };
        match self.frame {
            Some((Value::Stack(deepest), _)) if deepest < sp => {}
            Some((Value::Stack(deepest), _)) if deepest == sp && !self.registers[FP].is_stack() => {}
            _ => self.frame = Some((self.sp, self.registers[FP])),
        }
    }

    /// A function begins at `address`: x0-x3 hold its parameters.
    fn enter_function(&mut self, address: u64) {
        for index in 0..4u8 {
            self.registers[usize::from(index)] = Value::Param { function: address, index };
        }
    }

    fn get(&self, register: usize) -> Value {
        if register == ZR { Value::Const(0) } else { self.registers[register] }
    }

    fn set(&mut self, register: usize, value: Value) {
        if register != ZR {
            self.registers[register] = value;
        }
    }

    /// A register as a base address or ADD/SUB operand (31 is the stack pointer).
    fn base(&self, register: usize) -> Value {
        if register == SP { self.sp } else { self.registers[register] }
    }

    fn set_base(&mut self, register: usize, value: Value) {
        if register == SP { self.sp = value } else { self.registers[register] = value }
    }

    fn args(&self) -> [Value; 4] {
        [self.get(0), self.get(1), self.get(2), self.get(3)]
    }

    /// A call target: an import stub (Mach-O `__stubs` entry, or an ELF PLT
    /// entry `adrp x16, slot@page; ldr x17, [x16, #off]`), or local code.
    fn target(&self, address: u64) -> Target {
        if let Some(name) = self.image.import_slots.get(&address) {
            return Target::Import(name.clone());
        }
        if let Some(code) = self.image.bytes(address, 8) {
            let mut w = words(code);
            if let (Some(adrp), Some(ldr)) = (w.next(), w.next())
                && adrp & 0x9f00_0000 == 0x9000_0000
                && ldr & 0xffc0_0000 == 0xf940_0000
            {
                let page = adrp_target(adrp, address);
                let slot = page + u64::from((ldr >> 10) & 0xfff) * 8;
                if let Some(name) = self.image.import_slots.get(&slot) {
                    return Target::Import(name.clone());
                }
            }
        }
        Target::Local(address)
    }

    /// The import a register-indirect call reaches, when the register was
    /// loaded from an import slot (`adrp; ldr xN, [xN, #slot]; blr xN`, as
    /// MSVC emits on Windows ARM64).
    fn register_target(&self, register: usize) -> Target {
        match self.get(register) {
            Value::ImportSlot(slot) => {
                self.image.import_slots.get(&slot).map_or(Target::Unknown, |n| Target::Import(n.clone()))
            }
            _ => Target::Unknown,
        }
    }

    fn clobber_caller_saved(&mut self) {
        for r in 0..=18 {
            self.registers[r] = Value::Unknown;
        }
        self.memory.clear();
    }

    /// Follows one instruction; true when it ends a function (RET, BRK).
    fn step(&mut self, insn: u32, pc: u64, function: std::ops::Range<u64>) -> bool {
        if is_bl(insn) {
            let target = self.target(branch_target(insn, pc));
            self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
            self.clobber_caller_saved();
        } else if is_conditional_branch(insn) {
            // B.cond, CBZ/CBNZ, TBZ/TBNZ write no register.
        } else if is_b(insn) {
            let to = branch_target(insn, pc);
            if !function.contains(&to) {
                let target = self.target(to);
                self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
            }
            self.forget();
        } else if insn & 0xffff_fc1f == 0xd63f_0000 {
            // BLR
            let target = self.register_target(rn(insn));
            self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
            self.clobber_caller_saved();
        } else if insn & 0xffff_fc1f == 0xd65f_0000 {
            // RET
            self.facts.returns.push(self.get(0));
            self.forget();
            return true;
        } else if insn & 0xffe0_001f == 0xd420_0000 {
            // BRK
            self.forget();
            return true;
        } else if insn & 0xffff_fc1f == 0xd61f_0000 {
            // BR: a tail call through a register.
            let target = self.register_target(rn(insn));
            if matches!(target, Target::Import(_)) {
                self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
            }
            self.forget();
        } else {
            self.data_step(insn, pc);
        }
        false
    }

    fn access(&mut self, access: &Access, pc: u64) {
        let address = self.base(access.base).plus(access.offset);
        let registers = [Some(access.rt), access.rt2];
        for (index, register) in registers.into_iter().enumerate() {
            let Some(register) = register else { continue };
            let at = address.plus(index as i64 * i64::from(access.width));
            let on_stack = match at {
                Value::Stack(offset) => Some(offset),
                _ => None,
            };
            if access.load && access.vector {
                let whole = on_stack.filter(|_| access.width == VECTOR_BYTES);
                self.memory.load_vector(register, whole);
            } else if access.load {
                let value = self.loaded(access, at, index as i64, pc);
                self.set(register, value);
            } else if access.vector {
                match at {
                    Value::Stack(offset) => {
                        self.function.store(offset, access.width, Value::Unknown);
                        self.memory.store_vector(offset, access.width, register);
                    }
                    Value::Address(fixed) => {
                        self.memory.record_vector_store(&mut self.facts, fixed, access.width, register);
                    }
                    _ => self.memory.forget_stack(),
                }
            } else {
                let value = self.get(register);
                match at {
                    Value::Stack(offset) => {
                        self.function.store(offset, access.width, value);
                        self.memory.store(offset, access.width, value);
                    }
                    Value::Address(fixed) if matches!(access.width, 4 | 8) => {
                        self.facts.record_store(fixed, access.width, value);
                    }
                    Value::Address(_) => {}
                    _ => self.memory.forget_stack(),
                }
            }
        }
        if access.writeback != 0 {
            let moved = self.base(access.base).plus(access.writeback);
            self.set_base(access.base, moved);
        }
    }

    /// What the `index`th register of a general load from `at` gets. An
    /// opaque result is named by `pc` (plus `index`, for the second of a pair).
    fn loaded(&self, access: &Access, at: Value, index: i64, pc: u64) -> Value {
        let displacement = access.offset + index * i64::from(access.width);
        match (at, access.width) {
            (Value::Address(slot), 8) if self.image.import_slots.contains_key(&slot) => Value::ImportSlot(slot),
            // A word a relocation fills in is the pointer it relocates to
            // (PyO3 0.29+'s `PyModExport_`: `adrp; ldr x0, [x0, #off]; ret`).
            (Value::Address(word), 8) => self.image.pointer(word).map_or(Value::Unknown, Value::Address),
            (Value::Stack(_) | Value::Address(_), _) => Value::Unknown,
            (_, 8) => self.base(access.base).load_word(displacement, pc + index as u64),
            (_, 1) if access.unsigned => self.base(access.base).load_byte(displacement),
            _ => Value::Unknown,
        }
    }

    fn data_step(&mut self, insn: u32, pc: u64) {
        if insn & 0x7f80_0000 == 0x5280_0000 {
            // MOVZ
            let shift = ((insn >> 21) & 3) * 16;
            self.set(rd(insn), Value::Const(u64::from((insn >> 5) & 0xffff) << shift));
        } else if insn & 0x7fe0_ffe0 == 0x2a00_03e0 {
            // MOV Rd, Rm (ORR Rd, ZR, Rm)
            let value = self.get(rm(insn));
            self.set(rd(insn), value);
        } else if insn & 0x9f00_0000 == 0x9000_0000 {
            self.set(rd(insn), Value::Address(adrp_target(insn, pc)));
        } else if insn & 0xbf80_0000 == 0x9100_0000 {
            // ADD/SUB Xd|SP, Xn|SP, #imm{, LSL #12}
            let imm = i64::from((insn >> 10) & 0xfff) << if insn & (1 << 22) != 0 { 12 } else { 0 };
            let by = if insn & (1 << 30) != 0 { -imm } else { imm };
            let value = self.base(rn(insn)).plus(by);
            self.set_base(rd(insn), value);
        } else if insn & 0x7fe0_ffe0 == 0x2a20_03e0 {
            // MVN Rd, Rm (ORN Rd, ZR, Rm): a flag's inverse, once masked to bit 0.
            let value = match self.get(rm(insn)) {
                flag @ Value::Flag { .. } => flag.xor(1),
                _ => Value::Unknown,
            };
            self.set(rd(insn), value);
        } else if insn & 0x7fff_fc00 == 0x1200_0000 || insn & 0xffff_fc00 == 0x9240_0000 {
            // AND Rd, Rn, #1
            let value = match self.get(rn(insn)) {
                flag @ Value::Flag { .. } => flag,
                Value::Const(c) => Value::Const(c & 1),
                _ => Value::Unknown,
            };
            self.set(rd(insn), value);
        } else if insn & 0x7fff_fc00 == 0x5200_0000 || insn & 0xffff_fc00 == 0xd240_0000 {
            // EOR Rd, Rn, #1
            let value = self.get(rn(insn)).xor(1);
            self.set(rd(insn), value);
        } else if let Some(access) = decode_access(insn) {
            self.access(&access, pc);
        } else if insn & 0x0a00_0000 == 0x0800_0000 && insn & (1 << 22) == 0 {
            // Other stores write memory (maybe the stack), not registers.
            self.memory.forget_stack();
        } else if insn & 0xffff_fc00 == 0x6f00_e400 && (insn >> 5) & 0x1f == 0 && (insn >> 16) & 0x7 == 0 {
            // MOVI Vd.2D, #0
            self.memory.zero_vector(rd(insn));
        } else {
            self.set(rd(insn), Value::Unknown);
            self.memory.set_vector(rd(insn), None);
        }
    }
}

impl Sweeping for Tracker<'_, '_> {
    fn sweep_state(&mut self) -> (&mut CodeFacts, &mut FunctionState) {
        (&mut self.facts, &mut self.function)
    }

    /// After a RET in the middle of a function, the next block runs in the body's frame.
    fn back_to_frame(&mut self) {
        if let Some((sp, fp)) = self.frame {
            self.sp = sp;
            self.registers[FP] = fp;
        }
    }

    /// A new function's entry: nothing known but the stack pointer.
    fn start_frame(&mut self) {
        self.registers = [Value::Unknown; 32];
        self.sp = Value::Stack(0);
        self.frame = None;
        self.at_first_branch = None;
    }
}

/// The page address an `ADRP` at `pc` computes.
fn adrp_target(insn: u32, pc: u64) -> u64 {
    let immediate = (u64::from((insn >> 5) & 0x7_ffff) << 2) | u64::from((insn >> 29) & 3);
    (pc & !0xfff).wrapping_add_signed(sign_extend(immediate, 21) << 12)
}

/// Analyses `len` bytes of code at `start` as one function: the blocks
/// reachable from `start`, each entered with the register values every path
/// into it agrees on.
pub fn analyze_function(image: &Image<'_>, start: u64, len: usize) -> CodeFacts {
    let Some(code) = image.code(start, len) else { return CodeFacts::default() };
    let instructions: Vec<(u64, u32)> = words(code)
        .enumerate()
        .map(|(i, insn)| (start + i as u64 * 4, insn))
        .take_while(|(_, insn)| *insn != 0)
        .collect();
    let function = start..start + code.len() as u64;
    let steps: Vec<Step> = instructions
        .iter()
        .map(|&(pc, insn)| Step { address: pc, continues: continues(insn, pc, &function) })
        .collect();
    let mut tracker = Tracker::new(image);
    let entry = tracker.state();
    sweep_blocks(&mut tracker, &instructions, &steps, entry, |tracker, state, block| {
        tracker.run_block(state, block, &function)
    })
}

/// How control leaves the instruction `insn` at `pc`, in a function spanning `function`.
fn continues(insn: u32, pc: u64, function: &std::ops::Range<u64>) -> Continues {
    if is_conditional_branch(insn) {
        Continues::Branch(conditional_target(insn, pc))
    } else if is_b(insn) && function.contains(&branch_target(insn, pc)) {
        Continues::Jump(branch_target(insn, pc))
    } else if is_b(insn)
        || insn & 0xffff_fc1f == 0xd65f_0000
        || insn & 0xffe0_001f == 0xd420_0000
        || insn & 0xffff_fc1f == 0xd61f_0000
    {
        // B out of the function (a tail call), RET, BRK, BR.
        Continues::Leaves
    } else {
        Continues::Next
    }
}

/// Follows every executable segment (or each of `functions`) linearly: each
/// call (BL, BLR, and B to an import) goes to `on_call` with the argument
/// registers known in its straight-line block, and each function's stack
/// stores and calls go to `search` where it ends.
pub fn sweep(
    image: &Image<'_>,
    functions: Option<&[(u64, u64)]>,
    on_call: &mut dyn FnMut(&CallSite),
    mut search: Option<&mut FlagSearch<'_>>,
) {
    for (address, code) in super::code::pieces(image, functions) {
        let mut tracker = Tracker::new(image);
        tracker.function = FunctionState::new(functions.is_some(), search.is_some());
        if tracker.function.bounded {
            tracker.enter_function(address);
        }
        for (i, insn) in words(code).enumerate() {
            let pc = address + i as u64 * 4;
            let branch = is_b(insn) || is_conditional_branch(insn) || insn & 0xffff_fc1f == 0xd65f_0000;
            if branch && tracker.at_first_branch.is_none() {
                tracker.at_first_branch = Some(tracker.registers);
            }
            let ends = insn == 0 || tracker.step(insn, pc, 0..0);
            tracker.note_frame();
            // A BR through a loaded slot is an import stub itself (PLT
            // entries, Mach-O __stubs), not a call with arguments; a B is a
            // call only when it leaves for an import (a tail call).
            let register_jump = insn & 0xffff_fc1f == 0xd61f_0000;
            let counts = |call: &CallSite| {
                let local_jump = is_b(insn) && !matches!(call.target, Target::Import(_));
                !register_jump && !local_jump
            };
            tracker.after_instruction(&counts, ends, on_call, search.as_deref_mut());
        }
        tracker.end_function(search.as_deref_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binscan::code::{Base, FlagSource};
    use crate::binscan::image::{Arch, Format};

    #[test]
    fn decodes_adrp_and_branches() {
        // adrp x0, #0x1000 at 0x4000 -> 0x5000; bl +8 at 0x100 -> 0x108
        assert_eq!(adrp_target(0xb000_0000, 0x4000), 0x5000);
        assert_eq!(branch_target(0x9400_0002, 0x100), 0x108);
        assert_eq!(branch_target(0x97ff_ffff, 0x100), 0xfc);
        assert!(is_bl(0x9400_0002) && !is_b(0x9400_0002));
    }

    /// Encodings taken from pydantic-core's Linux and Windows ARM64 builds.
    #[test]
    fn decodes_loads_and_stores_with_immediate_offsets() {
        let stp = decode_access(0xa93d_a7a8).unwrap(); // stp x8, x9, [x29, #-40]
        assert!(!stp.load && stp.rt == 8 && stp.rt2 == Some(9) && stp.base == 29);
        assert_eq!((stp.width, stp.offset, stp.writeback), (8, -40, 0));
        let ldp = decode_access(0xa940_d935).unwrap(); // ldp x21, x22, [x9, #8]
        assert!(ldp.load && ldp.rt == 21 && ldp.rt2 == Some(22) && ldp.base == 9 && ldp.offset == 8);
        let stur = decode_access(0xf81f_83a0).unwrap(); // stur x0, [x29, #-8]
        assert!(!stur.load && stur.width == 8 && stur.offset == -8);
        let sturb = decode_access(0x3818_73bf).unwrap(); // sturb wzr, [x29, #-121]
        assert!(!sturb.load && sturb.rt == ZR && sturb.width == 1 && sturb.offset == -121);
        let strb = decode_access(0x3900_73bf).unwrap(); // strb wzr, [x29, #28]
        assert!(!strb.load && strb.width == 1 && strb.offset == 28);
        let ldrb = decode_access(0x3940_02c8).unwrap(); // ldrb w8, [x22]
        assert!(ldrb.load && ldrb.unsigned && ldrb.width == 1 && ldrb.base == 22 && ldrb.offset == 0);
        let pre = decode_access(0xa9bc_53f3).unwrap(); // stp x19, x20, [sp, #-64]!
        assert!(pre.base == SP && pre.offset == -64 && pre.writeback == -64);
        // 128-bit Q registers: STR has opc 10, LDR opc 11 (MSVC copies slot arrays so).
        let str_q = decode_access(0x3d80_1130).unwrap(); // str q16, [x9, #64]
        assert!(!str_q.load && str_q.vector && str_q.width == 16 && str_q.rt == 16 && str_q.offset == 64);
        let ldr_q = decode_access(0x3dc0_07b1).unwrap(); // ldr q17, [x29, #16]
        assert!(ldr_q.load && ldr_q.width == 16 && ldr_q.base == FP && ldr_q.offset == 16);
        let stp_q = decode_access(0xad01_c3b1).unwrap(); // stp q17, q16, [x29, #48]
        assert!(!stp_q.load && stp_q.width == 16 && stp_q.rt2 == Some(16) && stp_q.offset == 48);
    }

    /// The closure read in pydantic-core's Linux ARM64 build: the flag
    /// `SetGIL` gets is the inverted byte behind field 16 of the pointer
    /// loaded first, and `PyModule_Create2` gets field 8 plus 8.
    #[test]
    fn follows_a_flag_through_two_loads() {
        let image = Image::new(Format::Elf, Arch::Aarch64, 8, &[]);
        let mut tracker = Tracker::new(&image);
        // ldr x9, [x0]; ldp x21, x22, [x9, #8]; add x0, x21, #8
        for (i, insn) in [0xf940_0009, 0xa940_d935, 0x9100_22a0].into_iter().enumerate() {
            tracker.step(insn, 0x1000 + i as u64 * 4, 0..0);
        }
        assert_eq!(tracker.get(0), Value::Field { base: Base::Loaded(0x1000), offset: 8, plus: 8 });
        // ldrb w8, [x22]; mvn w8, w8; and x1, x8, #0x1
        for insn in [0x3940_02c8, 0x2a28_03e8, 0x9240_0101] {
            tracker.step(insn, 0x2000, 0..0);
        }
        let source = FlagSource::Field { base: Base::Loaded(0x1000), offset: 16 };
        assert_eq!(tracker.get(1), Value::Flag { source, inverted: true });
    }
}
