//! x86 and x86-64 (iced-x86): register constants and `lea` addresses at each
//! call, constant stores to fixed addresses, stores to the stack, and
//! returned values.

use std::collections::BTreeMap;

use iced_x86::{
    Code, Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind,
    Register,
};

use super::block_memory::BlockMemory;
use super::code::{
    CallSite, CallingConvention, CodeFacts, FlagSearch, FunctionState, Sweeping, Target, Value, sweep_blocks,
};
use super::flow::{self, Continues, Step};

type Registers = flow::Registers<16>;
use super::image::{Arch, Image};

/// Analyses `len` bytes of code at `start` as one function: the blocks
/// reachable from `start`, each entered with the register values every path
/// into it agrees on.
pub fn analyze_function(image: &Image<'_>, start: u64, len: usize, convention: CallingConvention) -> CodeFacts {
    let Some(code) = image.code(start, len) else { return CodeFacts::default() };
    let bitness = if image.arch == Arch::X86 { 32 } else { 64 };
    let instructions: Vec<Instruction> = decode_until_padding(code, start, bitness);
    let function = start..start + code.len() as u64;
    let steps: Vec<Step> =
        instructions.iter().map(|i| Step { address: i.ip(), continues: continues(i, &function) }).collect();
    let mut tracker = Tracker::new(image, convention);
    let entry = flow::Registers(tracker.registers);
    sweep_blocks(&mut tracker, &instructions, &steps, entry, |tracker, state, block| {
        tracker.run_block(state, block, &function)
    })
}

/// How control leaves `instruction`, in a function spanning `function`.
fn continues(instruction: &Instruction, function: &std::ops::Range<u64>) -> Continues {
    let near = matches!(instruction.op0_kind(), OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16);
    match instruction.flow_control() {
        FlowControl::ConditionalBranch if near => Continues::Branch(instruction.near_branch_target()),
        FlowControl::UnconditionalBranch if near && function.contains(&instruction.near_branch_target()) => {
            Continues::Jump(instruction.near_branch_target())
        }
        FlowControl::UnconditionalBranch
        | FlowControl::IndirectBranch
        | FlowControl::Return
        | FlowControl::Interrupt
        | FlowControl::Exception => Continues::Leaves,
        _ => Continues::Next,
    }
}

/// Follows every executable segment (or each of `functions`) linearly: each
/// call goes to `on_call` with the argument registers known in its
/// straight-line block, and each function's stack stores and calls go to
/// `search` where the function ends.
pub fn sweep(
    image: &Image<'_>,
    convention: CallingConvention,
    functions: Option<&[(u64, u64)]>,
    on_call: &mut dyn FnMut(&CallSite),
    mut search: Option<&mut FlagSearch<'_>>,
) {
    let bitness = if image.arch == Arch::X86 { 32 } else { 64 };
    for (address, code) in super::code::pieces(image, functions) {
        let mut tracker = Tracker::new(image, convention);
        tracker.function = FunctionState::new(functions.is_some(), search.is_some());
        if tracker.function.bounded {
            tracker.enter_function(address);
        }
        let mut decoder = Decoder::with_ip(bitness, code, address, DecoderOptions::NONE);
        let mut instruction = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut instruction);
            let branch = matches!(
                instruction.flow_control(),
                FlowControl::ConditionalBranch | FlowControl::UnconditionalBranch | FlowControl::Return
            );
            if branch && tracker.at_first_branch.is_none() {
                tracker.at_first_branch = Some(tracker.registers);
            }
            let ends = tracker.step(&instruction, 0..0);
            tracker.note_frame();
            // Only calls: a jump through an import slot is a PLT stub itself.
            let is_call = matches!(instruction.flow_control(), FlowControl::Call | FlowControl::IndirectCall);
            tracker.after_instruction(&|_| is_call, ends, on_call, search.as_deref_mut());
        }
        tracker.end_function(search.as_deref_mut());
    }
}

impl Sweeping for Tracker<'_, '_> {
    fn sweep_state(&mut self) -> (&mut CodeFacts, &mut FunctionState) {
        (&mut self.facts, &mut self.function)
    }

    /// After a `ret` in the middle of a function, the next block runs in the body's frame.
    fn back_to_frame(&mut self) {
        if let Some((sp, bp)) = self.frame {
            self.registers[RSP] = sp;
            self.registers[RBP] = bp;
        }
    }

    /// A new function's entry: nothing known but the stack pointer.
    fn start_frame(&mut self) {
        self.registers = [Value::Unknown; 16];
        self.registers[RSP] = Value::Stack(0);
        self.frame = None;
        self.at_first_branch = None;
        self.forget_stack();
    }
}

