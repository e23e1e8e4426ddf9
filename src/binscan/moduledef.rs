//! Finding and reading a `PyModuleDef` and its slot arrays in an image.
//!
//! Layouts and slot numbers: cpython-reference.md, sections A1-A3. A word is
//! a pointer only where a relocation says so, which keeps `PyType_Slot`
//! arrays and lld's zeroed words from passing for module slots.

use super::code::{CodeFacts, Value};
use super::image::Image;

/// Offsets inside `PyModuleDef` for one object-header layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefLayout {
    pub free_threaded: bool,
    pub pointer_size: u8,
    header_words: [u64; 4],
    pub m_name: u64,
    m_size: u64,
    pub m_slots: u64,
}

impl DefLayout {
    /// The layout for a pointer size and build kind (A3: 64-bit measured on
    /// 3.13; 32-bit from the headers). Only the object header's size differs:
    /// `ob_type` is its last pointer, `m_init`, `m_index` and `m_copy` follow
    /// it, then `m_name`, `m_doc`, `m_size`, `m_methods` and `m_slots`, one
    /// pointer-sized word each.
    pub fn new(pointer_size: u8, free_threaded: bool) -> Self {
        let word = u64::from(pointer_size);
        let header = match (pointer_size, free_threaded) {
            (8, false) => 16,
            (8, true) => 32,
            (_, false) => 8,
            (_, true) => 20,
        };
        let m_name = header + 3 * word;
        DefLayout {
            free_threaded,
            pointer_size,
            header_words: [header - word, header, header + word, header + 2 * word],
            m_name,
            m_size: m_name + 2 * word,
            m_slots: m_name + 4 * word,
        }
    }
}

/// A `PyModuleDef` found in the image.
#[derive(Clone, Debug)]
pub struct ModuleDef {
    pub address: u64,
    pub layout: DefLayout,
    pub name: String,
    /// Where `m_slots` points, if it is set.
    pub slots_address: Option<u64>,
}

/// One entry of a slot array: its id and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub id: u32,
    pub value: SlotValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotValue {
    Int(u64),
    Pointer(u64),
    Unknown,
}

/// Reads memory through the image, with values that code stores at run time laid over it.
pub struct Memory<'i, 'a> {
    pub image: &'i Image<'a>,
    pub stores: Option<&'i CodeFacts>,
    /// The memory is zeros in the file that code fills in: only what a
    /// relocation or a decoded store puts there is known, and padding is
    /// whatever the code copied.
    pub run_time_only: bool,
}

impl<'i, 'a> Memory<'i, 'a> {
    /// The file's bytes with `stores` laid over them.
    pub fn new(image: &'i Image<'a>, stores: Option<&'i CodeFacts>) -> Self {
        Memory { image, stores, run_time_only: false }
    }

    fn value(&self, address: u64, size: u8) -> SlotValue {
        if let Some(target) = self.image.pointer(address) {
            return SlotValue::Pointer(target);
        }
        if let Some(stored) = self.stores.and_then(|f| f.stored(address, size)) {
            return match stored {
                Value::Const(c) => SlotValue::Int(c),
                Value::Address(a) => SlotValue::Pointer(a),
                _ => SlotValue::Unknown,
            };
        }
        if self.run_time_only {
            return SlotValue::Unknown;
        }
        self.image.word(address, size).map_or(SlotValue::Unknown, SlotValue::Int)
    }

    fn int(&self, address: u64, size: u8) -> Option<u64> {
        if self.image.is_relocated(address) {
            return None;
        }
        match self.stores.and_then(|f| f.stored(address, size)) {
            Some(Value::Const(c)) => Some(c),
            Some(_) => None,
            None if self.run_time_only => None,
            None => self.image.word(address, size),
        }
    }

    /// Whether the padding after a slot id at `address` is as a slot array has it.
    fn padding_fits(&self, address: u64) -> bool {
        self.run_time_only || self.int(address, 4) == Some(0)
    }

    /// Whether code stores anything inside `[start, start + len)`.
    pub fn has_stores(&self, start: u64, len: u64) -> bool {
        self.stores.is_some_and(|f| f.stores.range(start..start + len).next().is_some())
    }
}

/// Reads a `PyModuleDef` at `address` if it looks like one under `layout`.
pub fn read_def(image: &Image<'_>, address: u64, layout: DefLayout) -> Option<ModuleDef> {
    let ps = layout.pointer_size;
    for offset in layout.header_words {
        if image.is_relocated(address + offset) || image.word(address + offset, ps)? != 0 {
            return None;
        }
    }
    let name = image.c_str(image.pointer(address + layout.m_name)?)?;
    let valid_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if !valid_name {
        return None;
    }
    let size = image.word(address + layout.m_size, ps)?;
    let size = if ps == 8 { size as i64 } else { i64::from(size as u32 as i32) };
    if !(-1..1 << 24).contains(&size) {
        return None;
    }
    let slots_word = address + layout.m_slots;
    let slots_address = match image.pointer(slots_word) {
        Some(target) => Some(target),
        None if image.word(slots_word, ps)? == 0 => None,
        None => return None,
    };
    Some(ModuleDef { address, layout, name: name.to_string(), slots_address })
}

