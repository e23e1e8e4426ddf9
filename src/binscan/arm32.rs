//! 32-bit ARM in A32 (ARM) state: the instructions that carry constants and
//! addresses to calls (MOV/MOVW/MOVT immediate, MOV and ADD register, ADD/SUB
//! immediate, PC-relative LDR from a literal pool, BL, BLX, BX, POP {pc}).
//! Any other instruction forgets every register but the stack pointer, which
//! can only lose knowledge, never invent it. Thumb code (an entry address
//! with bit 0 set) is not decoded.

use std::collections::HashSet;

use super::code::{CallSite, CodeFacts, FlagSearch, Target, Value};
use super::image::Image;

const SP: usize = 13;
const LR: usize = 14;
const PC: usize = 15;
/// The condition field meaning "always".
const ALWAYS: u32 = 0xe;

fn words(code: &[u8]) -> impl Iterator<Item = u32> + '_ {
    code.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap()))
}

fn condition(insn: u32) -> u32 {
    insn >> 28
}

/// A modified immediate: 8 bits rotated right by twice the 4-bit rotation.
fn expand_immediate(insn: u32) -> u32 {
    (insn & 0xff).rotate_right(((insn >> 8) & 0xf) * 2)
}

fn register(insn: u32, shift: u32) -> usize {
    ((insn >> shift) & 0xf) as usize
}

/// A B or BL (any condition), or BLX to Thumb code (condition 0xF).
fn is_branch_immediate(insn: u32) -> bool {
    insn & 0x0e00_0000 == 0x0a00_0000
}

fn branch_target(insn: u32, pc: u64) -> u64 {
    let offset = (((insn & 0x00ff_ffff) << 8) as i32 >> 6) as i64;
    let half = if condition(insn) == 0xf { i64::from((insn >> 23) & 2) } else { 0 };
    (pc + 8).wrapping_add_signed(offset + half) & 0xffff_ffff
}

struct Tracker<'i, 'a> {
    image: &'i Image<'a>,
    registers: [Value; 16],
    facts: CodeFacts,
}

impl<'i, 'a> Tracker<'i, 'a> {
    fn new(image: &'i Image<'a>) -> Self {
        Tracker { image, registers: [Value::Unknown; 16], facts: CodeFacts::default() }
    }

    fn forget(&mut self) {
        self.registers = [Value::Unknown; 16];
    }

    fn set(&mut self, register: usize, value: Value) {
        if register != SP && register != PC {
            self.registers[register] = value;
        }
    }

    /// A register as an operand: PC reads as the instruction's address plus 8.
    fn get(&self, register: usize, pc: u64) -> Value {
        if register == PC { Value::Address(pc + 8) } else { self.registers[register] }
    }

    fn args(&self) -> [Value; 4] {
        [self.registers[0], self.registers[1], self.registers[2], self.registers[3]]
    }

    fn clobber_caller_saved(&mut self) {
        for r in [0, 1, 2, 3, 12, LR] {
            self.registers[r] = Value::Unknown;
        }
    }

    /// A call target: a PLT entry (`add ip, pc, #a; add ip, ip, #b; ldr pc,
    /// [ip, #c]!`) resolves to the import its slot holds.
    fn target(&self, address: u64) -> Target {
        if let Some(code) = self.image.bytes(address, 12) {
            let w: Vec<u32> = words(code).collect();
            if w[0] & 0xffff_f000 == 0xe28f_c000
                && w[1] & 0xffff_f000 == 0xe28c_c000
                && w[2] & 0xffff_f000 == 0xe5bc_f000
            {
                let slot = address + 8 + u64::from(expand_immediate(w[0])) + u64::from(expand_immediate(w[1]));
                let slot = (slot + u64::from(w[2] & 0xfff)) & 0xffff_ffff;
                if let Some(name) = self.image.import_slots.get(&slot) {
                    return Target::Import(name.clone());
                }
            }
        }
        Target::Local(address)
    }

