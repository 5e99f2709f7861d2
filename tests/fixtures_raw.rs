//! Byte ranges of raw JSON values, so bundles reach the engine exactly as written in the fixture
//! (key order, and therefore the document order of errors, preserved).

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// End of the (well-formed) value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b[i] {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

/// Members of the object starting at `start`: key and the value's byte range.
pub fn members(text: &str, start: usize) -> Vec<(String, std::ops::Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, start);
    assert_eq!(b[i], b'{');
    i = skip_ws(b, i + 1);
    while b[i] != b'}' {
        let key_end = string_end(b, i);
        let key: String = serde_json::from_str(&text[i..key_end]).expect("object key");
        i = skip_ws(b, key_end);
        assert_eq!(b[i], b':');
        let v = skip_ws(b, i + 1);
        let end = value_end(b, v);
        out.push((key, v..end));
        i = skip_ws(b, end);
        if b[i] == b',' {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// Byte ranges of the items of the array starting at `start`.
pub fn items(text: &str, start: usize) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, start);
    assert_eq!(b[i], b'[');
    i = skip_ws(b, i + 1);
    while b[i] != b']' {
        let end = value_end(b, i);
        out.push(i..end);
        i = skip_ws(b, end);
        if b[i] == b',' {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// The raw text of member `key` of the object starting at `start`.
pub fn member<'t>(text: &'t str, start: usize, key: &str) -> Option<(&'t str, usize)> {
    members(text, start)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, r)| (&text[r.clone()], r.start))
}
