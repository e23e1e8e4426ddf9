//! Control flow inside one function, for any instruction set: basic blocks
//! from how each instruction continues, and a forward data-flow fixpoint
//! that gives each block the register values every path into it agrees on.
//! A value known on one path and different (or unknown) on another is
//! unknown, so what the analysis concludes holds on every path.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::code::Value;

/// How control leaves one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continues {
    /// To the next instruction (calls included: they come back).
    Next,
    /// To `target` only (an unconditional jump).
    Jump(u64),
    /// To `target` or to the next instruction.
    Branch(u64),
    /// Nowhere in this function: a return, a trap, an indirect jump, a tail call.
    Leaves,
}

/// One instruction as the flow sees it.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub address: u64,
    pub continues: Continues,
}

/// A straight run of instructions (indexes into the function's list) and
/// the blocks it may continue to.
#[derive(Clone, Debug)]
pub struct Block {
    pub first: usize,
    /// One past the last instruction.
    pub end: usize,
    pub successors: Vec<usize>,
}

/// The blocks of a function whose instructions are `steps`, in address order.
pub fn blocks(steps: &[Step]) -> Vec<Block> {
    if steps.is_empty() {
        return Vec::new();
    }
    let index_of: BTreeMap<u64, usize> = steps.iter().enumerate().map(|(i, s)| (s.address, i)).collect();
    let mut leaders = BTreeSet::from([0]);
    for (i, step) in steps.iter().enumerate() {
        match step.continues {
            Continues::Next => {}
            Continues::Jump(target) | Continues::Branch(target) => {
                leaders.extend(index_of.get(&target).copied());
                leaders.insert(i + 1);
            }
            Continues::Leaves => {
                leaders.insert(i + 1);
            }
        }
    }
    leaders.retain(|&i| i < steps.len());
    let starts: Vec<usize> = leaders.into_iter().collect();
    let block_of: BTreeMap<usize, usize> = starts.iter().enumerate().map(|(b, &i)| (i, b)).collect();
    starts
        .iter()
        .enumerate()
        .map(|(b, &first)| {
            let end = starts.get(b + 1).copied().unwrap_or(steps.len());
            let last = steps[end - 1];
            let fall_through = (end < steps.len()).then(|| b + 1);
            let to = |target: u64| index_of.get(&target).and_then(|i| block_of.get(i)).copied();
            let successors = match last.continues {
                Continues::Next => fall_through.into_iter().collect(),
                Continues::Jump(target) => to(target).into_iter().collect(),
                Continues::Branch(target) => to(target).into_iter().chain(fall_through).collect(),
                Continues::Leaves => Vec::new(),
            };
            Block { first, end, successors }
        })
        .collect()
}

/// What the fixpoint needs of a state: where two paths meet, what both agree on.
pub trait Join: Clone + PartialEq {
    fn join(&self, other: &Self) -> Self;
}

/// Register values at the start of a block, joined one by one.
#[derive(Clone, PartialEq, Debug)]
pub struct Registers<const N: usize>(pub [Value; N]);

impl<const N: usize> Join for Registers<N> {
    fn join(&self, other: &Self) -> Self {
        Registers(std::array::from_fn(|i| if self.0[i] == other.0[i] { self.0[i] } else { Value::Unknown }))
    }
}

/// The state at the start of each block reachable from the first one
/// (`None`: unreachable), given the state at the function's entry and what
/// running a block does to a state. Joins only lose knowledge, so this ends;
/// `max_rounds` bounds it anyway.
pub fn fixpoint<S: Join>(blocks: &[Block], entry: S, mut transfer: impl FnMut(&S, &Block) -> S) -> Vec<Option<S>> {
    let mut states: Vec<Option<S>> = vec![None; blocks.len()];
    if blocks.is_empty() {
        return states;
    }
    states[0] = Some(entry);
    let mut queue = VecDeque::from([0]);
    let mut queued = vec![false; blocks.len()];
    queued[0] = true;
    let max_rounds = blocks.len().saturating_mul(64).max(1024);
    let mut rounds = 0;
    while let Some(b) = queue.pop_front() {
        queued[b] = false;
        rounds += 1;
        let Some(state) = states[b].clone() else { continue };
        let out = transfer(&state, &blocks[b]);
        for &next in &blocks[b].successors {
            let joined = match &states[next] {
                Some(existing) => existing.join(&out),
                None => out.clone(),
            };
            if states[next].as_ref() != Some(&joined) {
                states[next] = Some(joined);
                if !queued[next] {
                    queued[next] = true;
                    queue.push_back(next);
                }
            }
        }
        if rounds > max_rounds {
            break;
        }
    }
    states
}

