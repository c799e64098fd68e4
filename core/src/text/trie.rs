//! A byte trie of the patterns that may only match from the start of a word (whole-word and prefix entries),
//! walked from each word start of a text instead of scanning every byte with an automaton.
//!
//! Most lexicon entries match whole words or word prefixes, and an overlapping Aho-Corasick scan reports every
//! place a pattern occurs only for the engine to drop those that do not start a word. Walking a trie from the
//! word starts alone finds exactly the occurrences that start a word, and the walk stops at the first byte no
//! pattern continues with: a few steps per word for ordinary text.

use std::collections::HashMap;

use super::normalize::{Class, raw_class};

/// A trie as lists of children over byte columns: the first stage of [`WordTrie`] and [`WordDfa`].
struct PlainTrie {
    /// Byte → column (0: no pattern has this byte).
    columns: Vec<u8>,
    /// Column → byte (column 0 stands for every other byte).
    byte_of: Vec<u8>,
    /// Per node (the root is node 0): its children as (column, node).
    children: Vec<Vec<(u8, usize)>>,
    /// Per node: the ids of the patterns ending there.
    ends_of: Vec<Vec<u32>>,
}

impl PlainTrie {
    /// An empty trie whose columns are the bytes of `strings`. `None` beyond 255 distinct bytes.
    fn new<'a>(strings: impl IntoIterator<Item = &'a [u8]>) -> Option<PlainTrie> {
        let mut columns = vec![0u8; 256];
        let mut byte_of = vec![0u8];
        for bytes in strings {
            for &b in bytes {
                let slot = columns.get_mut(usize::from(b))?;
                if *slot == 0 {
                    *slot = u8::try_from(byte_of.len()).ok()?;
                    byte_of.push(b);
                }
            }
        }
        Some(PlainTrie {
            columns,
            byte_of,
            children: vec![Vec::new()],
            ends_of: vec![Vec::new()],
        })
    }

    /// The node of `bytes` (every byte one of the trie's columns), added with its missing ancestors.
    fn insert(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut node = 0usize;
        for &b in bytes {
            let column = *self.columns.get(usize::from(b))?;
            let known = self
                .children
                .get(node)?
                .iter()
                .find(|&&(c, _)| c == column)
                .map(|&(_, n)| n);
            node = match known {
                Some(n) => n,
                None => {
                    let new = self.children.len();
                    self.children.get_mut(node)?.push((column, new));
                    self.children.push(Vec::new());
                    self.ends_of.push(Vec::new());
                    new
                }
            };
        }
        Some(node)
    }
}

/// Flag in a cell's `base`: patterns end at this node.
const HAS_OUTPUT: u32 = 1 << 31;
/// A free cell's `check`.
const FREE: u32 = u32::MAX;

/// The trie as a double array: the child of the node in cell `n` by column `c` is in cell `base(n) + c`, and is
/// a child of `n` only if that cell's `check` is `n`. About 8 bytes a node (a dense table of the same trie takes
/// 33 columns × 4 bytes a node), so the walks stay in the processor's caches.
#[derive(Debug, Default)]
pub(super) struct WordTrie {
    /// Byte → column (0: no pattern has this byte).
    columns: Vec<u8>,
    /// The cells; the root is cell 0.
    cells: Vec<Cell>,
    /// Per cell: the range of `outputs` of the patterns ending at its node.
    ends: Vec<(u32, u32)>,
    /// Pattern ids, grouped by node.
    outputs: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Where this node's children start (with [`HAS_OUTPUT`]).
    base: u32,
    /// The parent's cell, or [`FREE`].
    check: u32,
}

