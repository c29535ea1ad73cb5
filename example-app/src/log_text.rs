//! The command line's log as text: one line per event, in columns that line
//! up however long the names on the page are, every field printable (a
//! stored newline or bidirectional override is shown as an escape, so no
//! value can forge a line).

use audit_core::text::printable;
use unicode_width::UnicodeWidthStr;

use crate::logs::{Entry, actor_text};

/// What a command column says for an imported event, which no command of
/// this program wrote.
pub const IMPORTED: &str = "(imported)";

/// The lines of `entries`, newest first as given: id, time, actor,
/// command, the type's label (the web log's "Event" column: the catalog's
/// label, or the library's for the log's own records) and the event's
/// text, each column as wide as its widest value on the page.
pub fn lines(entries: &[Entry]) -> Vec<String> {
    let rows: Vec<[String; 6]> = entries.iter().map(columns).collect();
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::from("  ");
            for (cell, width) in row.iter().zip(widths) {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.width() + 2));
            }
            line.push_str(&row[5]);
            line
        })
        .collect()
}

/// The six cells of one entry, each printable.
fn columns(entry: &Entry) -> [String; 6] {
    let stored = &entry.stored;
    // An imported event says so where a command's name would be.
    let command = if stored.is_imported() {
        IMPORTED.into()
    } else {
        printable(&stored.command_name)
    };
    [
        format!("#{}", stored.id),
        entry.occurred_at().format("%Y-%m-%d %H:%M:%S").to_string(),
        actor_text(&stored.actor),
        command.into_owned(),
        // The label, or the stored code of a type nobody knows: printable.
        printable(entry.title()).into_owned(),
        entry.text(),
    ]
}
