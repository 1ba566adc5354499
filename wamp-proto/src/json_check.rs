//! A JSON frame's payload walked by our own code: checked for a router
//! that keeps payloads as they came ([`PayloadMode::Encoded`]), decoded
//! into values for a client ([`PayloadMode::Values`]).
//!
//! `serde_json` finds the end of a string eight bytes at a time; a frame
//! carrying a 64 KiB or 1 MiB string spent most of the router's time
//! there, and much of a client's. This walk skips through strings 32 bytes
//! at a time (the scan of [`crate::json`]'s writer); checking, it builds
//! nothing. It only ever says yes to what the decoder would accept, with
//! the same result:
//!
//! - what it does not handle itself it hands to `serde_json`, piece by
//!   piece: a string with an escape in it, a number that is not a short
//!   integer ([`Reach`] and [`Key`] decode them, the same code the
//!   decoder runs);
//! - anything it does not expect (bad syntax, nesting past
//!   [`MAX_DEPTH`], a message without a payload) makes it give up
//!   (`None`), and the frame is decoded the usual way, which also words
//!   the error;
//! - so does a payload that is mostly what it hands over (floats, escaped
//!   strings): each piece handed over costs more than in one pass of
//!   `serde_json`, so past an allowance ([`HANDED_OVER_ALLOWANCE`] bytes
//!   more than the plain strings it skipped through) the frame goes back
//!   whole, having cost a few KiB's scan more.
//!
//! The message's elements before the payload are read by the walk itself
//! when they take the shape the routed messages take most ([`Walk::header`]:
//! EVENT, INVOCATION, RESULT, YIELD, CALL and PUBLISH with IDs, empty
//! details or options, and a URI without escapes); otherwise `serde_json`
//! decodes them, from a copy of the frame that ends after them. Frames
//! below [`FAST_CHECK_FROM`] are split only in the first case
//! ([`split_small`]): there the walk reads the whole message in about
//! half the time `serde_json` takes (an EVENT of one integer with two
//! 16-digit IDs: 92-97 ns against 197-208).
//!
//! [`PayloadMode::Encoded`]: crate::serializer::PayloadMode::Encoded
//! [`PayloadMode::Values`]: crate::serializer::PayloadMode::Values

use std::ops::Range;

use crate::id::{Id, MAX_ID};
use crate::json::clean_block;
use crate::message::{Message, MessageType};
use crate::msg;
use crate::payload::Payload;
use crate::repr::{SerializerSet, MAX_DEPTH};
use crate::span::{json_skip, json_ws};
use crate::value::{str_reach, str_value, Dict, Key, List, Reach, Value};

/// Frames from this size on are split by [`split`] first, whatever the
/// elements before their payload (smaller ones by [`split_small`]). Measured on a
/// JSON PUBLISH of one string (one core, best of five): the split costs
/// more than one pass of `serde_json` below about 2 KiB (1.2 against
/// 0.8-0.9 us at 300 bytes), about the same at 2 KiB, and less from 4 KiB
/// on (1.9-2.0 against 2.3-2.5 us; 3.2-5.0 against 6.8-8.8 us at 16 KiB).
pub(crate) const FAST_CHECK_FROM: usize = 4096;

/// A JSON message split where its payload starts, the payload walked.
pub(crate) struct Split<M: Make> {
    /// The elements before the payload, when [`Walk::header`] read them;
    /// otherwise they are `text[..header_end]`, for `serde_json` to decode.
    pub header: Option<Header>,
    /// Where the element before the payload ends: the message without its
    /// payload is `text[..header_end]` and a closing `]`.
    pub header_end: usize,
    /// The payload's elements, as [`crate::span::tail`] finds them.
    pub payload: Range<usize>,
    /// How many elements (`null` included): 1 or 2.
    pub elements: u8,
    /// `Arguments`, unless `null`.
    pub args: Option<M::List>,
    /// `ArgumentsKw`, unless absent or `null`.
    pub kwargs: Option<M::Dict>,
}

impl Split<Check> {
    /// The serializers that carry the payload, unless its `Arguments` and
    /// `ArgumentsKw` are both empty or `null` (the decoder keeps such a
    /// payload as no values).
    pub fn reach(&self) -> Option<SerializerSet> {
        let parts = [self.args, self.kwargs].into_iter().flatten();
        let empty = parts.clone().all(|c| c.len == 0);
        (!empty).then(|| parts.fold(SerializerSet::ALL, |set, c| set.intersection(c.reach)))
    }
}