impl WordTrie {
    /// A trie of `patterns` (byte strings with their ids). Returns `None` when there are none, or when they
    /// need more than 255 distinct bytes or 2³¹ cells (neither happens with real lexicons).
    pub(super) fn build(patterns: &[(&[u8], u32)]) -> Option<WordTrie> {
        if patterns.is_empty() {
            return None;
        }
        let mut plain = PlainTrie::new(patterns.iter().map(|&(bytes, _)| bytes))?;
        for &(bytes, id) in patterns {
            let node = plain.insert(bytes)?;
            plain.ends_of.get_mut(node)?.push(id);
        }
        let PlainTrie {
            columns,
            byte_of,
            mut children,
            ends_of,
        } = plain;
        // Then each node's children placed breadth first at the lowest base where all of them fit.
        let mut cells = vec![
            Cell {
                base: 0,
                check: FREE,
            };
            byte_of.len()
        ];
        let mut cell_of = vec![0u32; children.len()];
        let mut queue = vec![0usize];
        let mut first_free = 1usize;
        let mut k = 0;
        while let Some(&node) = queue.get(k) {
            k += 1;
            let kids = children.get_mut(node)?;
            kids.sort_unstable();
            let Some(&(lowest, _)) = kids.first() else {
                continue;
            };
            while cells.get(first_free).is_some_and(|c| c.check != FREE) {
                first_free += 1;
            }
            // The lowest base that fits among the next few hundred; else past the end (always fits), which keeps
            // building linear where the free cells near the front are too scattered.
            let fits = |base: usize| {
                kids.iter().all(|&(c, _)| {
                    cells
                        .get(base + usize::from(c))
                        .is_none_or(|cell| cell.check == FREE)
                })
            };
            let from = first_free.saturating_sub(usize::from(lowest)).max(1);
            let base = (from..from + 512)
                .find(|&base| fits(base))
                .unwrap_or(cells.len());
            let top = base + usize::from(kids.last()?.0);
            if top >= cells.len() {
                cells.resize(
                    top + 1,
                    Cell {
                        base: 0,
                        check: FREE,
                    },
                );
            }
            let parent = *cell_of.get(node)?;
            cells.get_mut(parent as usize)?.base = u32::try_from(base).ok()?;
            for &(c, child) in kids.iter() {
                let at = base + usize::from(c);
                cells.get_mut(at)?.check = parent;
                *cell_of.get_mut(child)? = u32::try_from(at).ok()?;
                queue.push(child);
            }
        }
        if cells.len() >= HAS_OUTPUT as usize {
            return None;
        }
        let mut ends = vec![(0u32, 0u32); cells.len()];
        let mut outputs = Vec::new();
        for (node, ids) in ends_of.iter().enumerate() {
            if ids.is_empty() {
                continue;
            }
            let at = *cell_of.get(node)? as usize;
            let start = u32::try_from(outputs.len()).ok()?;
            outputs.extend(ids.iter().copied());
            *ends.get_mut(at)? = (start, u32::try_from(outputs.len()).ok()?);
            cells.get_mut(at)?.base |= HAS_OUTPUT;
        }
        Some(WordTrie {
            columns,
            cells,
            ends,
            outputs,
        })
    }

    /// Calls `found(end, id)` for every pattern equal to `text[start..end]`, shortest first.
    pub(super) fn walk(&self, text: &[u8], start: usize, found: impl FnMut(usize, u32)) {
        self.walk_from(0, text, start, found);
    }

    /// The node that `bytes` lead to from the root, if any.
    pub(super) fn descend(&self, bytes: &[u8]) -> Option<u32> {
        let mut node = 0u32;
        for &b in bytes {
            node = self.child(node, b)?;
        }
        Some(node)
    }

    /// Whether a pattern has the byte `b`.
    pub(super) fn has_byte(&self, b: u8) -> bool {
        self.columns.get(usize::from(b)).is_some_and(|&c| c != 0)
    }

    /// The child of `node` by the byte `b`, if any.
    pub(super) fn child(&self, node: u32, b: u8) -> Option<u32> {
        let column = self.columns.get(usize::from(b)).copied().unwrap_or(0);
        if column == 0 {
            return None;
        }
        let base = self.cells.get(node as usize)?.base & !HAS_OUTPUT;
        let at = base as usize + usize::from(column);
        match self.cells.get(at) {
            Some(cell) if cell.check == node => u32::try_from(at).ok(),
            _ => None,
        }
    }

    /// [`WordTrie::walk`] from `node` (reached by the text before `from`): calls `found(end, id)` for every
    /// pattern whose node is reached by `text[from..end]`.
    pub(super) fn walk_from(
        &self,
        node: u32,
        text: &[u8],
        from: usize,
        found: impl FnMut(usize, u32),
    ) {
        let rest = text.get(from..).unwrap_or_default();
        let bytes = rest.iter().enumerate().map(|(k, &b)| (from + k + 1, b));
        self.walk_bytes(node, bytes, found);
    }

