//! Reading machine code just far enough to recover constants: the argument
//! registers at each call (constants, addresses), constant stores to fixed
//! addresses, and returned values. One function is followed linearly, and
//! what is known is forgotten at every branch target, so no value is reported
//! that only one path would give. x86, AArch64 and 32-bit ARM (A32) have
//! their own decoders.
//!
//! More facts serve flags passed by reference (PyO3 0.23-0.26 pass
//! `gil_used` so): stores to the stack, values the analysis cannot see into
//! but can name (`Opaque`, `Field`, `Param`, `Flag`), and a call graph that
//! says which functions to read for them.

use std::collections::{BTreeMap, BTreeSet};

use super::flow::{self, Join, Step};
use super::image::{Arch, Format, Image};
use super::{arm32, arm64, x86};

/// What code left in a register or memory word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Unknown,
    Const(u64),
    /// An address inside the image (from `lea reg, [rip+d]` or an absolute operand).
    Address(u64),
    /// The function an import slot points to, loaded from the slot at this address.
    ImportSlot(u64),
    /// A register whose low byte alone is known (x86 `mov r8b, 1`): enough
    /// for a `bool` argument.
    LowByte(u8),
    /// An address on the stack: an offset from the stack pointer at the start
    /// of the function (or of the stretch of code being swept).
    Stack(i64),
    /// A word loaded from memory the analysis cannot see, named by the
    /// address of the instruction that loaded it.
    Opaque(u64),
    /// `[base + offset] + plus`: a word loaded from a fixed offset of a
    /// pointer the analysis cannot see, plus a constant.
    Field {
        base: Base,
        offset: i64,
        plus: i64,
    },
    /// An argument register as the function that starts at `function` got it.
    Param {
        function: u64,
        index: u8,
    },
    /// The low bit of a byte read through a pointer, inverted when `inverted`.
    Flag {
        source: FlagSource,
        inverted: bool,
    },
}

/// A pointer the analysis cannot see into, which fields are read through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// `Opaque(at)`: loaded by the instruction at `at`.
    Loaded(u64),
    /// `Param { function, index }`: an argument.
    Param { function: u64, index: u8 },
}

/// Where a flag byte is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagSource {
    /// The byte `Field { base, offset }` points to: a reference a closure captured.
    Field { base: Base, offset: i64 },
    /// The byte the function's `index`th argument points to.
    Argument { function: u64, index: u8 },
}

impl Value {
    /// The value plus a constant, where that still means something.
    pub fn plus(self, addend: i64) -> Value {
        match self {
            Value::Address(a) => Value::Address(a.wrapping_add_signed(addend)),
            Value::Stack(s) => Value::Stack(s + addend),
            Value::Field { base, offset, plus } => Value::Field { base, offset, plus: plus + addend },
            Value::Const(c) => Value::Const(c.wrapping_add_signed(addend)),
            _ => Value::Unknown,
        }
    }

    /// The word loaded from `[self + displacement]` by the instruction at `at`.
    pub fn load_word(self, displacement: i64, at: u64) -> Value {
        match self {
            Value::Opaque(at) => Value::Field { base: Base::Loaded(at), offset: displacement, plus: 0 },
            Value::Param { function, index } => {
                Value::Field { base: Base::Param { function, index }, offset: displacement, plus: 0 }
            }
            Value::Unknown | Value::Field { .. } => Value::Opaque(at),
            _ => Value::Unknown,
        }
    }

    /// The byte loaded from `[self + displacement]`, as a flag when `self` is a field.
    pub fn load_byte(self, displacement: i64) -> Value {
        let source = match self {
            _ if displacement != 0 => return Value::Unknown,
            Value::Field { base, offset, plus: 0 } => FlagSource::Field { base, offset },
            Value::Param { function, index } => FlagSource::Argument { function, index },
            _ => return Value::Unknown,
        };
        Value::Flag { source, inverted: false }
    }

    /// `self ^ mask` for the masks that keep a flag a flag.
    pub fn xor(self, mask: u64) -> Value {
        match self {
            Value::Flag { source, inverted } if mask == 1 => Value::Flag { source, inverted: !inverted },
            Value::Const(c) => Value::Const(c ^ mask),
            _ => Value::Unknown,
        }
    }

    pub fn is_stack(self) -> bool {
        matches!(self, Value::Stack(_))
    }