/// A message's elements before its payload, as [`Walk::header`] reads
/// them: the shapes the routed messages take most, with empty details or
/// options (a URI is where its text lies in the frame).
pub(crate) enum Header {
    Event { subscription: Id, publication: Id },
    Invocation { request: Id, registration: Id },
    Result { request: Id },
    Yield { request: Id },
    Call { request: Id, procedure: Range<usize> },
    Publish { request: Id, topic: Range<usize> },
}

impl Header {
    /// The message these elements start, read from `text`, with `payload`:
    /// what `Message`'s decoder makes of the same frame.
    pub fn into_message(self, text: &str, payload: Payload) -> Message {
        match self {
            Header::Event {
                subscription,
                publication,
            } => Message::from(msg::Event {
                subscription,
                publication,
                details: Default::default(),
                payload,
            }),
            Header::Invocation {
                request,
                registration,
            } => Message::from(msg::Invocation {
                request,
                registration,
                details: Default::default(),
                payload,
            }),
            Header::Result { request } => Message::Result(msg::Result {
                request,
                details: Default::default(),
                payload,
            }),
            Header::Yield { request } => Message::Yield(msg::Yield {
                request,
                options: Default::default(),
                payload,
            }),
            Header::Call { request, procedure } => Message::from(msg::Call {
                request,
                options: Default::default(),
                procedure: text[procedure].to_owned(),
                payload,
            }),
            Header::Publish { request, topic } => Message::from(msg::Publish {
                request,
                options: Default::default(),
                topic: text[topic].to_owned(),
                payload,
            }),
        }
    }
}

/// What a walk makes of the values it passes: their reach ([`Check`],
/// as the router's decoder checks a payload) or the values ([`Build`], as
/// a client's decoder reads one).
pub(crate) trait Make {
    /// What a value makes.
    type Out;
    /// A list's entries so far.
    type List: Default;
    /// A dictionary's entries so far.
    type Dict: Default;
    /// A dictionary's key.
    type Key;
    /// A string without escapes (the text between its quotes).
    fn plain_str(s: &str) -> Option<Self::Out>;
    /// A value `serde_json` decodes: a number, or a string with escapes
    /// (quotes included).
    fn decoded(json: &str) -> Option<Self::Out>;
    /// An integer of at most 18 digits, not `-0` (a float to `serde_json`).
    fn short_int(n: i64) -> Self::Out;
    /// `null`, `true` or `false`.
    fn literal(v: Option<bool>) -> Self::Out;
    /// A key without escapes (its text), or with (quotes included).
    fn key(s: &str, escaped: bool) -> Option<Self::Key>;
    fn push(list: &mut Self::List, v: Self::Out);
    fn insert(dict: &mut Self::Dict, k: Self::Key, v: Self::Out);
    fn list(list: Self::List) -> Self::Out;
    fn dict(dict: Self::Dict) -> Self::Out;
}

/// Checks, as [`Reach`] decodes.
pub(crate) struct Check;

/// A list or dictionary as [`Check`] sees it.
#[derive(Clone, Copy)]
pub(crate) struct Container {
    /// How many entries.
    pub len: usize,
    /// The serializers that carry them all.
    pub reach: SerializerSet,
}

impl Default for Container {
    fn default() -> Self {
        Container {
            len: 0,
            reach: SerializerSet::ALL,
        }
    }
}

impl Make for Check {
    type Out = SerializerSet;
    type List = Container;
    type Dict = Container;
    type Key = ();
    fn plain_str(s: &str) -> Option<SerializerSet> {
        str_reach::<serde_json::Error>(true, s).ok()
    }
    fn decoded(json: &str) -> Option<SerializerSet> {
        serde_json::from_str::<Reach>(json).ok().map(|r| r.0)
    }
    fn short_int(_: i64) -> SerializerSet {
        SerializerSet::ALL
    }
    fn literal(_: Option<bool>) -> SerializerSet {
        SerializerSet::ALL
    }
    fn key(s: &str, escaped: bool) -> Option<()> {
        (!escaped || serde_json::from_str::<Key>(s).is_ok()).then_some(())
    }
    fn push(list: &mut Container, v: SerializerSet) {
        list.len += 1;
        list.reach = list.reach.intersection(v);
    }
    fn insert(dict: &mut Container, (): (), v: SerializerSet) {
        Self::push(dict, v);
    }
    fn list(list: Container) -> SerializerSet {
        list.reach
    }
    fn dict(dict: Container) -> SerializerSet {
        dict.reach
    }
}

