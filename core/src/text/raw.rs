//! A first pass over the original text that proves most clean texts clean without normalising them.
//!
//! Most texts are plain ASCII: words of letters, numbers, spaces and punctuation. For such a text the matching form
//! is simple (see [`Normalized`](super::Normalized)): letters lower-cased, a run of one letter collapsed to one,
//! every run of other characters one space, numbers as they are. [`RawDfa`] is the [`WordDfa`] with that folding
//! built in: upper-case letters share the columns of lower-case ones, every separator is a space, and a letter that
//! repeats the one before leaves the state as it is. So one pass over the original bytes walks the states the word
//! automaton walks over the matching form.
//!
//! What the form would do otherwise makes the pass give up (the caller then normalises and scans as usual): a byte
//! that is not ASCII, a leetspeak symbol (`@ $ ! *`), a word of letters and digits together (leetspeak), and three
//! single-character words close together (`f u c k`, which the form joins; the caller counts them). Where the
//! word automaton would report a pattern, and where a word continues a phrase (the states between words remember
//! the phrase trie's node of the word before), the pass reports it to its caller, which checks the candidate on
//! the original text. Property tests in `text::engine` check that a text the pass proves clean has no match.
//!
//! Reading the original text instead of building its matching form is what makes the lexicon stage fast for
//! ordinary text: the pass costs one table lookup per byte, run as two interleaved lanes ([`RawDfa::scan`]).

use super::normalize::{Class, raw_class};
use super::trie::{DFA_PHRASE, DFA_STATE, WordDfa, WordTrie};

/// Columns per state, as a power of two: a row is 32 transitions of two bytes, one 64-byte cache line. Digits
/// share one column, whose transitions lead to [`RawDfa::digit`], and are looked up in a table of their own.
const SHIFT: u32 = 5;
/// Columns per state of the digits' table (ten digits, padded).
const DIGIT_SHIFT: u32 = 4;
/// The most states a [`RawDfa`] numbers.
const MAX_STATES: usize = 1 << 16;

/// What a column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// Every ASCII byte but letters, digits and the leetspeak symbols.
    Separator,
    /// A letter: the word automaton's column (0 if only phrases have it), and the letter if a pattern has it.
    Letter(usize, Option<u8>),
    /// A digit: the word automaton's column (0 if only phrases have it), and the digit if a pattern has it.
    Digit(usize, Option<u8>),
    /// Non-ASCII bytes and the leetspeak symbols: the pass gives up.
    Escape,
}

/// What the current word holds, where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Letters,
    Digits,
}

/// A state, before numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// The text is not simple: the pass gives up.
    Escape,
    /// Between words, at the word automaton's root. `single`: the word before was one character long and came
    /// close after another such word (only at the gap's first separator: the event); `close`: the word before was
    /// one character long and this is the gap's first (1) or second (2) separator, else 0; `phrase`: the phrase
    /// trie's node for the word before and a space, when that word starts a phrase.
    Gap {
        single: bool,
        close: u8,
        phrase: Option<u32>,
    },
    /// Inside a word, at the word automaton's state `base`. `single`: the word has one character so far;
    /// `chained`: the word started close after a one-character word (at most two separators between). `walk`: at
    /// the word's first character, which continues a phrase from the gap before.
    Word {
        base: u16,
        kind: Kind,
        single: bool,
        chained: bool,
        walk: bool,
    },
}

/// What reaching a state tells the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawEvent {
    /// Nothing: the pass goes on.
    None,
    /// The text is not simple.
    Escape,
    /// At the byte just read: `output`, patterns end at the word automaton's state `base` (its outputs); `walk`,
    /// the byte starts a word that continues a phrase whose node the state before has
    /// ([`RawDfa::phrase_node`]).
    Word { base: u16, output: bool, walk: bool },
    /// The separator just read ends a word of one character, the byte before, which came at most three bytes
    /// after another.
    Single,
}

