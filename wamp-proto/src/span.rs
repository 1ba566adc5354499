//! Where a message's payload lies in its frame: the walkers that skip the
//! elements before it, for each serializer. They run only on frames that
//! just decoded, so they never judge validity; anything unexpected makes
//! them give up (`None`), and the payload is then kept as values.

use std::ops::Range;

use crate::serializer::Serializer;

/// The bytes of the `elements` elements after the first `skip` ones of
/// the message's list (the payload, whose element count the decoder
/// knows). Only the elements before it are walked: the payload's own
/// bytes are not read again.
pub(crate) fn tail(
    serializer: Serializer,
    frame: &[u8],
    skip: usize,
    elements: usize,
) -> Option<Range<usize>> {
    match serializer {
        Serializer::Json => json_tail(frame, skip),
        Serializer::MsgPack => {
            let (len, mut pos) = msgpack_array(frame)?;
            for _ in 0..skip {
                pos = msgpack_skip(frame, pos)?;
            }
            (len.checked_sub(skip)? == elements).then_some(pos..frame.len())
        }
        Serializer::Cbor => {
            let (len, mut pos) = cbor_array(frame)?;
            for _ in 0..skip {
                pos = cbor_skip(frame, pos)?;
            }
            match len {
                Some(len) => (len.checked_sub(skip)? == elements).then_some(pos..frame.len()),
                // An indefinite-length list ends with a break byte.
                None => {
                    let end = frame.len().checked_sub(1)?;
                    (frame.get(end) == Some(&0xff) && pos < end).then_some(pos..end)
                }
            }
        }
    }
}

pub(crate) fn json_ws(b: &[u8], mut pos: usize) -> usize {
    while matches!(b.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// Skips one JSON value starting at `pos` (no leading whitespace).
pub(crate) fn json_skip(b: &[u8], mut pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *b.get(pos)? {
            b'"' => {
                pos += 1;
                loop {
                    // The next quote or backslash; an escape skips a byte.
                    pos += memchr::memchr2(b'"', b'\\', b.get(pos..)?)?;
                    if b[pos] == b'"' {
                        break;
                    }
                    pos += 2;
                }
                pos += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                pos += 1;
                continue;
            }
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                pos += 1;
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' if depth > 0 => {
                pos += 1;
                continue;
            }
            _ => {
                // A number or a literal: up to the next delimiter.
                while !matches!(
                    b.get(pos),
                    None | Some(b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    pos += 1;
                }
            }
        }
        if depth == 0 {
            return Some(pos);
        }
    }
}

fn json_tail(b: &[u8], skip: usize) -> Option<Range<usize>> {
    let mut pos = json_ws(b, 0);
    if b.get(pos) != Some(&b'[') {
        return None;
    }
    pos += 1;
    for _ in 0..skip {
        pos = json_skip(b, json_ws(b, pos))?;
        pos = json_ws(b, pos);
        match b.get(pos)? {
            b',' => pos += 1,
            b']' => return None,
            _ => return None,
        }
    }
    let start = json_ws(b, pos);
    // The list's closing bracket is the frame's last non-blank byte.
    let mut end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))?;
    if b[end] != b']' {
        return None;
    }
    while end > start && matches!(b[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    (start < end).then_some(start..end)
}

fn be(b: &[u8], pos: usize, n: usize) -> Option<u64> {
    let bytes = b.get(pos..pos.checked_add(n)?)?;
    Some(bytes.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
}

fn msgpack_array(b: &[u8]) -> Option<(usize, usize)> {
    match *b.first()? {
        m @ 0x90..=0x9f => Some((usize::from(m & 0x0f), 1)),
        0xdc => Some((be(b, 1, 2)? as usize, 3)),
        0xdd => Some((be(b, 1, 4)? as usize, 5)),
        _ => None,
    }
}

/// Where the MessagePack value at the start of `b` ends (for a frame that
/// decoded: what follows is trailing bytes).
pub(crate) fn msgpack_end(b: &[u8]) -> Option<usize> {
    msgpack_skip(b, 0)
}

/// Skips one MessagePack value at `pos`, without recursion.
fn msgpack_skip(b: &[u8], mut pos: usize) -> Option<usize> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let m = *b.get(pos)?;
        pos += 1;
        // (bytes of length field, bytes of fixed content, children per length unit)
        let (len_bytes, fixed, per): (usize, usize, u64) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0, 0),
            0x80..=0x8f => {
                pending += 2 * u64::from(m & 0x0f);
                continue;
            }
            0x90..=0x9f => {
                pending += u64::from(m & 0x0f);
                continue;
            }
            0xa0..=0xbf => (0, usize::from(m & 0x1f), 0),
            0xc4 | 0xd9 => (1, 0, 0),
            0xc5 | 0xda => (2, 0, 0),
            0xc6 | 0xdb => (4, 0, 0),
            0xc7 => (1, 1, 0),
            0xc8 => (2, 1, 0),
            0xc9 => (4, 1, 0),
            0xca => (0, 4, 0),
            0xcb => (0, 8, 0),
            0xcc | 0xd0 => (0, 1, 0),
            0xcd | 0xd1 => (0, 2, 0),
            0xce | 0xd2 => (0, 4, 0),
            0xcf | 0xd3 => (0, 8, 0),
            0xd4 => (0, 2, 0),
            0xd5 => (0, 3, 0),
            0xd6 => (0, 5, 0),
            0xd7 => (0, 9, 0),
            0xd8 => (0, 17, 0),
            0xdc => (2, 0, 1),
            0xdd => (4, 0, 1),
            0xde => (2, 0, 2),
            0xdf => (4, 0, 2),
            0xc1 => return None,
        };
        let len = if len_bytes > 0 { be(b, pos, len_bytes)? } else { 0 };
        pos += len_bytes;
        if per > 0 {
            pending = pending.checked_add(len.checked_mul(per)?)?;
        } else {
            pos = pos.checked_add(fixed)?.checked_add(usize::try_from(len).ok()?)?;
        }
    }
    (pos <= b.len()).then_some(pos)
}

