//! Natural order of names, as people read them: `user2` before `user10`.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::str::Chars;

/// Compares `a` and `b` by runs: runs of ASCII digits as numbers, other
/// runs by their lowercase characters; names equal so (`a01`, `A1`) are
/// ordered by their text, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        let order = match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                number(&digits(&mut x)).cmp(&number(&digits(&mut y)))
            }
            (Some(c), Some(d)) => {
                x.next();
                y.next();
                c.to_lowercase().cmp(d.to_lowercase())
            }
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// Takes the run of ASCII digits at the front.
fn digits(chars: &mut Peekable<Chars<'_>>) -> String {
    let mut run = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        run.push(c);
    }
    run
}

/// A run of digits as a comparable number of any length: its length
/// without leading zeros, then its digits.
fn number(run: &str) -> (usize, &str) {
    let trimmed = run.trim_start_matches('0');
    (trimmed.len(), trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_names_sort_by_value() {
        let mut names = vec![
            "user10",
            "user2",
            "User1",
            "user1",
            "alice",
            "user02",
            "Bob",
            "user",
            "user99999999999999999999999",
            "user100000000000000000000000",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "alice",
                "Bob",
                "user",
                "User1",
                "user1",
                "user02",
                "user2",
                "user10",
                "user99999999999999999999999",
                "user100000000000000000000000",
            ]
        );
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
    }
}