/// The word automaton over original ASCII text (see the module documentation).
#[derive(Debug)]
pub(super) struct RawDfa {
    /// Byte → column.
    columns: [u8; 256],
    /// `states << SHIFT` transitions: the next state's number. States from `first_event` on report an event.
    table: Vec<u16>,
    /// `states << DIGIT_SHIFT` transitions on the digits `0..=9`.
    digits: Vec<u16>,
    /// The state the digits' column leads to: the scan looks the digit up in `digits`.
    digit: u16,
    /// The first state with an event.
    first_event: u16,
    /// Per state: whether the word so far is one character long and came close after another such word.
    single: Vec<bool>,
    /// Per state between words after the first word of a phrase: the phrase trie's node for that word and a
    /// space (else 0).
    phrase_nodes: Vec<u32>,
    /// Per state: its event (`RawEvent::None` below `first_event`).
    events: Vec<RawEvent>,
    /// The state before any byte.
    start: u16,
    /// The state where the pass gives up.
    escape: u16,
}

impl RawDfa {
    /// The raw automaton of `dfa`, whose phrases (the patterns with spaces) are in `phrases`. `None` when the word
    /// automaton has bytes other than lower-case ASCII letters, digits and the space, or more states than two
    /// bytes number.
    pub(super) fn build(dfa: &WordDfa, phrases: Option<&WordTrie>) -> Option<RawDfa> {
        let stride = 1usize << dfa.shift;
        let states = dfa.table.len() / stride;
        let mut space = None;
        for (b, &column) in dfa.columns.iter().enumerate() {
            match (u8::try_from(b).ok()?, column) {
                (_, 0) | (b'a'..=b'z' | b'0'..=b'9', _) => {}
                (b' ', column) => space = Some(usize::from(column)),
                _ => return None,
            }
        }
        let space = space?;
        // The letters and digits of the patterns (the phrases' too, whose next words the pass looks for).
        let (mut letters, mut digits) = (Vec::new(), Vec::new());
        for b in (b'a'..=b'z').chain(b'0'..=b'9') {
            let column = usize::from(dfa.columns.get(usize::from(b)).copied().unwrap_or(0));
            if column == 0 && !phrases.is_some_and(|t| t.has_byte(b)) {
                continue;
            }
            if b.is_ascii_digit() {
                digits.push((b, Column::Digit(column, Some(b))));
            } else {
                letters.push((b, Column::Letter(column, Some(b))));
            }
        }
        // Bytes no pattern has lead to the word automaton's column 0 (its dead state).
        if letters.len() < 26 {
            letters.push((0, Column::Letter(0, None)));
        }
        if digits.len() < 10 {
            digits.push((0, Column::Digit(0, None)));
        }
        // The columns the states are built over (each digit its own), then the table's columns (the digits in one).
        let mut meaning = vec![Column::Separator];
        meaning.extend(letters.iter().map(|&(_, c)| c));
        meaning.extend(digits.iter().map(|&(_, c)| c));
        meaning.push(Column::Escape);
        let symbol_of =
            |wanted: Column| -> Option<usize> { meaning.iter().position(|&c| c == wanted) };
        let separator = symbol_of(Column::Separator)?;
        let escape = symbol_of(Column::Escape)?;
        // Byte → symbol (ASCII only).
        let mut symbols = [escape; 128];
        for b in 0u8..128 {
            let known = letters
                .iter()
                .chain(&digits)
                .find(|&&(l, _)| l != 0 && l == b.to_ascii_lowercase())
                .and_then(|&(_, c)| symbol_of(c));
            *symbols.get_mut(usize::from(b))? = match raw_class(b) {
                Class::Symbol => escape,
                Class::Letter => known.or(symbol_of(Column::Letter(0, None)))?,
                Class::Digit => known.or(symbol_of(Column::Digit(0, None)))?,
                Class::Separator => separator,
            };
        }
        // The table's columns: the separators, the letters, the digits (one column) and the rest.
        let digit_column = 1 + letters.len();
        let escape_column = digit_column + 1;
        if escape_column >= 1 << SHIFT {
            return None;
        }
        let mut columns = [u8::try_from(escape_column).ok()?; 256];
        for (b, &symbol) in symbols.iter().enumerate() {
            let column = match meaning.get(symbol)? {
                Column::Separator => 0,
                Column::Letter(..) => symbol,
                Column::Digit(..) => digit_column,
                Column::Escape => escape_column,
            };
            *columns.get_mut(b)? = u8::try_from(column).ok()?;
        }
        let symbol_of_column = |column: usize| -> usize {
            if column == 0 || (column < digit_column) {
                column
            } else {
                escape
            }
        };
        let row = |state: u16| -> Option<&[u16]> {
            let start = usize::from(state) << dfa.shift;
            dfa.table.get(start..start + stride)
        };
        // The letter each word automaton state is entered by (a trie path, or the `anywhere` automaton's prefix):
        // a letter repeating it leaves the state as it is. `Some(None)`: entered by a digit.
        let mut last: Vec<Option<Option<u8>>> = vec![None; states];
        for state in 0..states {
            let state = u16::try_from(state).ok()?;
            for &meant in &meaning {
                let (column, entered) = match meant {
                    Column::Letter(column, Some(letter)) => (column, Some(letter)),
                    Column::Digit(column, _) if column != 0 => (column, None),
                    _ => continue,
                };
                let next = usize::from(*row(state)?.get(column)? & DFA_STATE);
                if next <= 1 {
                    // Dead (where a repeated letter leads anyway) or the root (never entered by a letter).
                    continue;
                }
                match last.get_mut(next)? {
                    slot @ None => *slot = Some(entered),
                    Some(known) if *known == entered => {}
                    Some(_) => return None,
                }
            }
        }
        let next_of = |key: Key, raw: u8| -> Option<Key> {
            let (base, kind, single, chained, close, phrase) = match key {
                Key::Escape => return Some(Key::Escape),
                Key::Gap { close, phrase, .. } => (1u16, None, false, false, close, phrase),
                Key::Word {
                    base,
                    kind,
                    single,
                    chained,
                    ..
                } => (base, Some(kind), single, chained, 0, None),
            };
            let at_start = kind.is_none();
            let base_row = row(base)?;
            Some(
                match meaning
                    .get(usize::from(raw))
                    .copied()
                    .unwrap_or(Column::Escape)
                {
                    Column::Escape => Key::Escape,
                    Column::Separator if at_start => Key::Gap {
                        single: false,
                        close: if close == 1 { 2 } else { 0 },
                        phrase,
                    },
                    Column::Separator => Key::Gap {
                        single: single && chained,
                        close: u8::from(single),
                        phrase: if base_row.get(space)? & DFA_PHRASE != 0 {
                            Some(dfa.phrase_node(base))
                        } else {
                            None
                        },
                    },
                    meant @ (Column::Letter(..) | Column::Digit(..)) => {
                        let (column, letter, byte, kind_now) = match meant {
                            Column::Letter(column, letter) => {
                                (column, letter, letter, Kind::Letters)
                            }
                            Column::Digit(column, digit) => (column, None, digit, Kind::Digits),
                            _ => return None,
                        };
                        if kind.is_some_and(|k| k != kind_now) {
                            // Letters and digits in one word: leetspeak, which the form folds.
                            return Some(Key::Escape);
                        }
                        let repeat = letter.is_some()
                            && !at_start
                            && last.get(usize::from(base))? == &Some(letter);
                        let next = if repeat {
                            base
                        } else {
                            base_row.get(column)? & DFA_STATE
                        };
                        let walk = match (phrase, phrases, byte) {
                            (Some(node), Some(trie), Some(byte)) => {
                                trie.child(node, byte).is_some()
                            }
                            _ => false,
                        };
                        Key::Word {
                            base: next,
                            kind: kind_now,
                            single: at_start,
                            chained: at_start && close > 0,
                            walk,
                        }
                    }
                },
            )
        };
        let event_of = |key: Key| -> Option<RawEvent> {
            Some(match key {
                Key::Escape => RawEvent::Escape,
                Key::Gap { single: true, .. } => RawEvent::Single,
                Key::Gap { .. } => RawEvent::None,
                Key::Word { base, walk, .. } => {
                    let (first, end) = *dfa.ends.get(usize::from(base))?;
                    let output = first < end;
                    if output || walk {
                        RawEvent::Word { base, output, walk }
                    } else {
                        RawEvent::None
                    }
                }
            })
        };
        // Every state reachable from the start, breadth first.
        let start_key = Key::Gap {
            single: false,
            close: 0,
            phrase: None,
        };
        let mut keys = vec![start_key];
        let mut index: std::collections::HashMap<Key, usize> = [(start_key, 0)].into();
        let mut edges: Vec<usize> = Vec::new();
        let mut k = 0;
        while let Some(&key) = keys.get(k) {
            for raw in 0..meaning.len() {
                let next = next_of(key, u8::try_from(raw).ok()?)?;
                let n = *index.entry(next).or_insert_with(|| {
                    keys.push(next);
                    keys.len() - 1
                });
                edges.push(n);
            }
            k += 1;
            if keys.len() > MAX_STATES {
                return None;
            }
        }
        // Numbered with the states that report an event last.
        let events: Vec<RawEvent> = keys.iter().map(|&k| event_of(k)).collect::<Option<_>>()?;
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&k| events.get(k).is_some_and(|e| *e != RawEvent::None));
        let mut number = vec![0u16; keys.len()];
        for (n, &k) in order.iter().enumerate() {
            *number.get_mut(k)? = u16::try_from(n).ok()?;
        }
        let first_event =
            u16::try_from(events.iter().filter(|&&e| e == RawEvent::None).count()).ok()?;
        // One more state, after the others: where the digits' column leads.
        let digit = u16::try_from(keys.len()).ok()?;
        let symbols_per_state = meaning.len();
        let numbered = |k: usize, symbol: usize| -> Option<u16> {
            number
                .get(*edges.get(k * symbols_per_state + symbol)?)
                .copied()
        };
        let escape_state = *number.get(*index.get(&Key::Escape)?)?;
        let mut table = Vec::with_capacity((keys.len() + 1) << SHIFT);
        let mut digits_table = Vec::with_capacity((keys.len() + 1) << DIGIT_SHIFT);
        let (mut single, mut state_events) = (Vec::new(), Vec::new());
        let mut phrase_nodes = Vec::new();
        for &k in &order {
            for column in 0..1usize << SHIFT {
                table.push(if column == digit_column {
                    digit
                } else {
                    numbered(k, symbol_of_column(column))?
                });
            }
            for d in 0..1u8 << DIGIT_SHIFT {
                let symbol = match symbols.get(usize::from(b'0' + d)) {
                    Some(&symbol) if d < 10 => symbol,
                    _ => escape,
                };
                digits_table.push(numbered(k, symbol)?);
            }
            let (s, p) = match *keys.get(k)? {
                Key::Word {
                    single, chained, ..
                } => (single && chained, 0),
                Key::Gap { phrase, .. } => (false, phrase.unwrap_or(0)),
                Key::Escape => (false, 0),
            };
            single.push(s);
            phrase_nodes.push(p);
            state_events.push(*events.get(k)?);
        }
        table.extend(std::iter::repeat_n(escape_state, 1 << SHIFT));
        digits_table.extend(std::iter::repeat_n(escape_state, 1 << DIGIT_SHIFT));
        single.push(false);
        phrase_nodes.push(0);
        state_events.push(RawEvent::Escape);
        Some(RawDfa {
            columns,
            table,
            digits: digits_table,
            digit,
            first_event,
            single,
            phrase_nodes,
            events: state_events,
            start: *number.first()?,
            escape: escape_state,
        })
    }

    /// Runs over `text`, calling `event(at, before, state)` for each state reached with an event (at the byte
    /// `at`, from the state `before`) until it returns `false`. Returns the last state, or `None` if stopped.
    ///
    /// A text of some length is run as two lanes side by side, split after a separator that ends a word of two
    /// or more characters ([`RawDfa::lanes`]): every state after a separator acts as the start, so the second
    /// lane starting there walks the states the whole pass would, and the two chains of table lookups overlap.
    /// Events come in the order of the interleaved lanes; each lane's in order.
    #[inline]
    pub(super) fn scan(
        &self,
        text: &[u8],
        mut event: impl FnMut(usize, u16, u16) -> bool,
    ) -> Option<u16> {
        let split = Self::lanes(text);
        let (first, second) = text.split_at(split);
        let (mut one, mut two) = (self.start, self.start);
        for (k, (&a, &b)) in first.iter().zip(second).enumerate() {
            let next_one = self.step(one, a);
            let next_two = self.step(two, b);
            if next_one >= self.first_event && !event(k, one, next_one) {
                return None;
            }
            if next_two >= self.first_event && !event(split + k, two, next_two) {
                return None;
            }
            one = next_one;
            two = next_two;
        }
        // The rest of the longer lane.
        let shorter = first.len().min(second.len());
        let (rest, mut state, offset) = if first.len() > second.len() {
            (first.get(shorter..).unwrap_or_default(), one, shorter)
        } else {
            (
                second.get(shorter..).unwrap_or_default(),
                two,
                split + shorter,
            )
        };
        for (k, &b) in rest.iter().enumerate() {
            let next = self.step(state, b);
            if next >= self.first_event && !event(offset + k, state, next) {
                return None;
            }
            state = next;
        }
        let (end_one, end_two) = if first.len() > second.len() {
            (state, two)
        } else {
            (one, state)
        };
        // The one thing the second lane cannot know: that the first ends after the first word of a phrase. Then
        // the whole pass would continue the phrase at the second lane's first word: its first byte is read again
        // from the first lane's state.
        if !second.is_empty() && self.phrase_node(end_one) != 0 {
            let mut gap = end_one;
            for (k, &b) in second.iter().enumerate() {
                let next = self.step(gap, b);
                if next >= self.first_event && !event(split + k, gap, next) {
                    return None;
                }
                if self.phrase_node(next) == 0 {
                    break;
                }
                gap = next;
            }
        }
        // The first lane ends with a separator: the text's last state is the second lane's, if there is one.
        Some(if second.is_empty() { end_one } else { end_two })
    }

    /// Where the second lane of [`RawDfa::scan`] starts: after the first separator from the middle on that
    /// follows two letters or digits; the end of the text (one lane) for a short text or none found nearby.
    pub(super) fn lanes(text: &[u8]) -> usize {
        const MIN_LEN: usize = 24;
        const SEARCH: usize = 24;
        if text.len() < MIN_LEN {
            return text.len();
        }
        let middle = text.len() / 2;
        let window = text
            .get(middle..(middle + SEARCH).min(text.len()))
            .unwrap_or_default();
        for (k, &b) in window.iter().enumerate() {
            let at = middle + k;
            if raw_class(b) == Class::Separator
                && text
                    .get(at.wrapping_sub(2)..at)
                    .is_some_and(|w| w.iter().all(u8::is_ascii_alphanumeric))
            {
                return at + 1;
            }
        }
        text.len()
    }

    /// The state after `state` reads `b`.
    #[inline(always)]
    fn step(&self, state: u16, b: u8) -> u16 {
        // A byte is below 256, the length of `columns`: no check is left in the compiled code.
        let column = usize::from(
            self.columns
                .get(usize::from(b))
                .copied()
                .unwrap_or_default(),
        );
        let next = self
            .table
            .get((usize::from(state) << SHIFT) | column)
            .copied()
            .unwrap_or(self.escape);
        if next != self.digit {
            return next;
        }
        self.digits
            .get((usize::from(state) << DIGIT_SHIFT) | usize::from(b.wrapping_sub(b'0') & 15))
            .copied()
            .unwrap_or(self.escape)
    }

    /// The event of `state`.
    pub(super) fn event(&self, state: u16) -> RawEvent {
        self.events
            .get(usize::from(state))
            .copied()
            .unwrap_or(RawEvent::Escape)
    }

    /// The phrase trie's node of `state`, a state between words after the first word of a phrase (else 0).
    pub(super) fn phrase_node(&self, state: u16) -> u32 {
        self.phrase_nodes
            .get(usize::from(state))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `state` is inside a word of one character so far that came at most three bytes after another.
    pub(super) fn is_single(&self, state: u16) -> bool {
        self.single
            .get(usize::from(state))
            .copied()
            .unwrap_or(false)
    }

    /// Heap memory, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        self.columns.len()
            + self.table.len() * 2
            + self.digits.len() * 2
            + self.single.len()
            + self.phrase_nodes.len() * 4
            + self.events.len() * 8
    }
}