    /// [`WordTrie::walk_from`] over an original ASCII text instead of its matching form, folded as
    /// [`RawDfa`](super::raw::RawDfa) folds it: letters lower-cased, a letter repeating the one before skipped,
    /// a run of separators one space. Stops at a byte the fold does not cover (non-ASCII, a leetspeak symbol).
    /// `found(end, id)` gets the end in the original text.
    pub(super) fn walk_raw(
        &self,
        node: u32,
        text: &[u8],
        from: usize,
        found: impl FnMut(usize, u32),
    ) {
        let rest = text.get(from..).unwrap_or_default();
        // The last byte of the form: the walk starts after the space that follows a phrase's first word.
        let mut prev = b' ';
        let bytes = rest
            .iter()
            .enumerate()
            .map_while(move |(k, &b)| {
                let c = match raw_class(b) {
                    Class::Letter => {
                        let c = b.to_ascii_lowercase();
                        if c == prev {
                            return Some(None);
                        }
                        c
                    }
                    Class::Digit => b,
                    Class::Symbol => return None,
                    Class::Separator if prev == b' ' => return Some(None),
                    Class::Separator => b' ',
                };
                // Digits are not collapsed.
                prev = if b.is_ascii_digit() { 0 } else { c };
                Some(Some((from + k + 1, c)))
            })
            .flatten();
        self.walk_bytes(node, bytes, found);
    }

    /// Walks from `node` along `bytes` (each with the end it reports), calling `found(end, id)` for every pattern
    /// whose node is reached, until a byte no pattern continues with.
    fn walk_bytes(
        &self,
        node: u32,
        bytes: impl Iterator<Item = (usize, u8)>,
        mut found: impl FnMut(usize, u32),
    ) {
        let mut node = node;
        let mut base = self.cells.get(node as usize).map_or(0, |c| c.base);
        for (end, b) in bytes {
            let column = self.columns.get(usize::from(b)).copied().unwrap_or(0);
            if column == 0 {
                return;
            }
            let at = (base & !HAS_OUTPUT) as usize + usize::from(column);
            match self.cells.get(at) {
                Some(cell) if cell.check == node => {
                    node = at as u32;
                    base = cell.base;
                }
                _ => return,
            }
            if base & HAS_OUTPUT != 0
                && let Some(&(first, last)) = self.ends.get(at)
            {
                let ids = self
                    .outputs
                    .get(first as usize..last as usize)
                    .unwrap_or_default();
                for &id in ids {
                    found(end, id);
                }
            }
        }
    }

    /// Heap memory, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        self.columns.len() + self.cells.len() * 8 + self.ends.len() * 8 + self.outputs.len() * 4
    }
}

/// Flag in a [`WordDfa`] transition: patterns end at the state it leads to.
const DFA_OUTPUT: u16 = 1 << 15;
/// Flag in a [`WordDfa`] transition on a space: the word it ends is the first word of a phrase.
pub(super) const DFA_PHRASE: u16 = 1 << 14;
/// The state part of a [`WordDfa`] transition.
pub(super) const DFA_STATE: u16 = DFA_PHRASE - 1;

/// What a [`WordDfa`] scan reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WordEvent {
    /// The pattern `id` equals `text[start..end]`, and `start` starts a word.
    Match { start: usize, end: usize, id: u32 },
    /// The word at `start`, with the space after it, leads to the node `node` of the phrase trie; the text goes
    /// on at `next`.
    PhraseStart {
        start: usize,
        node: u32,
        next: usize,
    },
}

/// A deterministic automaton of the one-word patterns that may only match from a word start, run over the whole
/// text in one pass: one table lookup per byte, no branch that depends on the text but for the rare reports.
///
/// It is the trie of those patterns with two extra states: *dead* (the current word can no longer match; stay
/// until the next space) and the root, where every space leads. Phrases (patterns with spaces) are not in it:
/// their first words are, and a space after one is reported so the caller can walk the phrase trie from there.
#[derive(Debug)]
pub(super) struct WordDfa {
    /// Byte → column (0: no pattern has this byte).
    pub(super) columns: Vec<u8>,
    /// Columns per state, as a power of two: a state's row starts at its number shifted left by this.
    pub(super) shift: u32,
    /// `states × 2^shift` transitions, each the next state's number with [`DFA_OUTPUT`] and [`DFA_PHRASE`] (two
    /// bytes each, so that more of the table stays in the fastest cache). State 0 is dead, state 1 the root.
    pub(super) table: Vec<u16>,
    /// Per state: the range of `outputs` of the patterns ending there.
    pub(super) ends: Vec<(u32, u32)>,
    /// Pattern ids, grouped by state, each with its length for an `anywhere` pattern (0 for a pattern that
    /// starts its word).
    pub(super) outputs: Vec<(u32, u32)>,
    /// Per state that is the first word of a phrase: the phrase trie's node for that word and a space.
    pub(super) phrase_nodes: Vec<u32>,
}

