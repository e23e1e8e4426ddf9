//! What one straight run of code has put on its stack and in its vector
//! registers, for any instruction set. Compilers build small constant
//! arrays (pybind11's module slots, under MSVC) in stack scratch space and
//! copy them out with 16-byte vector moves; this follows such copies.
//! Anything it cannot place (a store through an unknown pointer, a call)
//! empties it, so it only ever knows less.

use std::collections::BTreeMap;

use super::code::{CodeFacts, Value};

/// A 16-byte vector's known pieces: (offset, width, value).
pub type Pieces = Vec<(u8, u8, Value)>;

/// The bytes in a vector register.
pub const VECTOR_BYTES: u8 = 16;

/// The vector registers an instruction set has (x86-64 with AVX-512, AArch64).
const VECTOR_REGISTERS: usize = 32;

#[derive(Debug)]
pub struct BlockMemory {
    /// The last store to each stack byte, by offset: (width, value).
    stack: BTreeMap<i64, (u8, Value)>,
    vectors: [Option<Pieces>; VECTOR_REGISTERS],
}

impl Default for BlockMemory {
    fn default() -> Self {
        BlockMemory { stack: BTreeMap::new(), vectors: std::array::from_fn(|_| None) }
    }
}

impl BlockMemory {
    /// Forgets everything: a new block, or a call.
    pub fn clear(&mut self) {
        self.stack.clear();
        self.vectors = std::array::from_fn(|_| None);
    }

    /// Memory was written somewhere unknown, maybe the stack.
    pub fn forget_stack(&mut self) {
        self.stack.clear();
    }

    /// A store of `width` bytes at stack offset `at`: it replaces whatever
    /// overlapped it (wider stores are kept as unknown bytes).
    pub fn store(&mut self, at: i64, width: u8, value: Value) {
        let end = at + i64::from(width);
        let widest = i64::from(VECTOR_BYTES);
        let overlapping: Vec<i64> = self
            .stack
            .range(at - widest + 1..end)
            .filter(|(key, (w, _))| **key + i64::from(*w) > at)
            .map(|(key, _)| *key)
            .collect();
        for key in overlapping {
            self.stack.remove(&key);
        }
        if width <= VECTOR_BYTES && value != Value::Unknown {
            self.stack.insert(at, (width, value));
        }
    }

    /// Stores vector register `register` (its first `width` bytes) at stack offset `at`.
    pub fn store_vector(&mut self, at: i64, width: u8, register: usize) {
        let pieces = self.vector(register).cloned().unwrap_or_default();
        self.store(at, width, Value::Unknown);
        for (offset, piece_width, value) in pieces.into_iter().filter(|(o, w, _)| o + w <= width) {
            self.store(at + i64::from(offset), piece_width, value);
        }
    }

    /// Loads 16 bytes at stack offset `at` (or from anywhere else, unknown
    /// there) into vector register `register`.
    pub fn load_vector(&mut self, register: usize, at: Option<i64>) {
        let pieces = at.map(|at| {
            let end = at + i64::from(VECTOR_BYTES);
            self.stack
                .range(at..end)
                .filter(|(key, (w, _))| **key + i64::from(*w) <= end)
                .map(|(key, (w, v))| ((key - at) as u8, *w, *v))
                .collect()
        });
        self.set_vector(register, pieces);
    }

    /// Sets all 16 bytes of a vector register to zero (`xorps x, x`, `movi v.2d, #0`).
    pub fn zero_vector(&mut self, register: usize) {
        self.set_vector(register, Some(vec![(0, 8, Value::Const(0)), (8, 8, Value::Const(0))]));
    }

    pub fn set_vector(&mut self, register: usize, pieces: Option<Pieces>) {
        if let Some(slot) = self.vectors.get_mut(register) {
            *slot = pieces;
        }
    }

    pub fn vector(&self, register: usize) -> Option<&Pieces> {
        self.vectors.get(register)?.as_ref()
    }

    /// Records a vector store of `width` bytes to the fixed `address`: each
    /// known piece as a store, or, when none is known, the whole as an
    /// unknown store (the memory is still written at run time).
    pub fn record_vector_store(&self, facts: &mut CodeFacts, address: u64, width: u8, register: usize) {
        let pieces: Pieces =
            self.vector(register).into_iter().flatten().filter(|(o, w, _)| o + w <= width).copied().collect();
        if pieces.is_empty() {
            facts.record_store(address, width, Value::Unknown);
        }
        for (offset, piece_width, value) in pieces {
            facts.record_store(address + u64::from(offset), piece_width, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_copies_what_was_stored_on_the_stack_and_later_stores_replace_earlier_ones() {
        let mut memory = BlockMemory::default();
        memory.store(16, 4, Value::Const(1));
        memory.store(24, 8, Value::Address(0x1000));
        memory.load_vector(3, Some(16));
        memory.store(16, 4, Value::Const(2));
        memory.load_vector(4, Some(16));
        memory.store_vector(64, 16, 3);
        memory.load_vector(5, Some(64));
        assert_eq!(memory.vector(5), Some(&vec![(0, 4, Value::Const(1)), (8, 8, Value::Address(0x1000))]));
        assert_eq!(memory.vector(4), Some(&vec![(0, 4, Value::Const(2)), (8, 8, Value::Address(0x1000))]));
        let mut facts = CodeFacts::default();
        memory.record_vector_store(&mut facts, 0x2000, 16, 5);
        assert_eq!(facts.stored(0x2000, 4), Some(Value::Const(1)));
        assert_eq!(facts.stored(0x2008, 8), Some(Value::Address(0x1000)));
        memory.forget_stack();
        memory.load_vector(6, Some(16));
        assert_eq!(memory.vector(6), Some(&Vec::new()));
    }
}
