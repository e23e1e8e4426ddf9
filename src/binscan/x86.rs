//! x86 and x86-64 (iced-x86): register constants and `lea` addresses at each
//! call, constant stores to fixed addresses, and returned values.

use std::collections::{BTreeMap, HashSet};

use iced_x86::{Code, Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic, OpKind, Register};

use super::code::{CallSite, CallingConvention, CodeFacts, Target, Value};
use super::image::{Arch, Image};

/// Analyses `len` bytes of code at `start` as one function.
pub fn analyze_function(image: &Image<'_>, start: u64, len: usize, convention: CallingConvention) -> CodeFacts {
    let Some(code) = image.code(start, len) else { return CodeFacts::default() };
    let bitness = if image.arch == Arch::X86 { 32 } else { 64 };
    let instructions: Vec<Instruction> = decode_until_padding(code, start, bitness);
    let end = start + code.len() as u64;
    let targets: HashSet<u64> = instructions
        .iter()
        .filter(|i| matches!(i.flow_control(), FlowControl::ConditionalBranch | FlowControl::UnconditionalBranch))
        .filter(|i| i.op0_kind() == OpKind::NearBranch64 || i.op0_kind() == OpKind::NearBranch32)
        .map(|i| i.near_branch_target())
        .collect();
    let mut tracker = Tracker::new(image, convention);
    for instruction in &instructions {
        if targets.contains(&instruction.ip()) {
            tracker.forget();
        }
        tracker.step(instruction, start..end);
    }
    tracker.facts
}

/// Every call in the executable code of `image` whose target is one of
/// `imports`, with the argument registers known in its straight-line block.
pub fn calls_to(image: &Image<'_>, imports: &[&str], convention: CallingConvention) -> Vec<CallSite> {
    let bitness = if image.arch == Arch::X86 { 32 } else { 64 };
    let mut found = Vec::new();
    for segment in image.segments.iter().filter(|s| s.executable) {
        let Some(code) = image.data.get(segment.file_range.0..segment.file_range.1) else { continue };
        let mut tracker = Tracker::new(image, convention);
        let mut decoder = Decoder::with_ip(bitness, code, segment.address, DecoderOptions::NONE);
        let mut instruction = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut instruction);
            if matches!(instruction.flow_control(), FlowControl::Call | FlowControl::IndirectCall) {
                let target = tracker.call_target(&instruction);
                if matches!(&target, Target::Import(name) if imports.contains(&name.as_str())) {
                    found.push(CallSite { at: instruction.ip(), target, args: tracker.args() });
                }
            }
            tracker.step(&instruction, 0..0);
        }
    }
    found
}

/// Decodes until the code runs into padding (int3 or zero bytes) after a `ret`/`jmp`.
fn decode_until_padding(code: &[u8], ip: u64, bitness: u32) -> Vec<Instruction> {
    let mut decoder = Decoder::with_ip(bitness, code, ip, DecoderOptions::NONE);
    let mut out = Vec::new();
    let mut instruction = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut instruction);
        if instruction.code() == Code::INVALID {
            break;
        }
        out.push(instruction);
    }
    out
}

struct Tracker<'i, 'a> {
    image: &'i Image<'a>,
    convention: CallingConvention,
    registers: [Value; 16],
    /// cdecl: values pushed since the last call, and stores to `[esp + n]`.
    pushes: Vec<Value>,
    stack_slots: BTreeMap<u64, Value>,
    facts: CodeFacts,
}

impl<'i, 'a> Tracker<'i, 'a> {
    fn new(image: &'i Image<'a>, convention: CallingConvention) -> Self {
        Tracker {
            image,
            convention,
            registers: [Value::Unknown; 16],
            pushes: Vec::new(),
            stack_slots: BTreeMap::new(),
            facts: CodeFacts::default(),
        }
    }

    fn forget(&mut self) {
        self.registers = [Value::Unknown; 16];
        self.forget_stack();
    }

    fn forget_stack(&mut self) {
        self.pushes.clear();
        self.stack_slots.clear();
    }