    /// The value as a `bool` argument (0 or 1), when it is known to be one.
    pub fn as_bool(self) -> Option<u64> {
        match self {
            Value::Const(v @ (0 | 1)) => Some(v),
            Value::LowByte(v @ (0 | 1)) => Some(u64::from(v)),
            _ => None,
        }
    }
}

/// Stores to the stack in one function (or swept stretch of code), by offset
/// from the stack pointer at its start. Every store is kept, so a slot
/// written twice is known to be ambiguous.
#[derive(Debug, Default)]
pub struct StackMemory {
    stores: BTreeMap<i64, Vec<(u8, Value)>>,
}

/// The widest store recorded (a 64-byte vector register).
const WIDEST_STORE: i64 = 64;

impl StackMemory {
    pub fn store(&mut self, at: i64, width: u8, value: Value) {
        self.stores.entry(at).or_default().push((width, value));
    }

    pub fn clear(&mut self) {
        self.stores.clear();
    }

    /// The value at `at` when exactly one store wrote any of the bytes
    /// `at..at + width`, and it wrote exactly those.
    pub fn only_value(&self, at: i64, width: u8) -> Option<Value> {
        let end = at + i64::from(width);
        let mut touching = self
            .stores
            .range(at - WIDEST_STORE + 1..end)
            .flat_map(|(key, stores)| stores.iter().map(move |store| (*key, *store)))
            .filter(|(key, (w, _))| key + i64::from(*w) > at);
        let (key, (w, value)) = touching.next()?;
        (touching.next().is_none() && key == at && w == width).then_some(value)
    }

    /// Stores of `width` bytes whose value is an address or a parameter.
    fn pointers(&self, width: u8) -> impl Iterator<Item = (i64, Value)> + '_ {
        self.stores.iter().flat_map(move |(key, stores)| {
            stores.iter().filter_map(move |(w, v)| match v {
                Value::Address(_) | Value::Param { .. } if *w == width => Some((*key, *v)),
                _ => None,
            })
        })
    }
}

/// What a sweep keeps about the function it is in, on any instruction set.
#[derive(Debug, Default)]
pub struct FunctionState {
    /// Function bounds are known: a return ends a path, not the function,
    /// and parameters kept in callee-saved registers survive branches.
    pub bounded: bool,
    /// Whether stack stores and calls are kept (only a flag search reads them).
    pub searching: bool,
    stack: StackMemory,
    /// Direct calls since the function began, when `searching`.
    calls: Vec<CallSite>,
}

impl FunctionState {
    pub fn new(bounded: bool, searching: bool) -> Self {
        FunctionState { bounded, searching, ..Default::default() }
    }

    /// Records a store to the stack, when a search will read it.
    pub fn store(&mut self, at: i64, width: u8, value: Value) {
        if self.searching {
            self.stack.store(at, width, value);
        }
    }

    /// Reports a call the sweep met, and keeps direct ones for the search.
    pub fn call(&mut self, call: CallSite, on_call: &mut dyn FnMut(&CallSite)) {
        on_call(&call);
        if self.searching && matches!(call.target, Target::Local(_)) {
            self.calls.push(call);
        }
    }

    /// The function has ended: its stack stores and calls go to `search`.
    pub fn end(&mut self, search: Option<&mut FlagSearch<'_>>) {
        if let Some(search) = search {
            search.visit(&self.stack, &self.calls);
        }
        self.stack.clear();
        self.calls.clear();
    }
}

/// A tracker that a whole-code sweep drives, one instruction at a time.
pub trait Sweeping {
    /// The facts found so far and the function being swept.
    fn sweep_state(&mut self) -> (&mut CodeFacts, &mut FunctionState);
    /// After a return in the middle of a function: back to the body's frame.
    fn back_to_frame(&mut self);
    /// The registers and stack of a new function's entry.
    fn start_frame(&mut self);

    /// The function has ended: its facts go to `search`, and the next code
    /// starts a new frame.
    fn end_function(&mut self, search: Option<&mut FlagSearch<'_>>) {
        self.sweep_state().1.end(search);
        self.start_frame();
    }