    /// Follows one instruction; true when it ends a function (return, or a jump away).
    fn step(&mut self, insn: u32, pc: u64) -> bool {
        if is_branch_immediate(insn) {
            let link = insn & 0x0100_0000 != 0 || condition(insn) == 0xf;
            if link {
                let target = self.target(branch_target(insn, pc));
                self.facts.calls.push(CallSite { at: pc, target, args: self.args() });
                self.clobber_caller_saved();
            } else if condition(insn) == ALWAYS {
                self.forget();
            }
            return false;
        }
        let cond = condition(insn);
        if cond == 0xf {
            // Unconditional-space instructions (PLD, barriers, ...) write no core register we follow.
            return false;
        }
        if insn & 0x0fff_fff0 == 0x012f_ff10 {
            // BX Rm: a return through LR, else a tail jump.
            let returns = register(insn, 0) == LR;
            if returns {
                self.facts.returns.push(self.registers[0]);
            }
            self.forget();
            return cond == ALWAYS;
        }
        if insn & 0x0fff_fff0 == 0x012f_ff30 {
            // BLX Rm: an indirect call.
            self.facts.calls.push(CallSite { at: pc, target: Target::Unknown, args: self.args() });
            self.clobber_caller_saved();
            return false;
        }
        if cond != ALWAYS {
            // A conditional data instruction may or may not run.
            self.forget_destination(insn);
            return false;
        }
        self.data_step(insn, pc)
    }

    /// Forgets the register a conditional instruction may write (all of them when unsure).
    fn forget_destination(&mut self, insn: u32) {
        if insn & 0x0c00_0000 == 0 || insn & 0x0c10_0000 == 0x0410_0000 {
            self.set(register(insn, 12), Value::Unknown);
        } else if insn & 0x0e10_0000 != 0x0800_0000 {
            self.forget();
        }
    }

    fn data_step(&mut self, insn: u32, pc: u64) -> bool {
        let rd = register(insn, 12);
        let rn = register(insn, 16);
        if insn & 0x0ff0_0000 == 0x0300_0000 {
            // MOVW
            self.set(rd, Value::Const(u64::from(((insn >> 4) & 0xf000) | (insn & 0xfff))));
        } else if insn & 0x0ff0_0000 == 0x0340_0000 {
            // MOVT
            let high = u64::from(((insn >> 4) & 0xf000) | (insn & 0xfff)) << 16;
            let value = match self.registers[rd] {
                Value::Const(low) => Value::Const((low & 0xffff) | high),
                _ => Value::Unknown,
            };
            self.set(rd, value);
        } else if insn & 0x0e00_0000 == 0x0200_0000 {
            // Data processing with an immediate.
            let immediate = i64::from(expand_immediate(insn));
            let value = match (insn >> 21) & 0xf {
                0b1101 => Value::Const(immediate as u64),
                0b0100 => self.get(rn, pc).plus(immediate),
                0b0010 => self.get(rn, pc).plus(-immediate),
                // CMP, CMN, TST, TEQ write no register.
                0b1000..=0b1011 => return false,
                _ => Value::Unknown,
            };
            if rd == PC {
                self.forget();
                return true;
            }
            self.set(rd, value);
        } else if insn & 0x0e00_0010 == 0 {
            // Data processing with a register (shifted by an immediate).
            let shifted = insn & 0xff0 != 0;
            let value = match ((insn >> 21) & 0xf, shifted) {
                (0b1101, false) => self.get(register(insn, 0), pc),
                (0b0100, false) => match (self.get(rn, pc), self.get(register(insn, 0), pc)) {
                    (Value::Address(a), Value::Const(c)) | (Value::Const(c), Value::Address(a)) => {
                        Value::Address(a.wrapping_add(c) & 0xffff_ffff)
                    }
                    _ => Value::Unknown,
                },
                (0b1000..=0b1011, _) => return false,
                _ => Value::Unknown,
            };
            if rd == PC {
                self.forget();
                return true;
            }
            self.set(rd, value);
        } else if insn & 0x0c00_0000 == 0x0400_0000 && insn & 0x0200_0000 == 0 {
            // LDR/STR with an immediate offset.
            let load = insn & 0x0010_0000 != 0;
            let writeback = insn & 0x0100_0000 == 0 || insn & 0x0020_0000 != 0;
            if writeback {
                self.set(rn, Value::Unknown);
            }
            if load {
                if rd == PC {
                    self.forget();
                    return true;
                }
                let word = insn & 0x0040_0000 == 0;
                let value = if rn == PC && word && !writeback { self.literal(insn, pc) } else { Value::Unknown };
                self.set(rd, value);
            }
        } else if insn & 0x0e00_0000 == 0x0800_0000 {
            // LDM/STM (PUSH/POP).
            let load = insn & 0x0010_0000 != 0;
            if load {
                for r in (0..16).filter(|r| insn & (1 << r) != 0) {
                    self.set(r, Value::Unknown);
                }
                if insn & (1 << PC) != 0 {
                    self.facts.returns.push(Value::Unknown);
                    self.forget();
                    return true;
                }
            }
            if insn & 0x0020_0000 != 0 {
                self.set(rn, Value::Unknown);
            }
        } else {
            self.forget();
        }
        false
    }