/// AH, BH, CH and DH: the second byte of a register, not its low byte.
fn is_high_byte(register: Register) -> bool {
    matches!(register, Register::AH | Register::BH | Register::CH | Register::DH)
}

/// An immediate operand's value, whatever width it is encoded in.
fn immediate(instruction: &Instruction, operand: u32) -> Option<u64> {
    match instruction.op_kind(operand) {
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate64
        | OpKind::Immediate8to32
        | OpKind::Immediate8to64
        | OpKind::Immediate32to64 => Some(instruction.immediate(operand)),
        _ => None,
    }
}

/// What arithmetic leaves in a register: addresses, stack offsets, fields
/// and flags are followed through it, but plain constants are not folded
/// (the operation's width is not modelled), so they become unknown.
fn unfolded(value: Value) -> Value {
    if matches!(value, Value::Const(_)) { Value::Unknown } else { value }
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
    /// Stack stores and calls of the function, for a flag search.
    function: FunctionState,
    /// The stack and frame pointers of the function body (after its prologue).
    frame: Option<(Value, Value)>,
    /// The registers at the function's first branch: parameters the entry
    /// block kept in callee-saved registers, assumed to stay there.
    at_first_branch: Option<[Value; 16]>,
    /// The current block's stack stores and vector registers.
    memory: BlockMemory,
    info: InstructionInfoFactory,
    facts: CodeFacts,
}

/// The vector registers (xmm, ymm, zmm n) as one index.
fn vector_index(register: Register) -> Option<usize> {
    let first = if register.is_xmm() {
        Register::XMM0
    } else if register.is_ymm() {
        Register::YMM0
    } else if register.is_zmm() {
        Register::ZMM0
    } else {
        return None;
    };
    Some(register as usize - first as usize)
}

/// Moves of a whole 16-byte vector between registers and memory.
fn is_vector_move(mnemonic: Mnemonic) -> bool {
    matches!(
        mnemonic,
        Mnemonic::Movups
            | Mnemonic::Movaps
            | Mnemonic::Movupd
            | Mnemonic::Movapd
            | Mnemonic::Movdqu
            | Mnemonic::Movdqa
            | Mnemonic::Lddqu
            | Mnemonic::Vmovups
            | Mnemonic::Vmovaps
            | Mnemonic::Vmovupd
            | Mnemonic::Vmovapd
            | Mnemonic::Vmovdqu
            | Mnemonic::Vmovdqa
    )
}

const RSP: usize = 4;
const RBP: usize = 5;

impl<'i, 'a> Tracker<'i, 'a> {
    fn new(image: &'i Image<'a>, convention: CallingConvention) -> Self {
        let mut registers = [Value::Unknown; 16];
        registers[RSP] = Value::Stack(0);
        Tracker {
            image,
            convention,
            registers,
            pushes: Vec::new(),
            stack_slots: BTreeMap::new(),
            function: FunctionState::default(),
            frame: None,
            at_first_branch: None,
            memory: BlockMemory::default(),
            info: InstructionInfoFactory::new(),
            facts: CodeFacts::default(),
        }
    }

    /// Runs one block entered with `state`; gives the registers it passes
    /// on (those before its closing jump, which `step` forgets).
    fn run_block(
        &mut self,
        state: &Registers,
        instructions: &[Instruction],
        function: &std::ops::Range<u64>,
    ) -> Registers {
        self.registers = state.0;
        self.forget_stack();
        let mut out = state.0;
        for instruction in instructions {
            out = self.registers;
            self.step(instruction, function.clone());
        }
        let jumps = instructions.last().is_some_and(|i| i.flow_control() == FlowControl::UnconditionalBranch);
        flow::Registers(if jumps { out } else { self.registers })
    }

    /// Forgets what registers hold, except stack addresses in the stack and frame pointers.
    fn forget(&mut self) {
        let callee_saved: &[usize] = match self.convention {
            _ if !self.function.bounded => &[],
            // rbx, rbp, rsi, rdi, r12-r15
            CallingConvention::Win64 => &[3, 5, 6, 7, 12, 13, 14, 15],
            _ => &[3, 5, 12, 13, 14, 15],
        };
        let entry = self.at_first_branch.unwrap_or([Value::Unknown; 16]);
        for (index, value) in self.registers.iter_mut().enumerate() {
            let frame = (index == RSP || index == RBP) && value.is_stack();
            if frame {
                continue;
            }
            let parameter = callee_saved.contains(&index) && matches!(entry[index], Value::Param { .. });
            *value = if parameter { entry[index] } else { Value::Unknown };
        }
        self.forget_stack();
    }