    /// After one instruction: reports the call it made when the sweep counts
    /// it (`counts`), then handles the end of a path (`ends`).
    fn after_instruction(
        &mut self,
        counts: &dyn Fn(&CallSite) -> bool,
        ends: bool,
        on_call: &mut dyn FnMut(&CallSite),
        search: Option<&mut FlagSearch<'_>>,
    ) {
        let (facts, function) = self.sweep_state();
        if let Some(call) = facts.calls.pop().filter(|c| counts(c)) {
            function.call(call, on_call);
        }
        facts.calls.clear();
        facts.returns.clear();
        if ends && function.bounded {
            self.back_to_frame();
        } else if ends {
            self.end_function(search);
        }
    }
}

/// Sweeps one function's blocks (found from `steps`, one per instruction)
/// with `run_block`: to a fixpoint from `entry`, then a final pass with the
/// settled states, whose facts alone are returned.
pub fn sweep_blocks<T: Sweeping, I, S: Join>(
    tracker: &mut T,
    instructions: &[I],
    steps: &[Step],
    entry: S,
    mut run_block: impl FnMut(&mut T, &S, &[I]) -> S,
) -> CodeFacts {
    let blocks = flow::blocks(steps);
    flow::run_to_fixpoint(
        &blocks,
        entry,
        tracker,
        |tracker, state, block| run_block(tracker, state, &instructions[block.first..block.end]),
        |tracker| *tracker.sweep_state().0 = CodeFacts::default(),
    );
    std::mem::take(tracker.sweep_state().0)
}

/// A closure environment as the code that reads it shows it: one field holds
/// the module definition (`def_field`; the definition is `plus` bytes on from
/// what it points to), another (`flag_field`) points to a one-byte flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapturedFlag {
    pub def_field: i64,
    pub def_plus: i64,
    pub flag_field: i64,
}

/// What a flag search looks for in each function.
pub enum FlagQuery<'q> {
    /// A closure environment shaped like this, built on the stack, whose
    /// definition field holds an address `is_def` accepts.
    Closure { shape: CapturedFlag, is_def: &'q dyn Fn(u64) -> bool },
    /// A call to `function` whose `index`th argument points to a stack byte.
    Argument { function: u64, index: u8 },
}

/// A search, over every function's stack stores and calls, for the flag
/// byte `query` describes, stored once, with 0 or 1.
pub struct FlagSearch<'q> {
    pub query: FlagQuery<'q>,
    pub pointer_size: u8,
    /// The constant flag bytes found, one per environment or call.
    pub found: Vec<u64>,
    /// Flags (and definitions) the function got as parameters: what its
    /// callers pass decides them.
    pub passed_in: Vec<PassedIn>,
}

/// A flag byte a function stored from its parameter `flag`; when `def` is
/// set, the environment's definition field also came from a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassedIn {
    pub function: u64,
    pub flag: u8,
    pub def: Option<u8>,
}

impl FlagSearch<'_> {
    /// Looks for the flag in one function's stack stores and calls.
    pub fn visit(&mut self, stack: &StackMemory, calls: &[CallSite]) {
        let width = self.pointer_size;
        // Each candidate: where the flag pointer is, and the parameter the definition came from.
        let mut flags = Vec::new();
        match &self.query {
            FlagQuery::Closure { shape, is_def } => {
                for (key, pointer) in stack.pointers(width) {
                    let def = match pointer {
                        Value::Address(address) if is_def(address.wrapping_add_signed(shape.def_plus)) => None,
                        Value::Param { function, index } => Some((function, index)),
                        _ => continue,
                    };
                    if stack.only_value(key, width) == Some(pointer) {
                        let environment = key - shape.def_field;
                        flags.push((stack.only_value(environment + shape.flag_field, width), def));
                    }
                }
            }
            FlagQuery::Argument { function, index } => {
                let calls = calls.iter().filter(|c| c.target == Target::Local(*function));
                flags.extend(calls.map(|c| (c.args.get(usize::from(*index)).copied(), None)));
            }
        }
        for (flag, def) in flags {
            let Some(Value::Stack(flag)) = flag else { continue };
            match (stack.only_value(flag, 1), def) {
                (Some(Value::Const(byte @ (0 | 1))), None) => self.found.push(byte),
                (Some(Value::Param { function, index }), def) if def.is_none_or(|(f, _)| f == function) => {
                    self.passed_in.push(PassedIn { function, flag: index, def: def.map(|(_, i)| i) });
                }
                _ => {}
            }
        }
    }

    /// What a call passes for a flag that was a parameter.
    fn visit_call(&mut self, call: &CallSite) {
        let Target::Local(target) = call.target else { return };
        let is_def = match &self.query {
            FlagQuery::Closure { shape, is_def } => Some((shape.def_plus, is_def)),
            FlagQuery::Argument { .. } => None,
        };
        for passed in self.passed_in.iter().filter(|p| p.function == target) {
            let def_ok = match (passed.def, is_def) {
                (None, _) => true,
                (Some(index), Some((plus, is_def))) => matches!(
                    call.args.get(usize::from(index)),
                    Some(Value::Address(a)) if is_def(a.wrapping_add_signed(plus))
                ),
                (Some(_), None) => false,
            };
            if let (true, Some(byte)) = (def_ok, call.args.get(usize::from(passed.flag)).and_then(|v| v.as_bool())) {
                self.found.push(byte);
            }
        }
    }
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
        Arch::Arm => arm32::analyze_function(image, start, len),
        _ => CodeFacts::default(),
    }
}