    fn slot(register: Register) -> Option<usize> {
        let full = register.full_register();
        let index = match full {
            Register::RAX | Register::EAX => 0,
            Register::RCX | Register::ECX => 1,
            Register::RDX | Register::EDX => 2,
            Register::RBX | Register::EBX => 3,
            Register::RSP | Register::ESP => 4,
            Register::RBP | Register::EBP => 5,
            Register::RSI | Register::ESI => 6,
            Register::RDI | Register::EDI => 7,
            Register::R8 => 8,
            Register::R9 => 9,
            Register::R10 => 10,
            Register::R11 => 11,
            Register::R12 => 12,
            Register::R13 => 13,
            Register::R14 => 14,
            Register::R15 => 15,
            _ => return None,
        };
        Some(index)
    }

    fn get(&self, register: Register) -> Value {
        Self::slot(register).map_or(Value::Unknown, |i| self.registers[i])
    }

    fn set(&mut self, register: Register, value: Value) {
        if let Some(i) = Self::slot(register) {
            // Writes to 8- and 16-bit parts keep the rest of the register.
            let whole = register.size() >= 4;
            self.registers[i] = if whole { value } else { Value::Unknown };
        }
    }

    fn args(&self) -> [Value; 4] {
        let order = match self.convention {
            CallingConvention::SysV => [Register::RDI, Register::RSI, Register::RDX, Register::RCX],
            CallingConvention::Win64 => [Register::RCX, Register::RDX, Register::R8, Register::R9],
            CallingConvention::Cdecl => return self.stack_args(),
        };
        order.map(|r| self.get(r))
    }

    /// cdecl arguments: `[esp]`, `[esp+4]`, ... as stored, else the last
    /// pushes (the first argument is pushed last).
    fn stack_args(&self) -> [Value; 4] {
        if !self.stack_slots.is_empty() {
            return [0, 4, 8, 12].map(|offset| self.stack_slots.get(&offset).copied().unwrap_or(Value::Unknown));
        }
        let mut args = [Value::Unknown; 4];
        for (arg, value) in args.iter_mut().zip(self.pushes.iter().rev()) {
            *arg = *value;
        }
        args
    }

    /// The image address of a memory operand, when it is fixed: rip-relative,
    /// absolute (less a 32-bit PE's image base), or i386 PIC `[ebx + d]` into the GOT.
    fn memory_address(&self, instruction: &Instruction) -> Option<u64> {
        if instruction.memory_index() != Register::None {
            return None;
        }
        let displacement = instruction.memory_displacement64();
        match instruction.memory_base() {
            Register::RIP | Register::EIP => Some(displacement),
            Register::None => Some(displacement.wrapping_sub(self.image.absolute_base) & self.address_mask()),
            Register::EBX => self.image.got_base.map(|got| got.wrapping_add(displacement) & 0xffff_ffff),
            _ => None,
        }
    }

    fn address_mask(&self) -> u64 {
        if self.image.arch == Arch::X86 { 0xffff_ffff } else { u64::MAX }
    }

    fn call_target(&self, instruction: &Instruction) -> Target {
        match instruction.op0_kind() {
            OpKind::NearBranch64 | OpKind::NearBranch32 => self.resolve_stub(instruction.near_branch_target()),
            OpKind::Memory => match self.memory_address(instruction).and_then(|a| self.image.import_slots.get(&a)) {
                Some(name) => Target::Import(name.clone()),
                None => Target::Unknown,
            },
            _ => Target::Unknown,
        }
    }

    /// A PLT / stub entry (`[endbr64;] [bnd] jmp [rip+slot]`) resolves to its import.
    fn resolve_stub(&self, address: u64) -> Target {
        let bitness = if self.image.arch == Arch::X86 { 32 } else { 64 };
        if let Some(code) = self.image.bytes(address, 16) {
            let mut decoder = Decoder::with_ip(bitness, code, address, DecoderOptions::NONE);
            for _ in 0..2 {
                let instruction = decoder.decode();
                if instruction.mnemonic() == Mnemonic::Endbr64 || instruction.mnemonic() == Mnemonic::Endbr32 {
                    continue;
                }
                if instruction.mnemonic() == Mnemonic::Jmp
                    && instruction.op0_kind() == OpKind::Memory
                    && let Some(name) = self.memory_address(&instruction).and_then(|a| self.image.import_slots.get(&a))
                {
                    return Target::Import(name.clone());
                }
                break;
            }
        }
        Target::Local(address)
    }