/// The automaton of the `anywhere` patterns of a [`WordDfa`] (a handful: worked out by brute force): its states are
/// the prefixes of the patterns, and a state's next on a byte is the longest suffix of the prefix and the byte
/// that is itself a prefix.
struct Anywhere {
    prefixes: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, usize>,
    /// Per state: the patterns it ends with, as (id, length).
    ends: Vec<Vec<(u32, u32)>>,
}

impl Anywhere {
    fn new(patterns: &[(&[u8], u32)]) -> Option<Anywhere> {
        let mut prefixes: Vec<Vec<u8>> = vec![Vec::new()];
        let mut index: HashMap<Vec<u8>, usize> = HashMap::from([(Vec::new(), 0)]);
        for (bytes, _) in patterns {
            for end in 1..=bytes.len() {
                let prefix = bytes.get(..end)?.to_vec();
                if !index.contains_key(&prefix) {
                    index.insert(prefix.clone(), prefixes.len());
                    prefixes.push(prefix);
                }
            }
        }
        let mut ends = Vec::with_capacity(prefixes.len());
        for prefix in &prefixes {
            let mut found = Vec::new();
            for &(bytes, id) in patterns {
                if prefix.ends_with(bytes) {
                    found.push((id, u32::try_from(bytes.len()).ok()?));
                }
            }
            ends.push(found);
        }
        Some(Anywhere {
            prefixes,
            index,
            ends,
        })
    }

    /// The state after `state` reads `b`.
    fn next(&self, state: usize, b: u8) -> Option<usize> {
        let mut text = self.prefixes.get(state)?.clone();
        text.push(b);
        (0..=text.len()).find_map(|k| self.index.get(text.get(k..)?).copied())
    }
}