    /// A word of a literal pool (`ldr rd, [pc, #±imm]`): a relocated pointer or a constant.
    fn literal(&self, insn: u32, pc: u64) -> Value {
        let offset = i64::from(insn & 0xfff);
        let offset = if insn & 0x0080_0000 != 0 { offset } else { -offset };
        let address = (pc + 8).wrapping_add_signed(offset);
        if let Some(target) = self.image.pointer(address) {
            return Value::Address(target);
        }
        self.image.word(address, 4).map_or(Value::Unknown, Value::Const)
    }
}

/// Analyses `len` bytes at `start` as one A32 function (nothing for Thumb code).
pub fn analyze_function(image: &Image<'_>, start: u64, len: usize) -> CodeFacts {
    if start & 1 != 0 {
        return CodeFacts::default();
    }
    let Some(code) = image.code(start, len) else { return CodeFacts::default() };
    let targets: HashSet<u64> = words(code)
        .enumerate()
        .filter(|(_, insn)| is_branch_immediate(*insn) && insn & 0x0100_0000 == 0 && condition(*insn) != 0xf)
        .map(|(i, insn)| branch_target(insn, start + i as u64 * 4))
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
        tracker.step(insn, pc);
    }
    tracker.facts
}

/// Follows every executable segment (or each of `functions`) as A32 code,
/// reporting each call with its argument registers. Stack stores are not
/// followed on 32-bit ARM, so `search` finds nothing here.
pub fn sweep(
    image: &Image<'_>,
    functions: Option<&[(u64, u64)]>,
    on_call: &mut dyn FnMut(&CallSite),
    search: Option<&mut FlagSearch<'_>>,
) {
    for (address, code) in super::code::pieces(image, functions) {
        let mut tracker = Tracker::new(image);
        for (i, insn) in words(code).enumerate() {
            let pc = address + i as u64 * 4;
            let ends = tracker.step(insn, pc);
            if let Some(call) = tracker.facts.calls.pop() {
                on_call(&call);
            }
            tracker.facts.calls.clear();
            tracker.facts.returns.clear();
            if ends {
                tracker.forget();
            }
        }
    }
    if let Some(search) = search {
        search.visit(&Default::default(), &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_immediates_and_branches() {
        // add r12, pc, #0, #12 / add r12, r12, #176, #20 (from a real PLT entry)
        assert_eq!(expand_immediate(0xe28f_c600), 0);
        assert_eq!(expand_immediate(0xe28c_cab0), 176 << 12);
        // bl at 0x199e8 to 0x1f0cc (blake3 1.0.8 for armv7)
        assert_eq!(branch_target(0xeb00_15b7, 0x199e8), 0x1f0cc);
    }

    /// The shape of PyO3's `PyInit_` on armv7: a PC-relative address from a
    /// literal pool and a constant `bool`, passed to a direct call.
    #[test]
    fn follows_a_literal_pool_address_and_a_constant_to_a_call() {
        use crate::binscan::image::{Arch, Format, Segment};
        let program: [u32; 6] = [
            0xe59f_1008, // ldr r1, [pc, #8]      (the literal at 0x1010)
            0xe08f_1001, // add r1, pc, r1        (0x100c + 0xff4)
            0xe3a0_2001, // mov r2, #1
            0xeb00_0000, // bl 0x1014
            0x0000_0ff4, // the literal
            0xe12f_ff1e, // bx lr
        ];
        let data: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut image = Image::new(Format::Elf, Arch::Arm, 4, &data);
        image.segments.push(Segment {
            address: 0x1000,
            file_range: (0, data.len()),
            size: data.len() as u64,
            executable: true,
        });
        let facts = analyze_function(&image, 0x1000, data.len());
        let call = &facts.calls[0];
        assert_eq!(call.target, Target::Local(0x1014));
        assert_eq!(call.args[1..3], [Value::Address(0x2000), Value::Const(1)]);
    }
}