    fn source_value(&self, instruction: &Instruction, operand: u32) -> Value {
        match instruction.op_kind(operand) {
            OpKind::Register => self.get(instruction.op_register(operand)),
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64 => Value::Const(instruction.immediate(operand)),
            _ => Value::Unknown,
        }
    }

    fn clobber_caller_saved(&mut self) {
        for r in [Register::RAX, Register::RCX, Register::RDX, Register::RSI, Register::RDI, Register::R8] {
            self.set(r, Value::Unknown);
        }
        for r in [Register::R9, Register::R10, Register::R11] {
            self.set(r, Value::Unknown);
        }
    }

    fn step(&mut self, instruction: &Instruction, function: std::ops::Range<u64>) {
        match instruction.flow_control() {
            FlowControl::Call | FlowControl::IndirectCall => {
                let target = self.call_target(instruction);
                self.facts.calls.push(CallSite { at: instruction.ip(), target, args: self.args() });
                self.clobber_caller_saved();
                self.forget_stack();
                return;
            }
            FlowControl::UnconditionalBranch | FlowControl::IndirectBranch => {
                let leaves =
                    instruction.op0_kind() == OpKind::Memory || !function.contains(&instruction.near_branch_target());
                if leaves {
                    // A tail call: the arguments are in place.
                    let target = self.call_target(instruction);
                    self.facts.calls.push(CallSite { at: instruction.ip(), target, args: self.args() });
                }
                self.forget();
                return;
            }
            FlowControl::Return => {
                self.facts.returns.push(self.get(Register::RAX));
                self.forget();
                return;
            }
            FlowControl::Interrupt | FlowControl::Exception => {
                self.forget();
                return;
            }
            _ => {}
        }
        self.data_step(instruction);
    }

    fn data_step(&mut self, instruction: &Instruction) {
        let op0_register = instruction.op_count() > 0 && instruction.op0_kind() == OpKind::Register;
        match instruction.mnemonic() {
            Mnemonic::Mov if op0_register => {
                let value = self.source_value(instruction, 1);
                self.set(instruction.op0_register(), value);
            }
            Mnemonic::Push if self.convention == CallingConvention::Cdecl => {
                let value = self.source_value(instruction, 0);
                self.pushes.push(value);
            }
            Mnemonic::Mov
                if self.convention == CallingConvention::Cdecl
                    && instruction.op0_kind() == OpKind::Memory
                    && instruction.memory_base() == Register::ESP
                    && instruction.memory_index() == Register::None =>
            {
                let value = self.source_value(instruction, 1);
                self.stack_slots.insert(instruction.memory_displacement64(), value);
            }
            Mnemonic::Mov if instruction.op0_kind() == OpKind::Memory => {
                if let Some(address) =
                    self.memory_address(instruction).filter(|_| instruction.memory_base() != Register::EBX)
                {
                    let width = instruction.memory_size().size() as u8;
                    let value = self.source_value(instruction, 1);
                    self.facts.record_store(address, width, value);
                }
            }
            Mnemonic::Lea if op0_register => {
                let value = self
                    .memory_address(instruction)
                    .filter(|_| instruction.memory_base() != Register::EBX)
                    .map_or(Value::Unknown, Value::Address);
                self.set(instruction.op0_register(), value);
            }
            Mnemonic::Xor
                if op0_register
                    && instruction.op1_kind() == OpKind::Register
                    && instruction.op0_register() == instruction.op1_register() =>
            {
                self.set(instruction.op0_register(), Value::Const(0));
            }
            Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Push | Mnemonic::Nop | Mnemonic::Endbr64 => {}
            _ if op0_register => self.set(instruction.op0_register(), Value::Unknown),
            _ => {}
        }
        if matches!(instruction.mnemonic(), Mnemonic::Movsb | Mnemonic::Movsq | Mnemonic::Stosb | Mnemonic::Stosq) {
            for r in [Register::RCX, Register::RSI, Register::RDI] {
                self.set(r, Value::Unknown);
            }
        }
    }
}
