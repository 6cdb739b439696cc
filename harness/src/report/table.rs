//! The one plain-text table renderer: left-aligned columns two spaces
//! apart, used by `harness parse` and the run grid alike.

/// Appends `rows` to `out`, each line after `indent`; columns are as wide
/// as their widest cell (in characters), trailing spaces are trimmed, and
/// rows may be shorter than others.
pub(crate) fn table(out: &mut String, indent: &str, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters_and_lines_are_trimmed() {
        let rows = vec![
            vec!["step".to_owned(), "job 1".to_owned()],
            vec!["é long".to_owned(), String::new()],
            vec!["x".to_owned()],
        ];
        let mut out = String::new();
        table(&mut out, "  ", &rows);
        assert_eq!(out, "  step    job 1\n  é long\n  x\n");
    }
}