/// Builds the values, as [`Value`]'s decoder does.
pub(crate) struct Build;

impl Make for Build {
    type Out = Value;
    type List = List;
    type Dict = Dict;
    type Key = String;
    fn plain_str(s: &str) -> Option<Value> {
        str_value::<serde_json::Error>(true, s).ok()
    }
    fn decoded(json: &str) -> Option<Value> {
        serde_json::from_str::<Value>(json).ok()
    }
    fn short_int(n: i64) -> Value {
        match u64::try_from(n) {
            Ok(n) => Value::UInt(n),
            Err(_) => Value::Int(n),
        }
    }
    fn literal(v: Option<bool>) -> Value {
        v.map_or(Value::Null, Value::Bool)
    }
    fn key(s: &str, escaped: bool) -> Option<String> {
        if escaped {
            serde_json::from_str(s).ok()
        } else {
            Some(s.to_owned())
        }
    }
    fn push(list: &mut List, v: Value) {
        list.push(v);
    }
    fn insert(dict: &mut Dict, k: String, v: Value) {
        dict.insert(k, v);
    }
    fn list(list: List) -> Value {
        Value::List(list)
    }
    fn dict(dict: Dict) -> Value {
        Value::Dict(dict)
    }
}

/// Splits a JSON message whose payload walks, or `None` (see the module
/// docs).
pub(crate) fn split<M: Make>(text: &str) -> Option<Split<M>> {
    split_with(text, false)
}

/// Splits a small JSON message ([`FAST_CHECK_FROM`]) whose elements before
/// the payload [`Walk::header`] reads itself, as [`split`] does, or `None`:
/// below that size only the decoder's own reading of those elements (and
/// of the small integers and plain strings of a payload) is saved, so any
/// other message, and any payload that needs more than a few pieces
/// handed over ([`SMALL_FRAME_ALLOWANCE`]), goes to `serde_json` whole.
pub(crate) fn split_small<M: Make>(text: &str) -> Option<Split<M>> {
    split_with(text, true)
}