impl WordDfa {
    /// The automaton of `words` (one-word patterns with their ids, matched from word starts), `phrase_firsts`
    /// (the first words of the phrases) and `anywhere` (patterns without spaces matched at any position). `None`
    /// when all are empty, when an `anywhere` pattern has a space, or beyond 16,384 states (the built-in lexicons
    /// need about 3,500; the engine then scans for these patterns with its other automata).
    pub(super) fn build(
        words: &[(&[u8], u32)],
        phrase_firsts: &[(&[u8], u32)],
        anywhere: &[(&[u8], u32)],
    ) -> Option<WordDfa> {
        if words.is_empty() && phrase_firsts.is_empty() && anywhere.is_empty() {
            return None;
        }
        if anywhere
            .iter()
            .any(|(bytes, _)| bytes.is_empty() || bytes.contains(&b' '))
        {
            return None;
        }
        let all = words
            .iter()
            .chain(anywhere)
            .map(|&(w, _)| w)
            .chain(phrase_firsts.iter().map(|&(w, _)| w));
        let mut plain = PlainTrie::new(all.chain(std::iter::once(&b" "[..])))?;
        let stride = plain.byte_of.len();
        let shift = stride.next_power_of_two().trailing_zeros();
        let space = usize::from(*plain.columns.get(usize::from(b' '))?);
        // The trie of the word-start patterns and phrase first words.
        let mut word_nodes = Vec::with_capacity(words.len());
        for &(bytes, id) in words {
            word_nodes.push((plain.insert(bytes)?, id));
        }
        let mut first_nodes = Vec::with_capacity(phrase_firsts.len());
        for &(bytes, node) in phrase_firsts {
            first_nodes.push((plain.insert(bytes)?, node));
        }
        let PlainTrie {
            columns,
            byte_of,
            children,
            mut ends_of,
        } = plain;
        let mut phrase_first: Vec<Option<u32>> = vec![None; children.len()];
        for (node, id) in word_nodes {
            ends_of.get_mut(node)?.push(id);
        }
        for (node, phrase_node) in first_nodes {
            *phrase_first.get_mut(node)? = Some(phrase_node);
        }
        let anywhere = Anywhere::new(anywhere)?;
        // The product of the trie (or dead) and the automaton of the `anywhere` patterns, breadth first from the
        // root. Within a word the second is a function of the first's path, so there are about as many states as
        // trie nodes (plus dead with each state of the second).
        type Key = (Option<usize>, usize);
        let mut number: HashMap<Key, usize> = HashMap::new();
        let mut keys: Vec<Key> = Vec::new();
        let mut state_of = |key: Key, keys: &mut Vec<Key>| -> usize {
            *number.entry(key).or_insert_with(|| {
                keys.push(key);
                keys.len() - 1
            })
        };
        let dead = state_of((None, 0), &mut keys);
        let root = state_of((Some(0), 0), &mut keys);
        debug_assert!(dead == 0 && root == 1);
        let mut table: Vec<u16> = Vec::new();
        let mut ends: Vec<(u32, u32)> = Vec::new();
        let mut phrase_nodes: Vec<u32> = Vec::new();
        let mut outputs: Vec<(u32, u32)> = Vec::new();
        let has_output = |key: Key| -> Option<bool> {
            let anchored = match key.0 {
                Some(node) => !ends_of.get(node)?.is_empty(),
                None => false,
            };
            Some(anchored || !anywhere.ends.get(key.1)?.is_empty())
        };
        let mut k = 0;
        while let Some(&(node, ac)) = keys.get(k) {
            let start = u32::try_from(outputs.len()).ok()?;
            if let Some(node) = node {
                outputs.extend(ends_of.get(node)?.iter().map(|&id| (id, 0)));
            }
            outputs.extend(anywhere.ends.get(ac)?.iter().copied());
            ends.push((start, u32::try_from(outputs.len()).ok()?));
            let phrase_node = match node {
                Some(n) => *phrase_first.get(n)?,
                None => None,
            };
            phrase_nodes.push(phrase_node.unwrap_or(0));
            for column in 0..1 << shift {
                if column >= stride {
                    // Padding: no byte has this column.
                    table.push(0);
                    continue;
                }
                let (next, mut flags) = if column == space {
                    let phrase = match node {
                        Some(n) => phrase_first.get(n)?.is_some(),
                        None => false,
                    };
                    ((Some(0), 0), if phrase { DFA_PHRASE } else { 0 })
                } else if column == 0 {
                    ((None, 0), 0)
                } else {
                    let child = node.and_then(|n| {
                        children
                            .get(n)?
                            .iter()
                            .find(|&&(c, _)| usize::from(c) == column)
                            .map(|&(_, child)| child)
                    });
                    ((child, anywhere.next(ac, *byte_of.get(column)?)?), 0)
                };
                if has_output(next)? {
                    flags |= DFA_OUTPUT;
                }
                let target = state_of(next, &mut keys);
                if target > usize::from(DFA_STATE) {
                    return None;
                }
                table.push(target as u16 | flags);
            }
            k += 1;
        }
        Some(WordDfa {
            columns,
            shift,
            table,
            ends,
            outputs,
            phrase_nodes,
        })
    }

    /// Runs the automaton over `text` (in matching form: words separated by single spaces) and reports every
    /// one-word pattern that starts a word, every `anywhere` pattern, and every space after the first word of a
    /// phrase.
    pub(super) fn scan(&self, text: &[u8], mut report: impl FnMut(WordEvent)) {
        let mut state = 1usize;
        for (i, &b) in text.iter().enumerate() {
            let column = usize::from(self.columns.get(usize::from(b)).copied().unwrap_or(0));
            let next = self
                .table
                .get((state << self.shift) + column)
                .copied()
                .unwrap_or(0);
            let from = state;
            state = usize::from(next & DFA_STATE);
            if next & (DFA_OUTPUT | DFA_PHRASE) == 0 {
                continue;
            }
            let word_start = || {
                let before = text.get(..i).unwrap_or_default();
                before.iter().rposition(|&b| b == b' ').map_or(0, |p| p + 1)
            };
            if next & DFA_PHRASE != 0 {
                report(WordEvent::PhraseStart {
                    start: word_start(),
                    node: self.phrase_nodes.get(from).copied().unwrap_or(0),
                    next: i + 1,
                });
                continue;
            }
            if let Some(&(first, last)) = self.ends.get(state) {
                let found = self
                    .outputs
                    .get(first as usize..last as usize)
                    .unwrap_or_default();
                for &(id, len) in found {
                    let start = if len == 0 {
                        word_start()
                    } else {
                        (i + 1).saturating_sub(len as usize)
                    };
                    report(WordEvent::Match {
                        start,
                        end: i + 1,
                        id,
                    });
                }
            }
        }
    }

