//! A small nondeterministic automaton over characters, simulated breadth
//! first (all live states at once).
//!
//! This is what keeps matching linear: a backtracking matcher can take
//! exponential time on patterns like `**/**/**/a*a*a*a*b` against a long
//! path that almost matches, while stepping a set of states costs at most
//! `text length x (states + edges)` whatever the input.

use crate::char_set::CharMatcher;

pub(crate) type StateId = usize;

#[derive(Debug, Clone, Default)]
struct State {
    /// States reachable without consuming a character.
    epsilon: Vec<StateId>,
    /// States reachable by consuming one character the matcher accepts.
    edges: Vec<(CharMatcher, StateId)>,
}

/// A compiled automaton; state 0 is the start.
#[derive(Debug, Clone)]
pub(crate) struct Nfa {
    states: Vec<State>,
    accept: StateId,
}

/// Builds an [`Nfa`] state by state.
#[derive(Debug)]
pub(crate) struct NfaBuilder {
    states: Vec<State>,
}

impl NfaBuilder {
    /// A builder holding just the start state, 0.
    pub(crate) fn new() -> Self {
        NfaBuilder {
            states: vec![State::default()],
        }
    }

    pub(crate) const START: StateId = 0;

    pub(crate) fn add_state(&mut self) -> StateId {
        self.states.push(State::default());
        self.states.len() - 1
    }

    pub(crate) fn add_edge(&mut self, from: StateId, matcher: CharMatcher, to: StateId) {
        if let Some(state) = self.states.get_mut(from) {
            state.edges.push((matcher, to));
        }
    }

    pub(crate) fn add_epsilon(&mut self, from: StateId, to: StateId) {
        if let Some(state) = self.states.get_mut(from) {
            state.epsilon.push(to);
        }
    }

    pub(crate) fn finish(self, accept: StateId) -> Nfa {
        Nfa {
            states: self.states,
            accept,
        }
    }
}

impl Nfa {
    /// Whether the whole of `text` is accepted.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let mut current = StateSet::with_capacity(self.states.len());
        let mut next = StateSet::with_capacity(self.states.len());
        current.insert_with_closure(self, NfaBuilder::START);
        for c in text.chars() {
            if current.is_empty() {
                return false;
            }
            next.clear();
            for &state in &current.members {
                let Some(state) = self.states.get(state) else {
                    continue;
                };
                for (matcher, to) in &state.edges {
                    if matcher.accepts(c) {
                        next.insert_with_closure(self, *to);
                    }
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        current.contains(self.accept)
    }
}

/// A set of states with O(1) membership and cheap clearing.
struct StateSet {
    members: Vec<StateId>,
    present: Vec<bool>,
    stack: Vec<StateId>,
}

impl StateSet {
    fn with_capacity(states: usize) -> Self {
        StateSet {
            members: Vec::with_capacity(states),
            present: vec![false; states],
            stack: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn contains(&self, state: StateId) -> bool {
        self.present.get(state).copied().unwrap_or(false)
    }

    fn clear(&mut self) {
        for &member in &self.members {
            if let Some(slot) = self.present.get_mut(member) {
                *slot = false;
            }
        }
        self.members.clear();
    }

    /// Adds `state` and everything reachable from it through epsilon edges.
    fn insert_with_closure(&mut self, nfa: &Nfa, state: StateId) {
        self.stack.push(state);
        while let Some(state) = self.stack.pop() {
            match self.present.get_mut(state) {
                Some(slot) if !*slot => *slot = true,
                _ => continue,
            }
            self.members.push(state);
            if let Some(node) = nfa.states.get(state) {
                self.stack.extend(node.epsilon.iter().copied());
            }
        }
    }
}