fn split_with<M: Make>(text: &str, small: bool) -> Option<Split<M>> {
    let b = text.as_bytes();
    // The dictionary of a header the walk reads is empty, and is the
    // frame's first: a look for it costs a frame it is not in (details to
    // disclose a caller, a pattern's topic, ...) next to nothing.
    if small && memchr::memchr(b'{', b).is_none_or(|i| b.get(json_ws(b, i + 1)) != Some(&b'}')) {
        return None;
    }
    let mut pos = json_ws(b, 0);
    if b.get(pos) != Some(&b'[') {
        return None;
    }
    pos = json_ws(b, pos + 1);
    let digits = b[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
    let code: u64 = text.get(pos..pos + digits)?.parse().ok()?;
    let ty = MessageType::from_code(code)?;
    let mut walk = Walk {
        text,
        pos: pos + digits,
        budget: if small {
            SMALL_FRAME_ALLOWANCE
        } else {
            HANDED_OVER_ALLOWANCE
        },
    };
    // No leading zero: `serde_json` refuses one.
    let header = (digits == 1 || b[pos] != b'0').then(|| walk.header(ty)).flatten();
    let header_end = match &header {
        Some(_) => walk.pos,
        None if small => return None,
        None => {
            let skip = Message::payload_position(ty)?;
            let mut header_end = pos;
            for _ in 0..skip {
                header_end = json_skip(b, json_ws(b, pos))?;
                pos = json_ws(b, header_end);
                if b.get(pos) != Some(&b',') {
                    return None;
                }
                pos += 1;
            }
            walk.pos = pos;
            header_end
        }
    };
    if header.is_some() {
        walk.ws();
        if walk.peek()? != b',' {
            return None;
        }
        walk.pos += 1;
    }
    walk.ws();
    let start = walk.pos;
    let args = if walk.literal(b"null") {
        None
    } else if walk.peek()? == b'[' {
        Some(walk.list::<M>(1)?)
    } else {
        return None;
    };
    let (mut end, mut elements, mut kwargs) = (walk.pos, 1, None);
    walk.ws();
    if walk.peek() == Some(b',') {
        walk.pos += 1;
        walk.ws();
        elements = 2;
        if !walk.literal(b"null") {
            if walk.peek()? != b'{' {
                return None;
            }
            kwargs = Some(walk.dict::<M>(1)?);
        }
        end = walk.pos;
        walk.ws();
    }
    if walk.peek() != Some(b']') || json_ws(b, walk.pos + 1) != b.len() {
        return None;
    }
    Some(Split {
        header,
        header_end,
        payload: start..end,
        elements,
        args,
        kwargs,
    })
}

/// [`HANDED_OVER_ALLOWANCE`] for a frame below [`FAST_CHECK_FROM`]: about
/// three pieces. There the walk saves the cost of `serde_json` reading the
/// elements before the payload, some 100-200 ns, and no long plain string
/// makes up for what pieces handed over cost.
const SMALL_FRAME_ALLOWANCE: usize = 3 * HAND_OVER_COST + 64;

/// How many bytes of the payload a walk may hand to `serde_json` (escaped
/// strings, numbers other than short integers) beyond the bytes of plain
/// strings it has skipped through itself. Each piece handed over costs
/// more than it would inside one pass of `serde_json` over the frame (the
/// walk finds its end first, and each call has its own set-up), so a
/// payload made mostly of such pieces is given back to `serde_json` whole
/// once they outweigh what the walk saved, at a cost of this many bytes'
/// scan at most.
const HANDED_OVER_ALLOWANCE: usize = 4096;

/// What handing one piece to `serde_json` counts for against the
/// allowance, besides its bytes: the call's set-up and the walk's own
/// look at it, about 40 ns, what the walk saves on some 400 bytes of
/// plain string (a 6-byte float cost 37-49 ns in a frame just over 4 KiB
/// where the walk handed over a few hundred of them, 24-33 ns decoded
/// whole).
const HAND_OVER_COST: usize = 256;

/// A walk through JSON text, at `pos`.
struct Walk<'a> {
    text: &'a str,
    pos: usize,
    /// Bytes it may still hand to `serde_json` ([`HANDED_OVER_ALLOWANCE`]).
    budget: usize,
}