/// A CBOR item's head at `pos`: major type, argument (`None` for
/// indefinite length), and where the content starts.
fn cbor_head(b: &[u8], pos: usize) -> Option<(u8, Option<u64>, usize)> {
    let ib = *b.get(pos)?;
    let (major, info) = (ib >> 5, ib & 0x1f);
    let (arg, next) = match info {
        0..=23 => (Some(u64::from(info)), pos + 1),
        24 => (Some(be(b, pos + 1, 1)?), pos + 2),
        25 => (Some(be(b, pos + 1, 2)?), pos + 3),
        26 => (Some(be(b, pos + 1, 4)?), pos + 5),
        27 => (Some(be(b, pos + 1, 8)?), pos + 9),
        31 => (None, pos + 1),
        _ => return None,
    };
    Some((major, arg, next))
}

fn cbor_array(b: &[u8]) -> Option<(Option<usize>, usize)> {
    let (major, arg, next) = cbor_head(b, 0)?;
    if major != 4 {
        return None;
    }
    Some((arg.map(|n| n as usize), next))
}

/// Skips one CBOR item at `pos`, without recursion: a stack of what each
/// open container still holds (`None`: indefinite, until a break).
fn cbor_skip(b: &[u8], mut pos: usize) -> Option<usize> {
    let mut open: Vec<Option<u64>> = vec![Some(1)];
    loop {
        match open.last_mut() {
            None => return Some(pos),
            Some(Some(0)) => {
                open.pop();
                continue;
            }
            _ => {}
        }
        if *b.get(pos)? == 0xff {
            // A break closes the innermost indefinite container.
            if open.pop()?.is_some() {
                return None;
            }
            pos += 1;
            continue;
        }
        if let Some(Some(n)) = open.last_mut() {
            *n -= 1;
        }
        let (major, arg, next) = cbor_head(b, pos)?;
        pos = next;
        match (major, arg) {
            (0 | 1, Some(_)) => {}
            (2 | 3, Some(len)) => pos = pos.checked_add(usize::try_from(len).ok()?)?,
            (2..=5, None) => open.push(None),
            (4, Some(n)) => open.push(Some(n)),
            (5, Some(n)) => open.push(Some(n.checked_mul(2)?)),
            (6, Some(_)) => open.push(Some(1)),
            // Simple values and floats: the head holds them whole.
            (7, Some(_)) => {}
            _ => return None,
        }
        if pos > b.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tails() {
        let f = br#" [ 48 , 7, {"a":[1,"]"]}, "p\"x" , [1,2] ,{"k":"v"} ] "#;
        let r = tail(Serializer::Json, f, 4, 2).unwrap();
        assert_eq!(&f[r], br#"[1,2] ,{"k":"v"}"#);
        assert!(tail(Serializer::Json, br#"[48,7,{},"p"]"#, 4, 1).is_none());
    }

    #[test]
    fn cbor_indefinite_lists_and_strings() {
        // [_ 48, 1, {_ "k": (_ "v")}, "p", [_ 1, 2], {}]: indefinite list,
        // map, string and payload, walked.
        let f = [
            0x9f, 0x18, 0x30, 0x01, 0xbf, 0x61, b'k', 0x7f, 0x61, b'v', 0xff, 0xff, 0x61, b'p', 0x9f, 0x01,
            0x02, 0xff, 0xa0, 0xff,
        ];
        let r = tail(Serializer::Cbor, &f, 4, 2).unwrap();
        assert_eq!(&f[r], &[0x9f, 0x01, 0x02, 0xff, 0xa0]);
        // The same with a list of definite length, through the decoder.
        let mut f = f.to_vec();
        f[0] = 0x86;
        f.pop();
        let msg = Serializer::Cbor
            .decode_with(&f, crate::serializer::PayloadMode::Encoded)
            .unwrap_or_else(|e| panic!("{e}"));
        let again = Serializer::Cbor.encode(&msg).unwrap();
        assert_eq!(
            Serializer::Cbor.decode(&again).unwrap(),
            Serializer::Cbor.decode(&f).unwrap()
        );
    }

    #[test]
    fn msgpack_skips_every_kind() {
        // [48, 1, {"a": [nil, true, 1.5f32, -3, bin "xy"]}, "p", [300]]
        let mut f = vec![
            0x95, 0x30, 0x01, 0x81, 0xa1, b'a', 0x95, 0xc0, 0xc3, 0xca, 0x3f, 0xc0, 0, 0, 0xfd,
        ];
        f.extend([0xc4, 2, b'x', b'y', 0xa1, b'p', 0x91, 0xcd, 0x01, 0x2c]);
        let r = tail(Serializer::MsgPack, &f, 4, 1).unwrap();
        assert_eq!(&f[r], &[0x91, 0xcd, 0x01, 0x2c]);
        // A count the list's header does not agree with, and truncated
        // input: no answer rather than a wrong one.
        assert!(tail(Serializer::MsgPack, &f, 4, 2).is_none());
        assert!(tail(Serializer::MsgPack, &f[..8], 4, 1).is_none());
    }
}