/// Every call to one of `imports` in the executable code, or only in
/// `functions` (each start..end), with its arguments. Within given
/// functions the argument registers start as `Param` values, so flags read
/// through them show.
pub fn calls_to(image: &Image<'_>, imports: &[&str], functions: Option<&[(u64, u64)]>) -> Vec<CallSite> {
    let mut found = Vec::new();
    let mut on_call = |call: &CallSite| {
        if matches!(&call.target, Target::Import(name) if imports.contains(&name.as_str())) {
            found.push(call.clone());
        }
    };
    sweep(image, functions, &mut on_call, None);
    found
}

/// One pass over all code for the call graph: where functions begin and who calls whom.
pub fn call_graph(image: &Image<'_>) -> CallGraph {
    let mut starts: BTreeSet<u64> = image.exports.iter().map(|e| e.address).collect();
    let mut edges = Vec::new();
    let mut on_call = |call: &CallSite| {
        if let Target::Local(address) = call.target {
            starts.insert(address);
            edges.push((call.at, address));
        }
    };
    sweep(image, None, &mut on_call, None);
    CallGraph { starts: starts.into_iter().collect(), edges }
}

/// Where functions begin (exports and the targets of direct calls) and
/// which call site calls which function. A function runs to the next start.
pub struct CallGraph {
    starts: Vec<u64>,
    edges: Vec<(u64, u64)>,
}

/// The longest a function is taken to be when no other start follows it.
const LAST_FUNCTION_BYTES: u64 = 1 << 16;

impl CallGraph {
    /// The function (start..end) that holds `address`.
    pub fn function_of(&self, address: u64) -> Option<(u64, u64)> {
        let index = self.starts.partition_point(|s| *s <= address).checked_sub(1)?;
        let end = self.starts.get(index + 1).copied().unwrap_or(self.starts[index] + LAST_FUNCTION_BYTES);
        Some((self.starts[index], end))
    }

    /// The functions that call `function` directly.
    pub fn callers_of(&self, function: u64) -> Vec<(u64, u64)> {
        let mut callers: Vec<_> =
            self.edges.iter().filter(|(_, to)| *to == function).filter_map(|(at, _)| self.function_of(*at)).collect();
        callers.sort_unstable();
        callers.dedup();
        callers
    }

    /// `entry` and the functions it reaches through at most `depth` direct calls.
    pub fn near(&self, entry: u64, depth: usize) -> Vec<(u64, u64)> {
        let mut reached: Vec<(u64, u64)> = self.function_of(entry).into_iter().collect();
        let mut frontier = reached.clone();
        for _ in 0..depth {
            let mut next = Vec::new();
            for (start, end) in &frontier {
                let called = self.edges.iter().filter(|(at, _)| (*start..*end).contains(at));
                for function in called.filter_map(|(_, to)| self.function_of(*to)) {
                    if !reached.contains(&function) && !next.contains(&function) {
                        next.push(function);
                    }
                }
            }
            reached.extend(next.iter().copied());
            frontier = next;
        }
        reached
    }
}