/// Every `PyModuleDef` whose `m_name` points at `name` (short or dotted), for either build kind.
pub fn defs_named(image: &Image<'_>, short_name: &str) -> Vec<ModuleDef> {
    let dotted = format!(".{short_name}");
    let mut found = Vec::new();
    for (&word, &target) in &image.pointers {
        let Some(text) = image.c_str(target) else { continue };
        if text != short_name && !text.ends_with(&dotted) {
            continue;
        }
        for free_threaded in [false, true] {
            let layout = DefLayout::new(image.pointer_size, free_threaded);
            if let Some(def) = word.checked_sub(layout.m_name).and_then(|at| read_def(image, at, layout)) {
                found.push(def);
            }
        }
    }
    found
}

/// Module slot ids that may appear in a `PyModuleDef_Slot` array, any version.
fn is_module_slot_id(id: u32) -> bool {
    matches!(id, 1..=4 | 84..=87 | 92 | 94 | 100..=110)
}

/// Slot ids that hold plain integers (their value must not be a pointer).
fn is_integer_slot(id: u32) -> bool {
    matches!(id, 3 | 4 | 86 | 87)
}

/// Reads a `PyModuleDef_Slot[]` ({int, pointer}) at `address`, following 3.15's nested arrays.
/// `None` when the entries do not look like module slots.
pub fn read_slots(memory: &Memory<'_, '_>, address: u64) -> Option<Vec<Slot>> {
    let ps = memory.image.pointer_size;
    let stride = u64::from(ps) * 2;
    let mut slots = Vec::new();
    for index in 0..32 {
        let entry = address + index * stride;
        let id = memory.int(entry, 4)? as u32;
        let value = memory.value(entry + u64::from(ps), ps);
        if id == 0 {
            return (value == SlotValue::Int(0)).then_some(slots);
        }
        if !is_module_slot_id(id) || (is_integer_slot(id) && matches!(value, SlotValue::Pointer(_))) {
            return None;
        }
        if ps == 8 && !memory.padding_fits(entry + 4) {
            return None;
        }
        match (id, value) {
            (92, SlotValue::Pointer(nested)) => slots.extend(read_pyslots(memory, nested)?),
            (94, SlotValue::Pointer(nested)) => slots.extend(read_slots(memory, nested)?),
            _ => slots.push(Slot { id, value }),
        }
    }
    None
}

/// Reads a 3.15 `PySlot[]` (PEP 820: u16 id, u16 flags, u32 reserved, 8-byte value).
pub fn read_pyslots(memory: &Memory<'_, '_>, address: u64) -> Option<Vec<Slot>> {
    let mut slots = Vec::new();
    for index in 0..64 {
        let entry = address + index * 16;
        let head = memory.int(entry, 4)?;
        let id = (head & 0xffff) as u32;
        if memory.int(entry + 4, 4)? != 0 {
            return None;
        }
        let value = memory.value(entry + 8, 8);
        if id == 0 {
            return Some(slots);
        }
        match (id, value) {
            (92, SlotValue::Pointer(nested)) => slots.extend(read_pyslots(memory, nested)?),
            (94, SlotValue::Pointer(nested)) => slots.extend(read_slots(memory, nested)?),
            _ if id == 0xffff => return None,
            _ => slots.push(Slot { id, value }),
        }
    }
    None
}

/// Whether the slot array at `address` is empty as the file holds it: its
/// first entry is `{0, NULL}` with no relocation. Either the module has no
/// slots, or code fills the array in at run time.
pub fn empty_in_file(image: &Image<'_>, address: u64) -> bool {
    let ps = u64::from(image.pointer_size);
    image.word(address, 4) == Some(0)
        && image.word(address + ps, image.pointer_size) == Some(0)
        && !image.is_relocated(address + ps)
}

#[cfg(test)]
mod tests {
    use super::DefLayout;

    #[test]
    fn layouts_match_the_offsets_in_the_reference() {
        // cpython-reference.md A3: (ob_type, m_init, m_index, m_copy), m_name, m_size, m_slots.
        for (pointer_size, free_threaded, header_words, m_name, m_size, m_slots) in [
            (8, false, [8, 16, 24, 32], 40, 56, 72),
            (8, true, [24, 32, 40, 48], 56, 72, 88),
            (4, false, [4, 8, 12, 16], 20, 28, 36),
            (4, true, [16, 20, 24, 28], 32, 40, 48),
        ] {
            let layout = DefLayout::new(pointer_size, free_threaded);
            let found = (layout.header_words, layout.m_name, layout.m_size, layout.m_slots);
            assert_eq!(
                found,
                (header_words, m_name, m_size, m_slots),
                "{pointer_size}-byte, free-threaded: {free_threaded}"
            );
        }
    }
}
