//! AArch64: the few instructions that carry constants to calls and stores
//! (MOVZ, MOV, ADRP + ADD, STR with an immediate offset, BL, B, BR, BLR,
//! RET). Any other instruction is assumed to overwrite its destination
//! register, which can only lose knowledge, never invent it.

use std::collections::HashSet;

use super::code::{CallSite, CodeFacts, Target, Value};
use super::image::Image;

const ZR: usize = 31;

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

struct Tracker<'i, 'a> {
    image: &'i Image<'a>,
    registers: [Value; 32],
    facts: CodeFacts,
}

impl<'i, 'a> Tracker<'i, 'a> {
    fn new(image: &'i Image<'a>) -> Self {
        Tracker { image, registers: [Value::Unknown; 32], facts: CodeFacts::default() }
    }

    fn forget(&mut self) {
        self.registers = [Value::Unknown; 32];
    }

    fn get(&self, register: usize) -> Value {
        if register == ZR { Value::Const(0) } else { self.registers[register] }
    }

    fn set(&mut self, register: usize, value: Value) {
        if register != ZR {
            self.registers[register] = value;
        }
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
    }

    fn step(&mut self, insn: u32, pc: u64, function: std::ops::Range<u64>) {
        if is_bl(insn) {
            let target = self.target(branch_target(insn, pc));
            self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
            self.clobber_caller_saved();
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
    }

    fn data_step(&mut self, insn: u32, pc: u64) {
        if insn & 0x7f80_0000 == 0x5280_0000 {
            // MOVZ
            let shift = ((insn >> 21) & 3) * 16;
            self.set(rd(insn), Value::Const(u64::from((insn >> 5) & 0xffff) << shift));
        } else if insn & 0x7fe0_ffe0 == 0x2a00_03e0 {
            // MOV Rd, Rm (ORR Rd, ZR, Rm)
            let value = self.get(((insn >> 16) & 0x1f) as usize);
            self.set(rd(insn), value);
        } else if insn & 0x9f00_0000 == 0x9000_0000 {
            self.set(rd(insn), Value::Address(adrp_target(insn, pc)));
        } else if insn & 0xff80_0000 == 0x9100_0000 {
            // ADD Xd, Xn, #imm{, LSL #12}
            let imm = u64::from((insn >> 10) & 0xfff) << if insn & (1 << 22) != 0 { 12 } else { 0 };
            let value = match self.get(rn(insn)) {
                Value::Address(a) => Value::Address(a + imm),
                _ => Value::Unknown,
            };
            self.set(rd(insn), value);
        } else if insn & 0xffc0_0000 == 0xf940_0000 {
            // LDR Xt, [Xn, #imm]: from an import slot it is a function to call.
            let value = match self.get(rn(insn)) {
                Value::Address(base) => {
                    let slot = base + u64::from((insn >> 10) & 0xfff) * 8;
                    if self.image.import_slots.contains_key(&slot) { Value::ImportSlot(slot) } else { Value::Unknown }
                }
                _ => Value::Unknown,
            };
            self.set(rd(insn), value);
        } else if insn & 0xbfc0_0000 == 0xb900_0000 {
            // STR Wt/Xt, [Xn, #imm]
            let width: u8 = if insn & 0x4000_0000 != 0 { 8 } else { 4 };
            if let Value::Address(base) = self.get(rn(insn)) {
                let address = base + u64::from((insn >> 10) & 0xfff) * u64::from(width);
                let value = self.get(rd(insn));
                self.facts.record_store(address, width, value);
            }
        } else if insn & 0x0a00_0000 == 0x0800_0000 && insn & (1 << 22) == 0 {
            // Other stores write memory, not registers.
        } else {
            self.set(rd(insn), Value::Unknown);
        }
    }
}

/// The page address an `ADRP` at `pc` computes.
fn adrp_target(insn: u32, pc: u64) -> u64 {
    let immediate = (u64::from((insn >> 5) & 0x7_ffff) << 2) | u64::from((insn >> 29) & 3);
    (pc & !0xfff).wrapping_add_signed(sign_extend(immediate, 21) << 12)
}

pub fn analyze_function(image: &Image<'_>, start: u64, len: usize) -> CodeFacts {
    let Some(code) = image.code(start, len) else { return CodeFacts::default() };
    let end = start + code.len() as u64;
    let targets: HashSet<u64> = words(code)
        .enumerate()
        .filter(|(_, insn)| is_conditional_branch(*insn) || is_b(*insn))
        .map(|(i, insn)| {
            let pc = start + i as u64 * 4;
            if is_b(insn) { branch_target(insn, pc) } else { conditional_target(insn, pc) }
        })
        .collect();
    let mut tracker = Tracker::new(image);
    for (i, insn) in words(code).enumerate() {
        let pc = start + i as u64 * 4;
        if targets.contains(&pc) {
            tracker.forget();
        }
        if insn == 0 {
            break;
        }
        tracker.step(insn, pc, start..end);
    }
    tracker.facts
}

pub fn calls_to(image: &Image<'_>, imports: &[&str]) -> Vec<CallSite> {
    let mut found = Vec::new();
    for segment in image.segments.iter().filter(|s| s.executable) {
        let Some(code) = image.data.get(segment.file_range.0..segment.file_range.1) else { continue };
        let mut tracker = Tracker::new(image);
        for (i, insn) in words(code).enumerate() {
            let pc = segment.address + i as u64 * 4;
            // BLR only: a BR through a loaded slot is an import stub itself
            // (PLT entries, Mach-O __stubs), not a call with arguments.
            let indirect = insn & 0xffff_fc1f == 0xd63f_0000;
            if is_bl(insn) || is_b(insn) || indirect {
                let target =
                    if indirect { tracker.register_target(rn(insn)) } else { tracker.target(branch_target(insn, pc)) };
                if matches!(&target, Target::Import(name) if imports.contains(&name.as_str())) {
                    found.push(CallSite { at: pc, target, args: tracker.args() });
                }
            }
            tracker.step(insn, pc, 0..0);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_adrp_and_branches() {
        // adrp x0, #0x1000 at 0x4000 -> 0x5000; bl +8 at 0x100 -> 0x108
        assert_eq!(adrp_target(0xb000_0000, 0x4000), 0x5000);
        assert_eq!(branch_target(0x9400_0002, 0x100), 0x108);
        assert_eq!(branch_target(0x97ff_ffff, 0x100), 0xfc);
        assert!(is_bl(0x9400_0002) && !is_b(0x9400_0002));
    }
}