impl Walk<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        self.pos = json_ws(self.text.as_bytes(), self.pos);
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.text.as_bytes()[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    /// The elements between a message's type code (`pos` is past it) and
    /// its payload, when they take the shape the routed messages take most:
    /// IDs, an empty details or options dictionary, and for CALL and
    /// PUBLISH a URI without escapes. They are read as `Message`'s decoder
    /// reads them; `None` for any other message or shape, `pos` then
    /// anywhere.
    fn header(&mut self, ty: MessageType) -> Option<Header> {
        use MessageType as T;
        // One ID, or two; then the empty dictionary; then the URI, if any.
        let two_ids = match ty {
            T::Event | T::Invocation => true,
            T::Result | T::Yield | T::Call | T::Publish => false,
            _ => return None,
        };
        let first = self.id()?;
        let second = if two_ids { self.id()? } else { 0 };
        self.empty_dict()?;
        Some(match ty {
            T::Event => Header::Event {
                subscription: first,
                publication: second,
            },
            T::Invocation => Header::Invocation {
                request: first,
                registration: second,
            },
            T::Result => Header::Result { request: first },
            T::Yield => Header::Yield { request: first },
            T::Call => Header::Call {
                request: first,
                procedure: self.plain_string()?,
            },
            _ => Header::Publish {
                request: first,
                topic: self.plain_string()?,
            },
        })
    }

    /// Past the comma before the next element, and the blanks after it.
    fn comma(&mut self) -> Option<()> {
        self.ws();
        (self.peek()? == b',').then(|| {
            self.pos += 1;
            self.ws();
        })
    }

    /// The next element, an ID: digits without a leading zero, at most
    /// [`MAX_ID`] (as `WireId` decodes; anything else, a float or a
    /// negative number included, is left to `serde_json`).
    fn id(&mut self) -> Option<Id> {
        self.comma()?;
        let b = &self.text.as_bytes()[self.pos..];
        let (digits, id) = leading_digits(b)?;
        if digits == 0
            || (digits > 1 && b[0] == b'0')
            || matches!(b.get(digits), Some(b'.' | b'e' | b'E' | b'-' | b'+'))
        {
            return None;
        }
        self.pos += digits;
        (id <= MAX_ID).then_some(id)
    }

    /// The next element, `{}` (blanks allowed inside).
    fn empty_dict(&mut self) -> Option<()> {
        self.comma()?;
        (self.peek()? == b'{' && !self.open(b'}')).then_some(())
    }

    /// The next element, a string without escapes: where its text lies.
    fn plain_string(&mut self) -> Option<Range<usize>> {
        self.comma()?;
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        match self.string()? {
            (_, false) => Some(start..self.pos - 1),
            (_, true) => None,
        }
    }

    /// One value at `level` (1 for an element of a payload's list or
    /// dictionary), as [`Reach`] and [`Value`] decode it.
    fn value<M: Make>(&mut self, level: usize) -> Option<M::Out> {
        match self.peek()? {
            b'[' | b'{' if level > MAX_DEPTH => None,
            b'[' => self.list::<M>(level + 1).map(M::list),
            b'{' => self.dict::<M>(level + 1).map(M::dict),
            b'"' => match self.string()? {
                (s, false) => M::plain_str(s),
                (json, true) => M::decoded(json),
            },
            b'-' | b'0'..=b'9' => self.number::<M>(),
            b'n' => self.literal(b"null").then(|| M::literal(None)),
            b't' => self.literal(b"true").then(|| M::literal(Some(true))),
            b'f' => self.literal(b"false").then(|| M::literal(Some(false))),
            _ => None,
        }
    }

    /// Past a container's opening bracket at `pos`: whether an entry
    /// follows (`false`: it closes at once with `close`).
    fn open(&mut self, close: u8) -> bool {
        self.pos += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        !empty
    }

    /// Past an entry of a container that ends with `close`: whether
    /// another follows; `None` for anything but a comma or `close`.
    fn next_entry(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = self.peek()?;
        self.pos += 1;
        match c {
            b',' => {
                self.ws();
                Some(true)
            }
            _ if c == close => Some(false),
            _ => None,
        }
    }

    /// A list at `pos`, its elements at `level`.
    fn list<M: Make>(&mut self, level: usize) -> Option<M::List> {
        let mut list = M::List::default();
        let mut more = self.open(b']');
        while more {
            M::push(&mut list, self.value::<M>(level)?);
            more = self.next_entry(b']')?;
        }
        Some(list)
    }

    /// A dictionary at `pos`, its values at `level`.
    fn dict<M: Make>(&mut self, level: usize) -> Option<M::Dict> {
        let mut dict = M::Dict::default();
        let mut more = self.open(b'}');
        while more {
            if self.peek()? != b'"' {
                return None;
            }
            let (key, escaped) = self.string()?;
            let key = M::key(key, escaped)?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.ws();
            M::insert(&mut dict, key, self.value::<M>(level)?);
            more = self.next_entry(b'}')?;
        }
        Some(dict)
    }

    /// A string at `pos`: without escapes, its text, checked here (no
    /// control characters; the text is UTF-8 already); with escapes, the
    /// string whole, quotes included, for `serde_json` to check and decode
    /// (`true`).
    fn string(&mut self) -> Option<(&str, bool)> {
        let start = self.pos;
        let b = self.text.as_bytes();
        let mut pos = start + 1;
        loop {
            while clean_block(b, pos) {
                pos += 32;
            }
            match *b.get(pos)? {
                b'"' => {
                    self.pos = pos + 1;
                    self.budget = self.budget.saturating_add(pos - start);
                    return Some((&self.text[start + 1..pos], false));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => pos += 1,
            }
        }
        // The end of a string with escapes: the next quote that no
        // backslash escapes, within what may still be handed over.
        let limit = start.saturating_add(self.budget.checked_sub(HAND_OVER_COST)?);
        loop {
            pos += 2; // the backslash and the byte it escapes
            pos += memchr::memchr2(b'"', b'\\', b.get(pos..limit.min(b.len()))?)?;
            if b[pos] == b'"' {
                break;
            }
        }
        self.pos = pos + 1;
        self.hand_over(start)?;
        Some((&self.text[start..self.pos], true))
    }

    /// Counts the piece from `start` to `pos` as handed to `serde_json`;
    /// `None` past the allowance.
    fn hand_over(&mut self, start: usize) -> Option<()> {
        self.budget = self.budget.checked_sub(self.pos - start + HAND_OVER_COST)?;
        Some(())
    }

    /// A number at `pos`: a short integer here, anything else by
    /// `serde_json` (one rule for what a number is and how far it goes).
    fn number<M: Make>(&mut self) -> Option<M::Out> {
        let start = self.pos;
        let b = self.text.as_bytes();
        let negative = b[start] == b'-';
        let first = start + usize::from(negative);
        let (mut pos, mut n) = (first, 0i64);
        // At most 18 digits fit an i64.
        while let Some(d) = b.get(pos).filter(|c| c.is_ascii_digit() && pos - first < 18) {
            n = n * 10 + i64::from(d - b'0');
            pos += 1;
        }
        let short = pos > first
            && !matches!(b.get(pos), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            // No leading zero (refused), and `-0` is a float.
            && (b[first] != b'0' || (pos == first + 1 && !negative));
        if short {
            self.pos = pos;
            return Some(M::short_int(if negative { -n } else { n }));
        }
        let len = b[start..]
            .iter()
            .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        self.pos = start + len;
        self.hand_over(start)?;
        M::decoded(&self.text[start..self.pos])
    }
}

/// How many ASCII digits `b` starts with, and their value; `None` for 17
/// or more (2^53, the largest ID, has 16). Eight at a time where eight
/// bytes remain: an ID's sixteen digits took a third of decoding a small
/// EVENT one at a time.
fn leading_digits(b: &[u8]) -> Option<(usize, u64)> {
    let (mut len, mut n) = (0, 0u64);
    while let Some(chunk) = b.get(len..len + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let k = digits_in(word);
        if len + k > 16 {
            return None;
        }
        if k == 8 {
            (len, n) = (len + 8, n * 100_000_000 + eight_digits(word));
            continue;
        }
        if k > 0 {
            // The k digits as the end of eight, behind '0's.
            let padded = (word << (8 * (8 - k))) | (ZEROS >> (8 * k));
            n = n * 10u64.pow(k as u32) + eight_digits(padded);
        }
        return Some((len + k, n));
    }
    for &c in &b[len..] {
        if !c.is_ascii_digit() {
            break;
        }
        if len == 16 {
            return None;
        }
        (len, n) = (len + 1, n * 10 + u64::from(c - b'0'));
    }
    Some((len, n))
}

/// Eight ASCII '0's, as a little-endian word.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// How many of the eight bytes of `word` (little-endian: the first byte
/// lowest) are ASCII digits before the first that is not.
fn digits_in(word: u64) -> usize {
    // A digit's byte is now below 10.
    let x = word ^ ZEROS;
    // The high bit of a byte set where it was not a digit: 10 and up reach
    // 0x80 when 0x76 is added, and 0x80 and up have it already. A carry out
    // of such a byte only marks bytes after it.
    let not_digit = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    not_digit.trailing_zeros() as usize / 8
}

/// The number eight ASCII digits make (little-endian: the first byte is
/// the most significant digit), in three multiply-and-add steps.
fn eight_digits(word: u64) -> u64 {
    let v = word - ZEROS;
    let v = (v * 10 + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v * 100 + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v * 10_000 + (v >> 32)) & 0xffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Split<Check> {
        split(text).unwrap_or_else(|| panic!("{text} did not split"))
    }

    #[test]
    fn splits_where_the_payload_starts() {
        let text = r#"[48, 7, {}, "com.example.add" , [2, 3] , {"a": "b"} ] "#;
        let s = ok(text);
        assert_eq!(&text[..s.header_end], r#"[48, 7, {}, "com.example.add""#);
        assert_eq!(&text[s.payload.clone()], r#"[2, 3] , {"a": "b"}"#);
        assert_eq!((s.elements, s.reach()), (2, Some(SerializerSet::ALL)));
        let s = ok(r#"[70,1,{},[]]"#);
        assert_eq!((s.elements, s.reach()), (1, None));
        let s = ok(r#"[8,48,1,{},"wamp.error.x",null,{}]"#);
        assert_eq!((s.elements, s.reach()), (2, None));
        let b: Split<Build> = split(r#"[36,1,2,{},[-5, 0, 7, -0, "a\nb", {"k": [true, null]}]]"#).unwrap();
        assert_eq!(
            b.args.unwrap(),
            vec![
                Value::Int(-5),
                Value::UInt(0),
                Value::UInt(7),
                Value::Float(-0.0),
                Value::Str("a\nb".into()),
                Value::Dict([("k".to_string(), Value::List(vec![Value::Bool(true), Value::Null]))].into()),
            ]
        );
    }

    #[test]
    fn leading_digits_are_counted_and_read_as_one_at_a_time() {
        let one_at_a_time = |b: &[u8]| {
            let len = b.iter().take_while(|c| c.is_ascii_digit()).count();
            (len <= 16).then(|| {
                (
                    len,
                    b[..len].iter().fold(0, |n: u64, d| n * 10 + u64::from(d - b'0')),
                )
            })
        };
        let mut cases: Vec<String> = Vec::new();
        for len in 0..=18 {
            let digits: String = "9081726354453627189".chars().take(len).collect();
            for tail in [
                "",
                "]",
                ",",
                " 1",
                "}",
                "\u{0}",
                ":::::::::",
                "\u{ff}abcdefgh",
                "/",
                "9",
            ] {
                cases.push(format!("{digits}{tail}"));
            }
            cases.push(format!("{}{}", "0".repeat(len), ",1"));
        }
        cases.push(MAX_ID.to_string());
        cases.push((MAX_ID + 1).to_string() + "]");
        cases.push(u64::MAX.to_string());
        for case in cases {
            assert_eq!(
                leading_digits(case.as_bytes()),
                one_at_a_time(case.as_bytes()),
                "{case:?}"
            );
        }
    }

    #[test]
    fn small_frames_split_where_the_walk_reads_the_header() {
        let text = r#" [ 36 , 1 ,9007199254740992, { } , [7, "x"] ] "#;
        let b: Split<Build> = split_small(text).unwrap();
        let Message::Event(e) = b.header.unwrap().into_message(text, Payload::default()) else {
            panic!("an EVENT")
        };
        assert_eq!((e.subscription, e.publication), (1, MAX_ID));
        assert_eq!(e.details, Default::default());
        assert_eq!(b.args.unwrap(), vec![Value::UInt(7), Value::Str("x".into())]);
        let text = r#"[48,0,{},"com.example.add",[],{"a":null}]"#;
        let b: Split<Build> = split_small(text).unwrap();
        let Message::Call(c) = b.header.unwrap().into_message(text, Payload::default()) else {
            panic!("a CALL")
        };
        assert_eq!((c.request, c.procedure.as_str()), (0, "com.example.add"));
        for text in [
            r#"[68,1,2,{},[1]]"#,
            r#"[50,1,{},[1]]"#,
            r#"[70,1,{},null,{"k":1}]"#,
            r#"[16,1,{},"t",[1]]"#,
            r#"[36,1,2,{},[1.5]]"#, // one piece handed over
        ] {
            let s: Split<Check> = split_small(text).unwrap_or_else(|| panic!("{text} did not split"));
            assert!(s.header.is_some(), "{text}");
        }
        // Anything else goes to serde_json whole: other messages, other
        // shapes, what the decoder refuses or words an error for.
        for text in [
            r#"[36,01,2,{},[1]]"#,
            r#"[036,1,2,{},[1]]"#,
            r#"[36,1,2,{"x":1},[1]]"#,
            r#"[36,9007199254740993,2,{},[1]]"#,
            r#"[36,12345678901234567890,2,{},[1]]"#,
            r#"[36,1.0,2,{},[1]]"#,
            r#"[36,1e0,2,{},[1]]"#,
            r#"[36,-1,2,{},[1]]"#,
            r#"[36 1,2,{},[1]]"#,
            r#"[36,1,2,{}]"#,
            r#"[36,1,2,{},[1],{},3]"#,
            r#"[36,1,2,{},[1.5,2.5,3.5,4.5]]"#,
            r#"[48,1,{},"com.\u0061",[1]]"#,
            r#"[48,1,{},"a	b",[1]]"#,
            r#"[48,1,{},7,[1]]"#,
            r#"[1,"realm",{}]"#,
            r#"[8,48,1,{},"wamp.error.x",[1]]"#,
            r#"[65,1,{},"a",[1]]"#,
        ] {
            assert!(split_small::<Check>(text).is_none(), "{text}");
            assert!(split_small::<Build>(text).is_none(), "{text}");
        }
    }

    #[test]
    fn reach_is_the_decoders() {
        // A binary string (escaped NUL, Base64) goes everywhere; a text
        // starting with NUL cannot be JSON.
        let s = ok(r#"[50,1,{},["\u0000AQID"]]"#);
        assert_eq!(s.reach(), Some(SerializerSet::ALL));
        let s = ok(r#"[50,1,{},[1.5e3, -0.25, 12345678901234567890123]]"#);
        assert_eq!(s.reach(), Some(SerializerSet::ALL));
    }

    #[test]
    fn gives_up_on_what_the_decoder_refuses() {
        for bad in [
            r#"[48,1,{},"p",[1,]]"#,
            r#"[48,1,{},"p",[01]]"#,
            r#"[48,1,{},"p",[1e999]]"#,
            r#"[48,1,{},"p",["a	b"]]"#,
            r#"[48,1,{},"p",["\x"]]"#,
            r#"[48,1,{},"p",["\ud800"]]"#,
            r#"[48,1,{},"p",["\u0000 not base64"]]"#,
            r#"[48,1,{},"p",[1],[2]]"#,
            r#"[48,1,{},"p",{"a":1}]"#,
            r#"[48,1,{},"p",[1],{"a":1},3]"#,
            r#"[48,1,{},"p",[1]] x"#,
            r#"[48,1,{},"p",[tru]]"#,
            r#"[48,1,{},"p",[1],{1:2}]"#,
            r#"[48,1,{},"p",[1],{"\q":2}]"#,
            r#"[48,1,{},"p"]"#,
            r#"[1,"realm",{}]"#,
            r#"[48,1,{},"p",["unterminated]]"#,
        ] {
            assert!(split::<Check>(bad).is_none(), "{bad}");
            assert!(split::<Build>(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn what_serde_json_decodes_best_goes_back_to_it() {
        let frame = |args: &str| format!(r#"[16,1,{{}},"t",[{args}]]"#);
        let floats = |n: usize| vec!["1.5"; n].join(",");
        let plain = "x".repeat(64 * 1024);
        // Short integers stay in the walk, however many.
        assert!(split::<Build>(&frame(&vec!["-12345"; 10_000].join(","))).is_some());
        // A few floats or escaped strings are handed over; mostly floats,
        // or a long escaped string, and the frame goes back whole, unless
        // plain strings have saved more than that costs.
        assert!(split::<Check>(&frame(&floats(10))).is_some());
        assert!(split::<Check>(&frame(&floats(100))).is_none());
        assert!(split::<Check>(&frame(&format!(r#""{plain}",{}"#, floats(200)))).is_some());
        assert!(split::<Check>(&frame(&format!(r#""{plain}",{}"#, floats(1_000)))).is_none());
        let escaped = format!(r#""{}""#, "a\\n".repeat(10_000));
        assert!(split::<Build>(&frame(&escaped)).is_none());
        assert!(split::<Build>(&frame(&format!(r#""{plain}",{escaped}"#))).is_some());
    }

    #[test]
    fn nesting_stops_where_the_decoder_does() {
        let nest = |n: usize| format!(r#"[48,1,{{}},"p",[{}1{}]]"#, "[".repeat(n), "]".repeat(n));
        assert!(split::<Check>(&nest(MAX_DEPTH)).is_some());
        assert!(split::<Check>(&nest(MAX_DEPTH + 1)).is_none());
        assert!(split::<Build>(&nest(MAX_DEPTH)).is_some());
        assert!(split::<Build>(&nest(MAX_DEPTH + 1)).is_none());
    }
}