/// Runs `run_block` over the blocks to a fixpoint from `entry`, then once
/// more over each reachable block with its final state. The rounds before saw
/// states that were not final yet, so `start_final_pass` first discards what
/// they found: only the last pass counts.
pub fn run_to_fixpoint<T, S: Join>(
    blocks: &[Block],
    entry: S,
    tracker: &mut T,
    mut run_block: impl FnMut(&mut T, &S, &Block) -> S,
    start_final_pass: impl FnOnce(&mut T),
) {
    let states = fixpoint(blocks, entry, |state, block| run_block(tracker, state, block));
    start_final_pass(tracker);
    for (block, state) in blocks.iter().zip(&states) {
        if let Some(state) = state {
            run_block(tracker, state, block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, Debug)]
    struct Known(Option<u32>);

    impl Join for Known {
        fn join(&self, other: &Self) -> Self {
            Known(if self == other { self.0 } else { None })
        }
    }

    fn step(address: u64, continues: Continues) -> Step {
        Step { address, continues }
    }

    /// 0: set; 1: branch back to 0; 2: leaves; 3: unreachable.
    fn a_loop_then_code_after_a_return() -> [Step; 4] {
        [
            step(0, Continues::Next),
            step(1, Continues::Branch(0)),
            step(2, Continues::Leaves),
            step(3, Continues::Leaves),
        ]
    }

    #[test]
    fn a_diamond_keeps_what_both_arms_agree_on() {
        // 0: branch to 3; 1: (set 1); 2: jump 4; 3: (set 2 or 1); 4: end
        let steps = [
            step(0, Continues::Branch(3)),
            step(1, Continues::Next),
            step(2, Continues::Jump(4)),
            step(3, Continues::Next),
            step(4, Continues::Leaves),
        ];
        let blocks = blocks(&steps);
        assert_eq!(blocks.len(), 4);
        for (value_on_right, expected) in [(1, Some(1)), (2, None)] {
            let states = fixpoint(&blocks, Known(None), |state, block| match steps[block.first].address {
                1 => Known(Some(1)),
                3 => Known(Some(value_on_right)),
                _ => state.clone(),
            });
            assert_eq!(states[3], Some(Known(expected)));
        }
    }

    #[test]
    fn a_loop_reaches_a_fixpoint_and_code_after_a_return_is_unreachable() {
        let steps = a_loop_then_code_after_a_return();
        let blocks = blocks(&steps);
        let states = fixpoint(&blocks, Known(Some(7)), |_, _| Known(Some(7)));
        assert_eq!(states[0], Some(Known(Some(7))));
        assert!(states.last().unwrap().is_none());
    }

    #[test]
    fn the_final_pass_runs_each_reachable_block_once_with_its_final_state() {
        // The loop at 0..=1 runs until its state settles (the entry's 1 joined
        // with the 2 it comes back with: unknown); then the final pass runs the
        // blocks at 0 and at 2 once each, with their settled states. The
        // block at 3 is never reached.
        let steps = a_loop_then_code_after_a_return();
        let blocks = blocks(&steps);
        let mut seen: Vec<(u64, Known)> = Vec::new();
        run_to_fixpoint(
            &blocks,
            Known(Some(1)),
            &mut seen,
            |seen, state, block| {
                seen.push((steps[block.first].address, state.clone()));
                Known(Some(2))
            },
            Vec::clear,
        );
        assert_eq!(seen, [(0, Known(None)), (2, Known(Some(2)))]);
    }
}