    /// Notes the deepest stack pointer (and the frame pointer set there): the body's frame.
    fn note_frame(&mut self) {
        let Value::Stack(sp) = self.registers[RSP] else { return };
        match self.frame {
            Some((Value::Stack(deepest), _)) if deepest < sp => {}
            Some((Value::Stack(deepest), _)) if deepest == sp && !self.registers[RBP].is_stack() => {}
            _ => self.frame = Some((self.registers[RSP], self.registers[RBP])),
        }
    }

    /// A function begins at `address`: its argument registers hold its parameters.
    fn enter_function(&mut self, address: u64) {
        let order = match self.convention {
            CallingConvention::SysV => [Register::RDI, Register::RSI, Register::RDX, Register::RCX],
            CallingConvention::Win64 => [Register::RCX, Register::RDX, Register::R8, Register::R9],
            CallingConvention::Cdecl => return,
        };
        for (index, register) in (0u8..).zip(order) {
            self.set(register, Value::Param { function: address, index });
        }
    }

    fn word_size(&self) -> i64 {
        if self.image.arch == Arch::X86 { 4 } else { 8 }
    }

    fn forget_stack(&mut self) {
        self.pushes.clear();
        self.stack_slots.clear();
        self.memory.clear();
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
            // Writes to 8- and 16-bit parts keep the rest of the register:
            // only a constant low byte is still known.
            let high_byte = is_high_byte(register);
            self.registers[i] = match (register.size(), value) {
                (4.., _) => value,
                (1, Value::Const(c)) if !high_byte => Value::LowByte(c as u8),
                (1, Value::LowByte(c)) if !high_byte => Value::LowByte(c),
                _ => Value::Unknown,
            };
        }
    }

    /// A register operand's value at its own width.
    fn register_value(&self, register: Register) -> Value {
        match (register.size(), self.get(register)) {
            _ if is_high_byte(register) => Value::Unknown,
            (1, Value::Const(c)) => Value::Const(c & 0xff),
            (1, Value::LowByte(c)) => Value::Const(u64::from(c)),
            (2, Value::Const(c)) => Value::Const(c & 0xffff),
            (1 | 2, _) | (_, Value::LowByte(_)) => Value::Unknown,
            (_, value) => value,
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
                if instruction.mnemonic() == Mnemonic::Jmp && instruction.op0_kind() == OpKind::Memory {
                    let slot = self.memory_address(&instruction);
                    if let Some(name) = slot.and_then(|a| self.image.import_slots.get(&a)) {
                        return Target::Import(name.clone());
                    }
                    // The PLT entry of a function the file defines itself.
                    if let Some(local) = slot.and_then(|a| self.image.pointer(a)).filter(|a| self.image.is_code(*a)) {
                        return Target::Local(local);
                    }
                }
                break;
            }
        }
        Target::Local(address)
    }

    fn source_value(&self, instruction: &Instruction, operand: u32) -> Value {
        match instruction.op_kind(operand) {
            OpKind::Register => self.register_value(instruction.op_register(operand)),
            _ => immediate(instruction, operand).map_or(Value::Unknown, Value::Const),
        }
    }

    /// Forgets the registers a call may change: rsi and rdi survive calls only on Windows x64.
    fn clobber_caller_saved(&mut self) {
        for r in [Register::RAX, Register::RCX, Register::RDX, Register::R8, Register::R9, Register::R10, Register::R11]
        {
            self.set(r, Value::Unknown);
        }
        if self.convention != CallingConvention::Win64 {
            self.set(Register::RSI, Value::Unknown);
            self.set(Register::RDI, Value::Unknown);
        }
    }

    /// A memory operand's base register value and displacement, when it has
    /// no index and its base is a general register (not RIP, not absent).
    fn register_base(&self, instruction: &Instruction) -> Option<(Value, i64)> {
        let base = instruction.memory_base();
        if instruction.memory_index() != Register::None
            || matches!(base, Register::None | Register::RIP | Register::EIP)
        {
            return None;
        }
        Some((self.get(base), instruction.memory_displacement64() as i64))
    }

    /// The value of a memory operand's base register plus its displacement.
    fn base_plus_displacement(&self, instruction: &Instruction) -> Value {
        self.register_base(instruction).map_or(Value::Unknown, |(base, displacement)| base.plus(displacement))
    }

    /// What a load from the memory operand gives: a word read through a
    /// pointer the analysis cannot see is named (`Opaque`, `Field`), a byte
    /// read through a field or a parameter is a `Flag`. Stack slots are not read.
    /// A word loaded from a fixed address that a relocation fills in is the
    /// pointer it relocates to (PyO3 0.29+'s `PyModExport_` returns
    /// `[rip + __PYO3_DEF + 16]`, a word set to its slot array's address).
    fn load(&self, instruction: &Instruction) -> Value {
        let size = instruction.memory_size().size() as i64;
        if size == self.word_size()
            && let Some(target) = self.memory_address(instruction).and_then(|at| self.image.pointer(at))
        {
            return Value::Address(target);
        }
        let Some((pointer, displacement)) = self.register_base(instruction) else { return Value::Unknown };
        if pointer.is_stack() {
            return Value::Unknown;
        }
        match size {
            1 => pointer.load_byte(displacement),
            s if s == self.word_size() => pointer.load_word(displacement, instruction.ip()),
            _ => Value::Unknown,
        }
    }

    /// Follows one instruction; true when it ends a function (`ret`, `int3`, `ud2`).
    fn step(&mut self, instruction: &Instruction, function: std::ops::Range<u64>) -> bool {
        match instruction.flow_control() {
            FlowControl::Call | FlowControl::IndirectCall => {
                let target = self.call_target(instruction);
                self.facts.calls.push(CallSite { at: instruction.ip(), target, args: self.args() });
                self.clobber_caller_saved();
                self.forget_stack();
                false
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
                false
            }
            FlowControl::Return => {
                self.facts.returns.push(self.get(Register::RAX));
                self.forget();
                true
            }
            FlowControl::Interrupt | FlowControl::Exception => {
                self.forget();
                true
            }
            _ => {
                self.data_step(instruction);
                false
            }
        }
    }

    /// Records a write to a stack address; true when the operand was one.
    fn store_to_stack(&mut self, instruction: &Instruction, value: Value) -> bool {
        match self.base_plus_displacement(instruction) {
            Value::Stack(at) => {
                let width = instruction.memory_size().size() as u8;
                self.function.store(at, width, value);
                self.memory.store(at, width, value);
                true
            }
            _ => false,
        }
    }

    /// `push`, `pop`, `add`/`sub rsp` and the like move the stack pointer.
    fn move_stack_pointer(&mut self, by: i64) {
        self.registers[RSP] = self.registers[RSP].plus(by);
    }

    fn data_step(&mut self, instruction: &Instruction) {
        let op0_register = instruction.op_count() > 0 && instruction.op0_kind() == OpKind::Register;
        let op0_memory = instruction.op_count() > 0 && instruction.op0_kind() == OpKind::Memory;
        let op1_memory = instruction.op_count() > 1 && instruction.op1_kind() == OpKind::Memory;
        match instruction.mnemonic() {
            Mnemonic::Mov | Mnemonic::Movzx if op0_register && op1_memory => {
                let value = self.load(instruction);
                self.set(instruction.op0_register(), value);
            }
            Mnemonic::Mov if op0_register => {
                let value = self.source_value(instruction, 1);
                self.set(instruction.op0_register(), value);
            }
            Mnemonic::Push => {
                let value = self.source_value(instruction, 0);
                if self.convention == CallingConvention::Cdecl {
                    self.pushes.push(value);
                }
                let word = self.word_size();
                self.move_stack_pointer(-word);
                if let Value::Stack(at) = self.registers[RSP] {
                    self.memory.store(at, word as u8, value);
                }
            }
            Mnemonic::Pop => {
                if op0_register {
                    self.set(instruction.op0_register(), Value::Unknown);
                }
                let word = self.word_size();
                self.move_stack_pointer(word);
            }
            Mnemonic::Add | Mnemonic::Sub if op0_register && immediate(instruction, 1).is_some() => {
                let immediate = instruction.immediate(1) as i64;
                let by = if instruction.mnemonic() == Mnemonic::Add { immediate } else { immediate.wrapping_neg() };
                let value = self.get(instruction.op0_register()).plus(by);
                self.set(instruction.op0_register(), unfolded(value));
            }
            Mnemonic::Xor if op0_register && immediate(instruction, 1).is_some() => {
                let value = self.get(instruction.op0_register()).xor(instruction.immediate(1));
                self.set(instruction.op0_register(), unfolded(value));
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
            Mnemonic::Mov if op0_memory => {
                let value = self.source_value(instruction, 1);
                if !self.store_to_stack(instruction, value) {
                    match self.fixed_store_address(instruction) {
                        Some(address) => {
                            let width = instruction.memory_size().size() as u8;
                            self.facts.record_store(address, width, value);
                        }
                        None => self.memory.forget_stack(),
                    }
                }
            }
            Mnemonic::Lea if op0_register => {
                let value =
                    match self.memory_address(instruction).filter(|_| instruction.memory_base() != Register::EBX) {
                        Some(address) => Value::Address(address),
                        None => self.base_plus_displacement(instruction),
                    };
                self.set(instruction.op0_register(), unfolded(value));
            }
            Mnemonic::Xor
                if op0_register
                    && instruction.op1_kind() == OpKind::Register
                    && instruction.op0_register() == instruction.op1_register() =>
            {
                self.set(instruction.op0_register(), Value::Const(0));
            }
            Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Nop | Mnemonic::Endbr64 | Mnemonic::Bt => {}
            mnemonic if is_vector_move(mnemonic) => self.move_vector(instruction),
            Mnemonic::Xorps | Mnemonic::Xorpd | Mnemonic::Pxor
                if op0_register
                    && instruction.op1_kind() == OpKind::Register
                    && instruction.op0_register() == instruction.op1_register() =>
            {
                if let Some(index) = vector_index(instruction.op0_register()) {
                    self.memory.zero_vector(index);
                }
            }
            _ => {
                // Any other write to the stack leaves those bytes unknown.
                if op0_memory
                    && !self.store_to_stack(instruction, Value::Unknown)
                    && self.fixed_store_address(instruction).is_none()
                {
                    self.memory.forget_stack();
                }
                self.forget_written(instruction);
            }
        }
    }

    /// Every register `instruction` writes, named or implied (`cdq`, `mul`,
    /// `leave`, string operations), is unknown afterwards.
    fn forget_written(&mut self, instruction: &Instruction) {
        let written: Vec<Register> = self
            .info
            .info(instruction)
            .used_registers()
            .iter()
            .filter(|used| {
                !matches!(used.access(), OpAccess::Read | OpAccess::CondRead | OpAccess::None | OpAccess::NoMemAccess)
            })
            .map(|used| used.register())
            .collect();
        for register in written {
            if vector_index(register).is_some() {
                self.memory.set_vector(vector_index(register).unwrap_or(0), None);
            } else if Self::slot(register).is_some() {
                let index = Self::slot(register).unwrap_or(0);
                self.registers[index] = Value::Unknown;
            }
        }
    }

    /// A 16-byte vector move: register to register, a load of stack bytes,
    /// or a store (to the stack, or to a fixed address, where each known
    /// piece is recorded like a scalar store). Only xmm registers are
    /// followed; a ymm or zmm move leaves its register unknown.
    fn move_vector(&mut self, instruction: &Instruction) {
        let xmm = |register: Register| vector_index(register).filter(|_| register.is_xmm());
        let width = instruction.memory_size().size() as u8;
        match (instruction.op0_kind(), instruction.op1_kind()) {
            (OpKind::Register, OpKind::Register) => {
                let pieces = xmm(instruction.op1_register()).and_then(|i| self.memory.vector(i).cloned());
                let to = vector_index(instruction.op0_register()).unwrap_or(0);
                self.memory.set_vector(to, pieces.filter(|_| xmm(instruction.op0_register()).is_some()));
            }
            (OpKind::Register, OpKind::Memory) => {
                let at = match self.base_plus_displacement(instruction) {
                    Value::Stack(at) if width == 16 => Some(at),
                    _ => None,
                };
                let to = vector_index(instruction.op0_register()).unwrap_or(0);
                match xmm(instruction.op0_register()) {
                    Some(_) => self.memory.load_vector(to, at),
                    None => self.memory.set_vector(to, None),
                }
            }
            (OpKind::Memory, OpKind::Register) => {
                let from = xmm(instruction.op1_register()).unwrap_or(usize::MAX);
                if let Value::Stack(at) = self.base_plus_displacement(instruction) {
                    self.function.store(at, width, Value::Unknown);
                    self.memory.store_vector(at, width, from);
                } else if let Some(address) = self.fixed_store_address(instruction) {
                    self.memory.record_vector_store(&mut self.facts, address, width, from);
                } else {
                    self.memory.forget_stack();
                }
            }
            _ => self.forget_written(instruction),
        }
    }

    /// The fixed address a store writes, when it writes one.
    fn fixed_store_address(&self, instruction: &Instruction) -> Option<u64> {
        self.memory_address(instruction).filter(|_| instruction.memory_base() != Register::EBX)
    }
}

#[cfg(test)]
mod tests;