/// The flag bytes `query` finds in the stack stores and calls of
/// `functions`. Where the flag arrived as a parameter (PyO3's
/// `make_module(def, gil_used)` when it is not inlined), the constants that
/// function's callers pass.
pub fn find_flags(image: &Image<'_>, query: FlagQuery<'_>, functions: &[(u64, u64)], graph: &CallGraph) -> Vec<u64> {
    let mut search = FlagSearch { query, pointer_size: image.pointer_size, found: Vec::new(), passed_in: Vec::new() };
    sweep(image, Some(functions), &mut |_| {}, Some(&mut search));
    let mut callers: Vec<(u64, u64)> = search.passed_in.iter().flat_map(|p| graph.callers_of(p.function)).collect();
    callers.sort_unstable();
    callers.dedup();
    if !callers.is_empty() {
        sweep(image, Some(&callers), &mut |call| search.visit_call(call), None);
    }
    search.found
}

/// Follows executable code linearly: all of it, or only `functions` (each
/// start..end one function), reporting every call and, at the end of each
/// function, its stack stores and calls to `search`.
fn sweep(
    image: &Image<'_>,
    functions: Option<&[(u64, u64)]>,
    on_call: &mut dyn FnMut(&CallSite),
    search: Option<&mut FlagSearch<'_>>,
) {
    match image.arch {
        Arch::X86_64 | Arch::X86 => x86::sweep(image, convention(image), functions, on_call, search),
        Arch::Aarch64 => arm64::sweep(image, functions, on_call, search),
        Arch::Arm => arm32::sweep(image, functions, on_call, search),
        _ => {}
    }
}

/// The pieces of code a sweep follows: each executable segment, or each function.
pub fn pieces<'a>(image: &Image<'a>, functions: Option<&[(u64, u64)]>) -> Vec<(u64, &'a [u8])> {
    match functions {
        None => image
            .segments
            .iter()
            .filter(|s| s.executable)
            .filter_map(|s| Some((s.address, image.data.get(s.file_range.0..s.file_range.1)?)))
            .collect(),
        Some(functions) => functions
            .iter()
            .filter_map(|(start, end)| Some((*start, image.code(*start, usize::try_from(end - start).ok()?)?)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_slot_has_a_value_only_when_one_store_wrote_exactly_it() {
        let mut stack = StackMemory::default();
        stack.store(-122, 1, Value::Const(0));
        assert_eq!(stack.only_value(-122, 1), Some(Value::Const(0)));
        // Read with another width, or a byte next to it: nothing known.
        assert_eq!(stack.only_value(-122, 8), None);
        assert_eq!(stack.only_value(-121, 1), None);
        // A wider store over the same byte makes it ambiguous.
        stack.store(-128, 8, Value::Unknown);
        assert_eq!(stack.only_value(-122, 1), None);
        // So does a second store to the same slot.
        stack.store(-64, 8, Value::Stack(-122));
        stack.store(-64, 8, Value::Stack(-121));
        assert_eq!(stack.only_value(-64, 8), None);
    }

    #[test]
    fn a_flag_search_reads_the_byte_behind_the_environment() {
        // env at -64: [+8] the definition, [+16] a pointer to the flag at -122.
        let mut stack = StackMemory::default();
        stack.store(-122, 1, Value::Const(1));
        stack.store(-64, 8, Value::Stack(-121));
        stack.store(-56, 8, Value::Address(0x4000));
        stack.store(-48, 8, Value::Stack(-122));
        let is_def = |a: u64| a == 0x4008;
        let search = |flag_field| {
            let shape = CapturedFlag { def_field: 8, def_plus: 8, flag_field };
            let query = FlagQuery::Closure { shape, is_def: &is_def };
            let mut search = FlagSearch { query, pointer_size: 8, found: Vec::new(), passed_in: Vec::new() };
            search.visit(&stack, &[]);
            search.found
        };
        assert_eq!(search(16), vec![1]);
        // The wrong shape (the flag pointer at +0) finds nothing: -121 was never stored.
        assert!(search(0).is_empty());
    }

    #[test]
    fn a_flag_search_reads_the_byte_an_argument_points_to() {
        let mut stack = StackMemory::default();
        stack.store(-57, 1, Value::Const(0));
        let call =
            |target, rsi| CallSite { at: 0, target, args: [Value::Unknown, rsi, Value::Unknown, Value::Unknown] };
        let calls = [call(Target::Local(0x2000), Value::Stack(-57)), call(Target::Local(0x3000), Value::Stack(-57))];
        let query = FlagQuery::Argument { function: 0x2000, index: 1 };
        let mut search = FlagSearch { query, pointer_size: 8, found: Vec::new(), passed_in: Vec::new() };
        search.visit(&stack, &calls);
        assert_eq!(search.found, vec![0]);
    }
}