    /// The patterns ending at `state`, as (id, length): the length of an `anywhere` pattern, 0 for a pattern that
    /// starts its word.
    pub(super) fn outputs_of(&self, state: u16) -> &[(u32, u32)] {
        self.ends
            .get(usize::from(state))
            .and_then(|&(first, last)| self.outputs.get(first as usize..last as usize))
            .unwrap_or_default()
    }

    /// The phrase trie's node for the first word of a phrase that ends at `state`, and a space (0 if none).
    pub(super) fn phrase_node(&self, state: u16) -> u32 {
        self.phrase_nodes
            .get(usize::from(state))
            .copied()
            .unwrap_or(0)
    }

    /// Heap memory, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        self.columns.len()
            + self.table.len() * 2
            + self.ends.len() * 8
            + self.outputs.len() * 8
            + self.phrase_nodes.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(trie: &WordTrie, text: &str, start: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        trie.walk(text.as_bytes(), start, |end, id| out.push((end, id)));
        out
    }

    #[test]
    fn walks_find_every_pattern_from_the_start_only() {
        let patterns: [(&[u8], u32); 5] = [
            (b"ass", 0),
            (b"asshole", 1),
            (b"as", 2),
            (b"nobody likes you", 3),
            (b"ass", 4),
        ];
        let trie = WordTrie::build(&patterns).unwrap();
        assert_eq!(
            found(&trie, "assholes", 0),
            [(2, 2), (3, 0), (3, 4), (7, 1)]
        );
        assert_eq!(found(&trie, "class", 0), []);
        assert_eq!(found(&trie, "class", 2), [(4, 2), (5, 0), (5, 4)]);
        assert_eq!(found(&trie, "nobody likes you", 0), [(16, 3)]);
        assert_eq!(found(&trie, "nobody likes yo", 0), []);
        assert_eq!(found(&trie, "ass", 3), []);
        assert_eq!(found(&trie, "ass", 9), []);
        assert_eq!(found(&trie, "ñass", 0), []);
        assert!(WordTrie::build(&[]).is_none());
    }

    #[test]
    fn the_automaton_reports_word_starts_and_phrase_starts() {
        let words: [(&[u8], u32); 4] = [(b"ass", 0), (b"asshole", 1), (b"as", 2), (b"porn", 3)];
        let dfa = WordDfa::build(
            &words,
            &[(b"nobody", 7), (b"you", 8)],
            &[(b"uck", 5), (b"fuck", 6)],
        )
        .unwrap();
        let events = |text: &str| {
            let mut out = Vec::new();
            dfa.scan(text.as_bytes(), |e| out.push(e));
            out
        };
        let m = |start, end, id| WordEvent::Match { start, end, id };
        assert_eq!(events("assholes"), [m(0, 2, 2), m(0, 3, 0), m(0, 7, 1)]);
        assert_eq!(events("class ass"), [m(6, 8, 2), m(6, 9, 0)]);
        assert_eq!(events("pornography"), [m(0, 4, 3)]);
        assert_eq!(
            events("nobody likes you"),
            [WordEvent::PhraseStart {
                start: 0,
                node: 7,
                next: 7
            }]
        );
        assert_eq!(
            events("hey you there"),
            [WordEvent::PhraseStart {
                start: 4,
                node: 8,
                next: 8
            }]
        );
        assert_eq!(events("younger nobodys"), []);
        assert_eq!(events("xass ñass"), []);
        assert_eq!(events("xfucks"), [m(2, 5, 5), m(1, 5, 6)]);
        assert_eq!(
            events("assfuck"),
            [m(0, 2, 2), m(0, 3, 0), m(4, 7, 5), m(3, 7, 6)]
        );
        assert!(WordDfa::build(&[], &[], &[]).is_none());
        assert!(WordDfa::build(&words, &[], &[(b"a b", 1)]).is_none());
    }
}
